// The one place that decides which name an entry takes in a folder: exactly one active entry per name
// (held by the database's unique index files_active_name, see migration 0010), and a conflict policy for
// when the name is taken. Every way of creating an entry (upload, instant upload, folder, move, restore,
// copy) goes through placeName inside its transaction, after the owner's lock (content.lockOwner).
//
// Names compare exactly (case-sensitive, NFC as checkFileName made them). The database may compare with a
// case-folding collation (MariaDB's default); lookups therefore read candidates and compare in JavaScript.
import { Code } from "@connectrpc/connect";
import { Reason, reasonError } from "../../core/reasons.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { firstFreeName } from "../lib/names.ts";
import { type Db, isUniqueViolation } from "./db/database.ts";
import { isMysql } from "./db/dialect.ts";
import type { FileKind } from "./db/schema.ts";

export { ConflictPolicy };

/** An active entry of that name already sits in the target folder (policy FAIL, or nothing to replace). */
export class NameTakenError extends Error {
  constructor(
    readonly taken: string,
    readonly parentId: string,
  ) {
    super(`an active entry named "${taken}" already exists in that folder`);
  }
}

/**
 * REPLACE met a folder on either side (folders have no versions to keep what they held): refused like
 * FAIL. A NameTakenError, so callers that answer it as one keep doing so; copy answers InvalidArgument.
 */
export class FolderReplaceError extends NameTakenError {}

/** The answer to a NameTakenError: AlreadyExists with reason NAME_TAKEN (metadata: the name). */
export const nameTakenStatus = (e: NameTakenError, message?: string) =>
  reasonError(
    message ??
      `${e.message}: choose another name, or send on_conflict "rename" (keep both) or "replace" (a new version)`,
    Code.AlreadyExists,
    Reason.NAME_TAKEN,
    { name: e.taken },
  );

/** Where the entry goes: the name it takes, and with REPLACE the active file it replaces. */
export interface Placement {
  name: string;
  replaces?: { id: string; blob_sha256: string | null; size: number };
}

/** What the database layer does with UNSPECIFIED: services choose their own default before calling. */
const effective = (p: ConflictPolicy) => (p === ConflictPolicy.UNSPECIFIED ? ConflictPolicy.FAIL : p);

/** `LIKE` pattern for names starting with `prefix` (wildcards escaped). */
const startsWith = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Active entries of the folder whose name starts with `prefix` (a superset under a folding collation). */
function activeNamed(tx: Db, ownerId: string, parentId: string) {
  let q = tx
    .selectFrom("files")
    .select(["id", "name", "kind", "blob_sha256", "size"])
    .where("owner_id", "=", ownerId)
    .where("parent_id", "=", parentId)
    .where("status", "=", "active");
  // A locking read sees rows committed after this transaction's snapshot (the unique-index race below).
  if (isMysql(tx)) q = q.forUpdate();
  return q;
}

/**
 * The name `name` takes in folder parentId under `policy` (UNSPECIFIED = FAIL here). FAIL: the name, or
 * NameTakenError. RENAME: the name, or the first free "name (n).ext". REPLACE: the name, with the active
 * file it replaces; a folder on either side cannot be replaced (NameTakenError, as FAIL). `kind` is what
 * is being placed; `self` an entry that is not in the way of itself (a move within its own folder).
 */
export async function placeName(
  tx: Db,
  ownerId: string,
  parentId: string,
  name: string,
  policy: ConflictPolicy,
  kind: FileKind = "file",
  self?: string,
): Promise<Placement> {
  const same = (await activeNamed(tx, ownerId, parentId).where("name", "=", name).execute()).filter(
    (r) => r.name === name && r.id !== self,
  );
  const clash = same[0];
  if (!clash) return { name };
  switch (effective(policy)) {
    case ConflictPolicy.RENAME: {
      const stem = name.replace(/(\.[^.]*)?$/, "").replace(/ \(\d+\)$/, "");
      const rows = await activeNamed(tx, ownerId, parentId).where("name", "like", startsWith(stem)).execute();
      return { name: firstFreeName(name, new Set([name, ...rows.map((r) => r.name)])) };
    }
    case ConflictPolicy.REPLACE:
      if (kind === "file" && clash.kind === "file")
        return { name, replaces: { id: clash.id, blob_sha256: clash.blob_sha256, size: Number(clash.size) } };
      throw new FolderReplaceError(name, parentId);
    default:
      throw new NameTakenError(name, parentId);
  }
}

/**
 * placeName, then `write` with the placement; when `write` hits the unique index anyway (another
 * transaction took the name in between), places again: RENAME picks the next free name, the other
 * policies see the new entry. Each write is one statement, undone alone by the database on a violation.
 */
export async function withPlacedName<T>(
  tx: Db,
  target: { ownerId: string; parentId: string; name: string; kind?: FileKind; self?: string },
  policy: ConflictPolicy,
  write: (p: Placement) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const p = await placeName(
      tx,
      target.ownerId,
      target.parentId,
      target.name,
      policy,
      target.kind,
      target.self,
    );
    try {
      return await write(p);
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 5)
        throw isUniqueViolation(err) ? new NameTakenError(target.name, target.parentId) : err;
    }
  }
}
