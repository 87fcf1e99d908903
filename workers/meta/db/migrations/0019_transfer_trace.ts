import type { Kysely } from "kysely";

// The trace context of the work that recorded a transfer job (the upload's, when tracing is on), kept in
// the outbox row so that the relay publishes it with the job and the copy joins the upload's trace.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("transfer_jobs").addColumn("traceparent", "varchar(64)").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("transfer_jobs").dropColumn("traceparent").execute();
}
