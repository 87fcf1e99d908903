import type { Kysely } from "kysely";

// Leases for background work that one replica at a time should do (the file worker's periodic consistency
// check): whoever holds a name until expires_at does it; the others skip. A holder renews its lease while
// it works; a replica that dies leaves a lease that simply expires.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("maintenance_leases")
    .addColumn("name", "varchar(64)", (c) => c.primaryKey())
    // A random id per process; "" when never held.
    .addColumn("holder", "varchar(64)", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("maintenance_leases").execute();
}
