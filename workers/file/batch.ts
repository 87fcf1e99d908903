// FileService.CopyFile and BatchFiles. A batch runs its items one after another, each one meta call (one
// transaction), so an item's failure leaves the others done; each item answers for itself with the entry
// or the Connect code and message it failed with.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import {
  type BatchFilesRequest,
  type BatchItemResult,
  BatchItemResultSchema,
  BatchOperation,
  WatchFilesResponse_Change as Change,
  ConflictPolicy,
  type CopyFileRequest,
  type File,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import * as files from "./files.ts";

/** The longest list of ids one BatchFiles call takes. */
export const MAX_BATCH = 1000;

const POLICY: Record<ConflictPolicy, string> = {
  [ConflictPolicy.UNSPECIFIED]: "fail",
  [ConflictPolicy.FAIL]: "fail",
  [ConflictPolicy.RENAME]: "rename",
  [ConflictPolicy.REPLACE]: "replace",
};

function policyOf(p: ConflictPolicy): string {
  const policy = POLICY[p];
  if (!policy) throw invalidArgument("on_conflict must be one of the ConflictPolicy values");
  return policy;
}

export async function copyFile(
  deps: files.FileDeps,
  who: Identity,
  req: Pick<CopyFileRequest, "id" | "newParentId" | "name" | "onConflict">,
): Promise<File> {
  if (!req.id) throw invalidArgument("id is required");
  const res = await deps.meta.copyFile({
    ownerId: who.userId,
    id: req.id,
    newParentId: req.newParentId,
    name: req.name,
    onConflict: policyOf(req.onConflict),
  });
  if (!res.file) throw new Error("meta returned no file");
  const file = publicFile(res.file);
  // REPLACE answers the file it gave a new version: updated, not created.
  deps.onChange?.(who.userId, res.replaced ? Change.UPDATED : Change.CREATED, file, "copy");
  return file;
}

/** "NotFound" → "not_found": the code's name as Connect writes it on the wire. */
const codeName = (code: Code) => Code[code].replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());

async function runItem(
  deps: files.FileDeps,
  who: Identity,
  req: BatchFilesRequest,
  id: string,
): Promise<File | undefined> {
  switch (req.operation) {
    case BatchOperation.MOVE:
      return files.moveFile(deps, who, id, req.newParentId);
    case BatchOperation.COPY:
      return copyFile(deps, who, { id, newParentId: req.newParentId, name: "", onConflict: req.onConflict });
    case BatchOperation.DELETE:
      await files.deleteFile(deps, who, id);
      return files.getFile(deps, who, id);
    case BatchOperation.RESTORE:
      return files.restoreFile(deps, who, id);
    case BatchOperation.PURGE:
      await files.purgeFile(deps, who, id);
      return undefined;
    default:
      throw invalidArgument("operation must be one of the BatchOperation values");
  }
}

export async function batchFiles(
  deps: files.FileDeps,
  who: Identity,
  req: BatchFilesRequest,
): Promise<BatchItemResult[]> {
  if (!BatchOperation[req.operation] || req.operation === BatchOperation.UNSPECIFIED)
    throw invalidArgument("operation is required: MOVE, COPY, DELETE, RESTORE or PURGE");
  if (req.ids.length === 0) throw invalidArgument("ids is required: the entries to act on");
  if (req.ids.length > MAX_BATCH)
    throw invalidArgument(`at most ${MAX_BATCH} ids per batch (got ${req.ids.length}): split the list`);
  const takesDestination = req.operation === BatchOperation.MOVE || req.operation === BatchOperation.COPY;
  if (!takesDestination && req.newParentId)
    throw invalidArgument("new_parent_id applies to MOVE and COPY only");
  if (req.operation !== BatchOperation.COPY && req.onConflict !== ConflictPolicy.UNSPECIFIED)
    throw invalidArgument("on_conflict applies to COPY only");
  policyOf(req.onConflict);
  const results: BatchItemResult[] = [];
  for (const id of req.ids) {
    try {
      if (!id) throw invalidArgument("id is required");
      const file = await runItem(deps, who, req, id);
      results.push(create(BatchItemResultSchema, { id, ok: true, file }));
    } catch (err) {
      // Errors a user can act on carry their code; anything else is internal and says no more.
      const e = err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal);
      results.push(
        create(BatchItemResultSchema, { id, ok: false, code: codeName(e.code), message: e.rawMessage }),
      );
    }
  }
  return results;
}
