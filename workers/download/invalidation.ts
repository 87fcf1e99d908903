// The lookup cache follows the event bus: a file event drops every cached lookup of that file's owner
// (a trashed folder hides its whole subtree, an upload may replace content: per owner is simple and
// always right), and lookups without an owner (the legacy newest-by-SHA-1) on any event. A reload signal
// (events were lost) drops everything. Runs until `signal` aborts.
import type { ExpiringCache } from "../../core/cache.ts";
import { fileEventKey } from "../lib/bus/events.ts";
import type { EventBus } from "../lib/bus/types.ts";
import type { Logger } from "../lib/log.ts";

export async function dropOnFileEvents(
  bus: EventBus,
  lookups: ExpiringCache<string, unknown>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  try {
    for await (const d of bus.subscribe("files", "", signal)) {
      if (d.reload) {
        lookups.clear();
        continue;
      }
      const key = fileEventKey(d.body);
      if (!key) continue;
      lookups.deleteTag(key.ownerId);
      lookups.deleteTag("");
    }
  } catch (err) {
    // The bus retries on its own: a subscription does not fail. Should it, the expiry still bounds staleness.
    if (!signal.aborted)
      log.error("following file events failed: the lookup cache relies on its expiry", { err: String(err) });
  }
}
