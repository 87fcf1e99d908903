// Move, copy and delete of many entries through FileService.BatchFiles: one call per 1000 entries, an
// answer per entry. Moves and copies go first under FAIL, so that nothing is asked when no name is taken
// (the server is the one that knows; a listing of the target could be stale); the entries whose name is
// taken go to the conflict dialog and are sent again under the answer.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BatchOperation,
  ConflictPolicy,
  type File as StoredFile,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { askConflict } from "./conflict-dialog.ts";
import { conflictResolver, policyOf } from "./conflicts.ts";
import { isFolder } from "./file-kinds.ts";

/** The most ids one BatchFiles call takes. */
const MAX_BATCH = 1000;

/** What a batch did: the entries that failed (with their error) and how many were skipped. */
export interface Outcome {
  failed: Map<StoredFile, unknown>;
  skipped: number;
}

/** The Connect code a batch item names ("already_exists" → Code.AlreadyExists). */
export function codeNamed(name: string): Code {
  const pascal = name.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase());
  const code = (Code as unknown as Record<string, Code | undefined>)[pascal];
  return typeof code === "number" ? code : Code.Unknown;
}

/** Runs one operation over the entries; the errors by entry (a call that fails as a whole fails each). */
async function batch(
  operation: BatchOperation,
  entries: StoredFile[],
  target = "",
  onConflict = ConflictPolicy.UNSPECIFIED,
): Promise<Map<StoredFile, unknown>> {
  const failed = new Map<StoredFile, unknown>();
  for (let i = 0; i < entries.length; i += MAX_BATCH) {
    const chunk = entries.slice(i, i + MAX_BATCH);
    try {
      const { results } = await files.batchFiles({
        operation,
        ids: chunk.map((f) => f.id),
        newParentId: target,
        onConflict,
      });
      chunk.forEach((f, j) => {
        const r = results[j];
        if (!r?.ok)
          failed.set(f, new ConnectError(r?.message ?? "no answer for this entry", codeNamed(r?.code ?? "")));
      });
    } catch (err) {
      for (const f of chunk) failed.set(f, err);
    }
  }
  return failed;
}

export const deleteMany = async (entries: StoredFile[]): Promise<Outcome> => ({
  failed: await batch(BatchOperation.DELETE, entries),
  skipped: 0,
});

/** Sends entries again under a policy: copies in one batch; moves one MoveFile each (a batch MOVE takes no policy). */
async function again(
  op: "move" | "copy",
  entries: StoredFile[],
  target: string,
  policy: ConflictPolicy,
): Promise<Map<StoredFile, unknown>> {
  if (op === "copy") return batch(BatchOperation.COPY, entries, target, policy);
  const failed = new Map<StoredFile, unknown>();
  for (const f of entries)
    await files
      .moveFile({ id: f.id, newParentId: target, onConflict: policy })
      .catch((err) => failed.set(f, err));
  return failed;
}

/** Moves or copies entries into `target`, asking what to do about each name that is taken there. */
export async function placeMany(
  op: "move" | "copy",
  entries: StoredFile[],
  target: string,
  ask = conflictResolver(askConflict),
): Promise<Outcome> {
  const failed = await batch(op === "move" ? BatchOperation.MOVE : BatchOperation.COPY, entries, target);
  const taken = entries.filter((f) => ConnectError.from(failed.get(f) ?? "").code === Code.AlreadyExists);
  let skipped = 0;
  const byPolicy = new Map<ConflictPolicy, StoredFile[]>();
  for (const [i, f] of taken.entries()) {
    const choice = await ask({ name: f.name, canReplace: !isFolder(f), more: i < taken.length - 1 });
    failed.delete(f);
    if (choice === "skip") {
      skipped++;
      continue;
    }
    const policy = policyOf(choice);
    byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), f]);
  }
  for (const [policy, group] of byPolicy)
    for (const [f, err] of await again(op, group, target, policy)) failed.set(f, err);
  return { failed, skipped };
}
