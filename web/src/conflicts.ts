// Conflicts: an upload, a move or a copy puts an entry where its name is taken. The user keeps
// both (the new entry gets the first free "name (2).ext"), replaces (files only: the existing file keeps
// its id, links and shares and gains a version) or skips it, and may apply the answer to the rest of the
// batch. The answers map to the contract's ConflictPolicy (RENAME, REPLACE; skip sends nothing).
// The dialog itself is conflict-dialog.ts; this part has no DOM, so that it is unit-tested.
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";

export type Choice = "rename" | "replace" | "skip";

export interface Conflict {
  /** The name that is taken (an upload in a dropped folder shows its path: "photos/a.jpg"). */
  name: string;
  /** Only a file can replace a file; a folder (on either side) can be kept both or skipped. */
  canReplace: boolean;
  /** More conflicts may follow in this batch: offer "Apply to all". */
  more: boolean;
}

export const policyOf = (c: Exclude<Choice, "skip">): ConflictPolicy =>
  c === "rename" ? ConflictPolicy.RENAME : ConflictPolicy.REPLACE;

/**
 * The answers of one batch (the files picked or dropped together, the entries moved or copied together):
 * one dialog at a time, and an answer applied to all answers the rest without asking — except "replace"
 * for an entry that cannot be replaced, which is asked about on its own.
 */
export function conflictResolver(
  ask: (c: Conflict) => Promise<{ choice: Choice; all: boolean }>,
): (c: Conflict) => Promise<Choice> {
  let forAll: Choice | undefined;
  let last: Promise<unknown> = Promise.resolve();
  return (c) => {
    const next = last.then(async () => {
      if (forAll && (forAll !== "replace" || c.canReplace)) return forAll;
      const { choice, all } = await ask(c);
      if (all) forAll = choice;
      return choice;
    });
    last = next.catch(() => undefined);
    return next;
  };
}
