// bench:dav's big folder, written straight through the data layer (not 10 000 HTTP uploads): a folder of
// `count` file rows that all name one existing blob, in batches of 500 inside one transaction, with what
// every other write path keeps in step — the search index of names (name_key and grams), the blob's
// reference count and the owner's usage — so the database stays as consistent as if each were uploaded.
import { sql } from "kysely";
import { openDatabase } from "../workers/meta/db/database.ts";
import { transact } from "../workers/meta/db/transact.ts";
import { createFolder } from "../workers/meta/files.ts";
import { insertGrams, nameKey } from "../workers/meta/name-index.ts";
import { BenchError } from "./harness.ts";

const BATCH = 500;

/**
 * Adds folder `folderName` to the root of the user whose file `templateId` is, holding `count` files
 * "file-00000.txt"… with that file's content; returns the folder's id.
 */
export async function seedBigFolder(
  databaseUrl: string,
  templateId: string,
  folderName: string,
  count: number,
): Promise<string> {
  const db = openDatabase(databaseUrl);
  try {
    const template = await db.selectFrom("files").selectAll().where("id", "=", templateId).executeTakeFirst();
    if (!template?.blob_sha256) throw new BenchError(`no file ${templateId} with content to copy`);
    const { owner_id: ownerId, blob_sha256: sha256 } = template;
    const size = Number(template.size);
    const now = Date.now();
    const folder = await createFolder(db, { ownerId, parentId: "", name: folderName }, now);
    await transact(db, async (tx) => {
      for (let from = 0; from < count; from += BATCH) {
        const rows = Array.from({ length: Math.min(BATCH, count - from) }, (_, i) => {
          const name = `file-${String(from + i).padStart(5, "0")}.txt`;
          return {
            id: crypto.randomUUID(),
            owner_id: ownerId,
            parent_id: folder.id,
            name,
            name_key: nameKey(name),
            kind: "file" as const,
            blob_sha256: sha256,
            size,
            status: "active" as const,
            created_at: now,
            updated_at: now + from + i,
            deleted_at: null,
            trashed_with: null,
          };
        });
        await tx.insertInto("files").values(rows).execute();
        await insertGrams(tx, rows);
      }
      await tx
        .updateTable("blobs")
        .set({ refcount: sql`refcount + ${count}` })
        .where("sha256", "=", sha256)
        .execute();
      await tx
        .updateTable("users")
        .set({ used_bytes: sql`used_bytes + ${count * size}` })
        .where("id", "=", ownerId)
        .execute();
    });
    return folder.id;
  } finally {
    await db.destroy();
  }
}
