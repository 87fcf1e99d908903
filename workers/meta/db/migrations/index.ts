// Ordered migrations. Add a file "NNNN_name.ts" and list it here; never edit a published one.
import type { Migration } from "kysely";
import * as m0001 from "./0001_users_and_tokens.ts";
import * as m0002 from "./0002_blobs_files_uploads.ts";
import * as m0003 from "./0003_files.ts";
import * as m0004 from "./0004_transfer.ts";
import * as m0005 from "./0005_download_links.ts";
import * as m0006 from "./0006_upload_limits_and_lease.ts";
import * as m0007 from "./0007_file_listing_indexes.ts";
import * as m0009 from "./0009_revoked_sessions.ts";
import * as m0010 from "./0010_unique_active_names.ts";
import * as m0011 from "./0011_file_versions.ts";
import * as m0012 from "./0012_file_search.ts";
import * as m0013 from "./0013_trash_expiry.ts";
import * as m0014 from "./0014_derived_blobs.ts";
import * as m0016 from "./0016_quotas.ts";
import * as m0017 from "./0017_account_security.ts";
import * as m0018 from "./0018_administration.ts";
import * as m0019 from "./0019_transfer_trace.ts";
import * as m0020 from "./0020_transfer_queue_indexes.ts";
import * as m0021 from "./0021_account_hardening.ts";
import * as m0022 from "./0022_shares.ts";
import * as m0023 from "./0023_dav_properties.ts";
import * as m0024 from "./0024_dav_locks.ts";
import * as m0025 from "./0025_location_indexes.ts";
import * as m0026 from "./0026_dav_transfers.ts";
import * as m0027 from "./0027_blob_crc32.ts";
import * as m0030 from "./0030_maintenance_leases.ts";
import * as m0031 from "./0031_subtree_moves.ts";
import * as m0035 from "./0035_drop_session_share.ts";

export const migrations: Record<string, Migration> = {
  "0001_users_and_tokens": m0001,
  "0002_blobs_files_uploads": m0002,
  "0003_files": m0003,
  "0004_transfer": m0004,
  "0005_download_links": m0005,
  "0006_upload_limits_and_lease": m0006,
  "0007_file_listing_indexes": m0007,
  "0009_revoked_sessions": m0009,
  "0010_unique_active_names": m0010,
  "0011_file_versions": m0011,
  "0012_file_search": m0012,
  "0013_trash_expiry": m0013,
  "0014_derived_blobs": m0014,
  "0016_quotas": m0016,
  "0017_account_security": m0017,
  "0018_administration": m0018,
  "0019_transfer_trace": m0019,
  "0020_transfer_queue_indexes": m0020,
  "0021_account_hardening": m0021,
  "0022_shares": m0022,
  "0023_dav_properties": m0023,
  "0024_dav_locks": m0024,
  "0025_location_indexes": m0025,
  "0026_dav_transfers": m0026,
  "0027_blob_crc32": m0027,
  "0030_maintenance_leases": m0030,
  "0031_subtree_moves": m0031,
  "0035_drop_session_share": m0035,
};
