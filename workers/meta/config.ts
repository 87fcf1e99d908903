// MetaService's settings: the database it owns, and the rules it keeps in it.
import { join } from "node:path";
import { type BaseConfig, type Env, int } from "../lib/config.ts";
import { DEFAULT_QUOTA_BYTES } from "./quota.ts";

export interface MetaConfig {
  /** DATABASE_URL: mysql://… or sqlite:<path> (default: SQLite in the data directory). */
  databaseUrl: string;
  /**
   * How deep folders may nest (MAX_FOLDER_DEPTH, at least 1): a folder in the root is at depth 1; files add
   * no level. Creating, moving or restoring a folder deeper is refused.
   */
  maxFolderDepth: number;
  /**
   * Versions a file keeps (VERSIONS_KEEP, default 10, 0: none): replacing a file past it drops its
   * oldest version at once. Their age limit (VERSIONS_MAX_DAYS) is the file worker's periodic pass.
   */
  versionsKeep: number;
  /**
   * The quota of every user without one of their own (DEFAULT_QUOTA_BYTES, bytes, default 10 GiB;
   * 0: unlimited). Usage is logical (workers/meta/quota.ts): files, in the trash too, and versions.
   */
  defaultQuotaBytes: number;
}

export function loadMetaConfig(env: Env, base: BaseConfig): MetaConfig {
  return {
    databaseUrl: env.DATABASE_URL || `sqlite:${join(base.dataDir, "filestore.db")}`,
    maxFolderDepth: Math.max(1, int(env, "MAX_FOLDER_DEPTH", 256)),
    versionsKeep: Math.max(0, int(env, "VERSIONS_KEEP", 10)),
    defaultQuotaBytes: int(env, "DEFAULT_QUOTA_BYTES", DEFAULT_QUOTA_BYTES),
  };
}
