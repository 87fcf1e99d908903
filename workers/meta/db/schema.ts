// The typed database schema. Times are epoch milliseconds (BIGINT) so both dialects agree exactly.
import type { Generated } from "kysely";

export interface UsersTable {
  id: string;
  username: string;
  /** Lower-cased username; unique, so "Alice" and "alice" cannot both exist. */
  username_key: string;
  password_hash: string;
  created_at: number;
  last_active_at: number;
  /** Quotas (workers/meta/quota.ts): the user's own quota in bytes (0: unlimited); null: DEFAULT_QUOTA_BYTES. */
  quota_bytes?: number | null;
  /** Logical bytes charged: files (active and trashed) and versions. */
  used_bytes?: number;
  /** Declared sizes of the user's live upload sessions. */
  reserved_bytes?: number;
  /** Bytes held by bodies being received on a data plane, and when that hold last grew (ms). */
  pending_bytes?: number;
  pending_at?: number | null;
  /** Administration (migration 0018): 1 for an administrator. */
  admin?: number;
  /** When an administrator disabled the account; null while enabled. */
  disabled_at?: number | null;
  /** 1 after an administrator set the password: the next signin must choose a new one. */
  must_change_password?: number;
}

export interface RefreshTokensTable {
  /** SHA-256 hex of the token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  /** Every rotation of one sign-in shares a family; replaying a used token revokes the family. */
  family_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  /** When the family's sign-in happened (copied along rotations); null for tokens older than 0017. */
  session_created_at?: number | null;
  /** The client of the sign-in or refresh that made this token ("" or null: unknown). */
  client_address?: string | null;
  user_agent?: string | null;
}

/** "ready": readable and linkable; "deleting": claimed by garbage collection, never linked again. */
export type BlobState = "ready" | "deleting";

export interface BlobsTable {
  sha256: string;
  /** Lower-case hex, or "" while not known yet (modern uploads skip it; a background backfill fills it in). */
  sha1: string;
  size: number;
  backend: string;
  /** Where the backend keeps the bytes (a relative path or an object key). */
  location: string;
  state: BlobState;
  /** Number of file rows (active or in the trash) and file versions that reference this content. */
  refcount: number;
  created_at: number;
  /** When refcount last dropped to 0; garbage collection waits a grace period after it. */
  unreferenced_at: number | null;
  /** The content's CRC-32 (unsigned), or null while not known (migration 0027). */
  crc32?: number | null;
}

export type FileKind = "file" | "folder";
export type FileStatus = "active" | "trashed";

export interface FilesTable {
  id: string;
  owner_id: string;
  /** Folder id, or "" for the root. */
  parent_id: string;
  name: string;
  kind: FileKind;
  blob_sha256: string | null;
  size: number;
  status: FileStatus;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /**
   * For a trashed row, the id of the trash entry it went with: its own id when it was deleted itself,
   * the folder's when a folder was deleted with its subtree. Null while active.
   */
  trashed_with: string | null;
  /** The name as search compares it (workers/meta/name-index.ts); null until indexed. Optional on insert. */
  name_key?: string | null;
}

/** One gram of an entry's name_key (search by name; see workers/meta/name-index.ts). */
export interface FileNameGramsTable {
  owner_id: string;
  gram: string;
  file_id: string;
}

/** An earlier content of a file (see migration 0011); holds one reference to its blob. */
export interface FileVersionsTable {
  id: string;
  file_id: string;
  owner_id: string;
  blob_sha256: string | null;
  size: number;
  /** When this content became the file's content. */
  created_at: number;
  /** When it stopped being the file's content; retention by age counts from here. */
  archived_at: number;
}

export type UploadState = "open" | "completing" | "completed" | "aborted";

export interface UploadSessionsTable {
  id: string;
  owner_id: string;
  parent_id: string;
  name: string;
  size: number;
  sha256: string | null;
  sha1: string | null;
  part_size: number;
  part_count: number;
  backend: string;
  state: UploadState;
  file_id: string | null;
  created_at: number;
  expires_at: number;
  /** The completion attempt that holds the session while it is "completing" (a random UUID), else null. */
  completion_owner: string | null;
  /**
   * That attempt's last sign of life (ms; it renews it while it works). Once it is older than the lease,
   * another CompleteUploadSession may take the completion over. Null unless "completing".
   */
  completing_since: number | null;
  /** filestore.file.v1.ConflictPolicy applied at completion (0, unspecified: FAIL). */
  on_conflict: Generated<number>;
  /** The drop link whose visitor opened the session (migration 0035); null for the owner's own sessions. */
  share_id: string | null;
}

export interface UploadPartsTable {
  session_id: string;
  part_number: number;
  size: number;
  sha256: string;
  created_at: number;
}

/**
 * queued: waiting for (or between) attempts; running: an attempt is copying; done: the content is on S3
 * (or was deleted meanwhile: nothing to move); failed: a dead letter after the last attempt.
 */
export type TransferState = "queued" | "running" | "done" | "failed";

export interface TransferJobsTable {
  blob_sha256: string;
  state: TransferState;
  attempts: number;
  last_error: string | null;
  /** The S3 key the latest attempt writes to (recorded before it writes, so a retry can clean up). */
  target_location: string | null;
  /** When the relay last handed the job to the queue; null: not yet (the outbox). */
  published_at: number | null;
  /** The local copy left behind by the move, deleted once cleanup_after has passed. */
  cleanup_location: string | null;
  cleanup_after: number | null;
  created_at: number;
  updated_at: number;
  /** The W3C traceparent of the work that (re)started the job, when it was traced; the queue carries it. */
  traceparent: string | null;
}

