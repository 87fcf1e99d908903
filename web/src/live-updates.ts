// Keeps the list current: WatchFiles streams the user's changes (from other tabs and devices too) and each
// one reloads the list, coalesced; a dropped stream reconnects with backoff.
import { Code } from "@connectrpc/connect";
import { codeOf, files } from "./api.ts";
import type { DriveState } from "./drive-state.ts";

/** A reload 150 ms after the last call: a burst of changes (a folder upload) costs one list request. */
export function reloadSoon(load: () => Promise<void>): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 150);
  };
}

export async function watchFiles(drive: DriveState, signal: AbortSignal): Promise<void> {
  for (let delay = 1000; !signal.aborted; delay = Math.min(delay * 2, 30_000)) {
    try {
      for await (const _ of files.watchFiles({}, { signal })) {
        delay = 1000;
        drive.scheduleReload();
      }
    } catch (err) {
      // Without WatchFiles the list is reloaded after each action instead.
      if (signal.aborted || codeOf(err) === Code.Unimplemented || codeOf(err) === Code.Unauthenticated)
        return;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
