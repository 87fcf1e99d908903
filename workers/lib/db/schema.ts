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
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  kysely_migration?: { name: string; timestamp: Generated<string> };
}
