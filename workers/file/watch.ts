// WatchFiles: the caller's changes from the event bus as they happen, whichever process made them (file
// workers, uploads, the retention purge). A client that reconnects with the last event id it saw resumes
// right after it; when the bus no longer holds what came after, it gets one `reload` response (list the
// files again) and then the changes that follow.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WatchFilesResponseSchema } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { decodeFileEvent, publishers } from "../lib/bus/events.ts";
import { type EventBus, isEventId } from "../lib/bus/types.ts";
import { invalidArgument } from "../lib/errors.ts";
import type { OnChange, OnUnreferenced } from "./files.ts";

type Response = MessageInitShape<typeof WatchFilesResponseSchema>;

export function checkCursor(after: string): string {
  if (after && !isEventId(after))
    throw invalidArgument("after_event_id must be the event_id of a response (or empty: from now on)");
  return after;
}

/** `ownerId`'s changes after the event `after` (from now on when empty), until `signal` aborts. */
export async function* fileChanges(
  bus: EventBus,
  ownerId: string,
  after: string,
  signal: AbortSignal,
): AsyncGenerator<Response> {
  // Every file event starts with its owner (events.ts): others' are skipped without parsing them.
  const mine = `{"ownerId":${JSON.stringify(ownerId)},`;
  for await (const d of bus.subscribe("files", checkCursor(after), signal)) {
    if (d.reload) {
      yield { reload: true, eventId: d.id };
      continue;
    }
    if (!d.body.startsWith(mine)) continue;
    const e = decodeFileEvent(d.body);
    if (e) yield { change: e.change, file: e.file, eventId: d.id };
  }
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
