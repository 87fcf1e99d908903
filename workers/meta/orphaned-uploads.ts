// Upload sessions of deleted accounts (recorded by account-deletion.ts): their rows are gone, their part
// bytes are not. The upload sweep takes them with the expired sessions and deletes their parts.
import type { Db } from "./db/database.ts";
import type { SessionRow } from "./uploads.ts";

/**
 * The sessions of deleted accounts (account-deletion.ts), as aborted sessions whose row is gone: the
 * sweep deletes their parts (and a completion attempt's assembly) as for any aborted session.
 */
export async function orphanedSessions(db: Db, limit: number): Promise<SessionRow[]> {
  const rows = await db.selectFrom("orphaned_upload_sessions").selectAll().limit(limit).execute();
  return rows.map((o) => ({
    id: o.session_id,
    owner_id: "",
    parent_id: "",
    name: "",
    size: 0,
    sha256: null,
    sha1: null,
    part_size: 0,
    part_count: 0,
    backend: o.backend,
    state: "aborted" as const,
    file_id: null,
    created_at: Number(o.created_at),
    expires_at: Number(o.created_at),
    completion_owner: o.completion_owner,
  }));
}
