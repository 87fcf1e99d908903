// What every subject's handlers are given, and the rows of meta.proto that several subjects answer with
// (a blob, a file) as their messages.

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { BlobRow, FileRow } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { QuotaRules } from "./quota.ts";
import type { TotpSecretBox } from "./totp-secret-box.ts";

/** The database, the clock and the limits the handlers of every filestore.meta.v1 service share. */
export interface MetaDeps {
  db: Db;
  now: () => number;
  /** How deep folders may nest (MAX_FOLDER_DEPTH). */
  maxFolderDepth: number;
  /** Versions a file keeps (VERSIONS_KEEP); older ones are dropped as new ones appear. */
  versionsKeep: number;
  /** Quotas (DEFAULT_QUOTA_BYTES): what adding content is charged under. */
  quota: QuotaRules;
  /** Seals TOTP secrets at rest under a key from INTERNAL_SECRET (noTotpSecretBox without one). */
  totpBox: TotpSecretBox;
}

export const blobRecord = (b: BlobRow) => ({
  sha256: b.sha256,
  sha1: b.sha1,
  size: BigInt(b.size),
  backend: b.backend,
  location: b.location,
  state: b.state,
  refcount: b.refcount,
  crc32: b.crc32 === null || b.crc32 === undefined ? undefined : Number(b.crc32),
});

export const fileRecord = (f: FileRow & { sha1?: string }) => ({
  id: f.id,
  ownerId: f.owner_id,
  parentId: f.parent_id,
  name: f.name,
  kind: f.kind,
  blobSha256: f.blob_sha256 ?? "",
  size: BigInt(f.size),
  status: f.status,
  createdAt: timestampFromMs(Number(f.created_at)),
  updatedAt: timestampFromMs(Number(f.updated_at)),
  deletedAt: f.deleted_at === null ? undefined : timestampFromMs(Number(f.deleted_at)),
  sha1: f.sha1 ?? "",
});

/** A timestamp, or unset for a column that is null. */
export const msOrUndefined = (ms: number | null) => (ms === null ? undefined : timestampFromMs(ms));
