import type { Kysely } from "kysely";

// WebDAV dead properties (DavPropertyService): what a client stores on an entry with PROPPATCH, kept
// verbatim. file_id "" is the owner's root (which has no files row, hence no foreign key on file_id). Rows
// of an entry purged for good stay behind (ids are never reused, so nothing reads them) until the user goes.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("dav_properties")
    .addColumn("owner_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("file_id", "varchar(36)", (c) => c.notNull())
    .addColumn("namespace", "varchar(255)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("dav_properties_pk", ["owner_id", "file_id", "namespace", "name"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("dav_properties").execute();
}
