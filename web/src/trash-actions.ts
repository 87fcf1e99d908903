// What the trash's buttons do: restore or delete for good a selection (one BatchFiles call, answered per
// item, so that one failure leaves the others done), and empty the whole trash.
import { BatchOperation, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { confirmAction } from "./dialogs.ts";
import type { DriveState } from "./drive-state.ts";

export async function restoreMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  await runBatch(drive, entries, BatchOperation.RESTORE, "Restored");
}

export async function purgeMany(drive: DriveState, entries: StoredFile[]): Promise<void> {
  if (entries.length === 0) return;
  const what = entries.length === 1 ? (entries[0] as StoredFile).name : `${entries.length} items`;
  const sure = await confirmAction("Delete forever?", `${what} will be gone for good.`, "Delete forever");
  if (sure) await runBatch(drive, entries, BatchOperation.PURGE, "Deleted", " for good");
}

export async function emptyTrash(drive: DriveState): Promise<void> {
  const sure = await confirmAction(
    "Empty the trash?",
    "Everything in the trash will be gone for good. This cannot be undone.",
    "Empty trash",
  );
  if (!sure) return;
  const { count } = await files.emptyTrash({});
  drive.selected.clear();
  drive.list.previous = [];
  drive.list.token = "";
  drive.say(count === 1 ? "Emptied the trash (1 item)" : `Emptied the trash (${count} items)`);
  void drive.load();
}

/** One batch call for the entries; says what was done, or shows what failed (the rest is still done). */
async function runBatch(
  drive: DriveState,
  entries: StoredFile[],
  operation: BatchOperation,
  verb: string,
  tail = "",
): Promise<void> {
  if (entries.length === 0) return;
  const { results } = await files.batchFiles({ operation, ids: entries.map((f) => f.id) });
  drive.selected.clear();
  void drive.load();
  const names = new Map(entries.map((f) => [f.id, f.name]));
  const failed = results.filter((r) => !r.ok);
  const done = results.length - failed.length;
  const first = failed[0];
  if (!first) {
    drive.say(`${verb} ${done === 1 ? names.get(results[0]?.id ?? "") : `${done} items`}${tail}`);
    return;
  }
  const about = names.get(first.id) ?? "an item";
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed)` : "";
  const rest = done > 0 ? `; ${done} other${done === 1 ? "" : "s"} ${verb.toLowerCase()}${tail}` : "";
  drive.fail(new Error(`${first.message || first.code}${more}${rest}`), about);
}
