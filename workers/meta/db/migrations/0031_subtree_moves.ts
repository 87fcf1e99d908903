import type { Kysely } from "kysely";

// A folder's trash or restore in progress (workers/meta/subtree-moves.ts): the folder's subtree moves in
// short batches, each its own transaction, and this row says the move is not finished, so that any later
// call on that folder, or meta's start after a crash, finishes it first. Deleted in the last batch.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("subtree_moves")
    .addColumn("root_id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull())
    // "trash" or "restore".
    .addColumn("op", "varchar(8)", (c) => c.notNull())
    // trash: the rows' deleted_at; restore: the folder's updated_at.
    .addColumn("at", "bigint", (c) => c.notNull())
    // restore: the folder it returns to ("" = the root) and the conflict policy for its name.
    .addColumn("parent_id", "varchar(36)", (c) => c.notNull())
    .addColumn("policy", "integer", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("subtree_moves").execute();
}
