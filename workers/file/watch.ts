// WatchFiles: the caller's changes from the event bus as they happen, whichever process made them (file
// workers, uploads, the retention purge). A client that reconnects with the last event id it saw resumes
// right after it; when the bus no longer holds what came after, it gets one `reload` response (list the
// files again) and then the changes that follow.
import { decodeFileEvent, publishers } from "../lib/bus/events.ts";
import { busFeed } from "../lib/bus/feed.ts";
import type { EventBus } from "../lib/bus/types.ts";
import type { OnChange, OnUnreferenced } from "./files.ts";

/** `ownerId`'s changes after the event `after` (from now on when empty), until `signal` aborts. */
export function fileChanges(bus: EventBus, ownerId: string, after: string, signal: AbortSignal) {
  // Every file event starts with its owner (events.ts): others' are skipped without parsing them.
  const mine = `{"ownerId":${JSON.stringify(ownerId)},`;
  return busFeed(bus, "files", after, signal, (body) => {
    const e = body.startsWith(mine) ? decodeFileEvent(body) : undefined;
    return e && { change: e.change, file: e.file };
  });
}

/** The FileService's `onChange`: each committed change as a file event on the bus. */
export function publishChanges(bus: EventBus): OnChange {
  const publish = publishers(bus);
  return (ownerId, change, file, op) => publish.fileChanged({ ownerId, change, file, op });
}

/** The FileService's and GC's `onUnreferenced`: each blob whose last reference a purge dropped, on the bus. */
export function publishUnreferenced(bus: EventBus): OnUnreferenced {
  const publish = publishers(bus);
  return (sha256s) => {
    for (const sha256 of sha256s) publish.blobUnreferenced({ sha256 });
  };
}