/** The generation of a file's download links; links signed for an earlier one are revoked. */
export interface DownloadLinksTable {
  file_id: string;
  generation: number;
  revoked_at: number;
}

/** A sign-in session (refresh-token family) that ended: its access tokens are refused until expires_at. */
export interface RevokedSessionsTable {
  session_id: string;
  user_id: string;
  revoked_at: number;
  expires_at: number;
}

/** A thumbnail of content: "ready" (bytes at backend/location) or "skipped" (none can be made). */
export type DerivedState = "ready" | "skipped";

/** A blob derived from content (a thumbnail), one per content and kind; not content: no refcount, no quota. */
export interface DerivedBlobsTable {
  sha256: string;
  /** "thumb-256", "thumb-1024". */
  kind: string;
  state: DerivedState;
  /** "" when skipped. */
  backend: string;
  location: string;
  size: number;
  created_at: number;
}

/**
 * An upload session of a deleted account (migration 0021): its row went with the user, its staged parts
 * are left for the upload sweep to delete.
 */
export interface OrphanedUploadSessionsTable {
  session_id: string;
  backend: string;
  completion_owner: string | null;
  created_at: number;
}

/** A user's TOTP secret: pending until confirmed (enabled_at null), then on (see migration 0017). */
export interface UserTotpTable {
  user_id: string;
  /** Base32. */
  secret: string;
  enabled_at: number | null;
  /** The last time step whose code was accepted; codes of it and earlier steps are refused. */
  last_step: Generated<number>;
  created_at: number;
}

/** An unused one-time recovery code (SHA-256 hex); using it deletes the row. */
export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
}

/** A named app password (SHA-256 hex of the secret) for HTTP Basic clients. */
export interface AppPasswordsTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

/** A one-time signup code (SHA-256 hex of it), usable until expires_at (see migration 0018). */
export interface InvitesTable {
  id: string;
  code_hash: string;
  created_by: string;
  created_by_username: string;
  note: string;
  created_at: number;
  expires_at: number;
  used_by: string | null;
  used_by_username: string | null;
  used_at: number | null;
}

/** One administrative action (AdminService): who did what to whom, when, from where. */
export interface AuditEventsTable {
  id: string;
  at: number;
  actor_id: string;
  actor_username: string;
  /** "<subject>.<verb>", e.g. "user.disable". */
  action: string;
  target_id: string;
  target_username: string;
  client_address: string;
  /** key=value text; never a password or a code. */
  details: string;
}

/** Something claimed once in an instance's life ("first_admin": the user who became admin by being first). */
export interface InstanceClaimsTable {
  name: string;
  user_id: string;
  claimed_at: number;
}

export type ShareMode = "view" | "drop";

/** A share link (migration 0022; workers/meta/shares.ts). */
export interface SharesTable {
  id: string;
  owner_id: string;
  target_id: string;
  mode: ShareMode;
  /** argon2id, or "" without a password. */
  password_hash: string;
  /** Moves on every change of password or options: share tokens name the version they were issued for. */
  version: number;
  expires_at: number | null;
  /** 0: unlimited. */
  max_downloads: number;
  download_count: number;
  view_count: number;
  last_access_at: number | null;
  max_file_bytes: number;
  created_at: number;
  updated_at: number;
}

/** A WebDAV dead property of an entry (file_id "" = the root), its value the inner XML as sent. */
export interface DavPropertiesTable {
  owner_id: string;
  file_id: string;
  namespace: string;
  name: string;
  value: string;
}

export interface DavLocksTable {
  token: string;
  owner_id: string;
  path: string;
  deep: number;
  exclusive: number;
  owner_xml: string;
  timeout_seconds: number;
  expires_at: number;
  created_at: number;
}

/** A Nextcloud chunked upload in flight (see migration 0026). */
export interface DavTransfersTable {
  owner_id: string;
  transfer_id: string;
  session_id: string;
  total: number | null;
  part_size: number;
  part_count: number;
  expires_at: number;
  created_at: number;
}

/** Background work one replica at a time does (migration 0030, workers/meta/leases.ts). */
export interface MaintenanceLeasesTable {
  name: string;
  /** The holding process's random id; "" when never held. */
  holder: string;
  expires_at: number;
}

/** A folder's trash or restore whose subtree is still moving in batches (workers/meta/subtree-moves.ts). */
export interface SubtreeMovesTable {
  root_id: string;
  owner_id: string;
  op: "trash" | "restore";
  /** trash: the rows' deleted_at; restore: the folder's updated_at. */
  at: number;
  /** restore: the folder it returns to ("" = the root). */
  parent_id: string;
  /** restore: the ConflictPolicy for its name. */
  policy: number;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  blobs: BlobsTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  file_name_grams: FileNameGramsTable;
  upload_sessions: UploadSessionsTable;
  upload_parts: UploadPartsTable;
  orphaned_upload_sessions: OrphanedUploadSessionsTable;
  download_links: DownloadLinksTable;
  revoked_sessions: RevokedSessionsTable;
  transfer_jobs: TransferJobsTable;
  derived_blobs: DerivedBlobsTable;
  user_totp: UserTotpTable;
  recovery_codes: RecoveryCodesTable;
  app_passwords: AppPasswordsTable;
  invites: InvitesTable;
  audit_events: AuditEventsTable;
  instance_claims: InstanceClaimsTable;
  shares: SharesTable;
  dav_properties: DavPropertiesTable;
  dav_locks: DavLocksTable;
  dav_transfers: DavTransfersTable;
  maintenance_leases: MaintenanceLeasesTable;
  subtree_moves: SubtreeMovesTable;
  kysely_migration?: { name: string; timestamp: Generated<string> };
}
