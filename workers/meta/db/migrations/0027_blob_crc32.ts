import type { Kysely } from "kysely";

// Each blob's CRC-32 (the ZIP checksum, ISO-HDLC / zlib's), so that a folder ZIP of content whose CRC-32 is
// known sends its bytes without computing one over them (workers/download/zip.ts). Null while not known:
// content stored before this column, until a ZIP that reads it through records it (SetBlobCrc32), or an
// upload that computed it brings it along. bigint: a CRC-32 is unsigned, past MariaDB's signed integer.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("blobs").addColumn("crc32", "bigint").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("blobs").dropColumn("crc32").execute();
}
