// The commands of `filestore`: their specs (which drive parsing and --help) and what they do, one file per
// kind: account-commands.ts, self-service-commands.ts, tree-commands.ts, place-commands.ts,
// search-commands.ts, transfer-commands.ts, version-commands.ts, trash-commands.ts, df-command.ts,
// admin-commands.ts, transfers-command.ts, share-commands.ts.

import { LOGIN, LOGOUT, SIGNUP, WHOAMI } from "./account-commands.ts";
import { ADMIN } from "./admin-commands.ts";
import type { CommandSpec, OptionValues } from "./args.ts";
import type { CredentialStore } from "./credentials.ts";
import { DF } from "./df-command.ts";
import { CP, MV } from "./place-commands.ts";
import { FIND, SEARCH } from "./search-commands.ts";
import { PASSWD, SESSIONS, TWO_FACTOR } from "./self-service-commands.ts";
import { SHARE, SHARES } from "./share-commands.ts";
import { DOWNLOAD, UPLOAD } from "./transfer-commands.ts";
import { TRANSFERS } from "./transfers-command.ts";
import { TRASH } from "./trash-commands.ts";
import { LINK, LS, MKDIR, RM } from "./tree-commands.ts";
import { VERSIONS } from "./version-commands.ts";

export interface Env {
  server: string;
  store: CredentialStore;
  out: (line: string) => void;
  /** Set while a resumable transfer runs: what to tell the user if it is interrupted. */
  onInterrupt?: () => void;
}

export type Handler = (env: Env, args: string[], options: OptionValues) => Promise<number | undefined>;

export type Command = CommandSpec & { run: Handler };

export const EXIT_CODES = `Exit codes: 0 success, 1 failure, 2 bad usage, 3 not signed in / session ended, 4 not found,
5 admin fsck found problems left unrepaired, 130 interrupted (run the same upload or download again to resume).`;

/** In the order --help lists them. */
export const COMMANDS: Command[] = [
  SIGNUP,
  LOGIN,
  LOGOUT,
  WHOAMI,
  PASSWD,
  SESSIONS,
  TWO_FACTOR,
  LS,
  MKDIR,
  UPLOAD,
  DOWNLOAD,
  MV,
  CP,
  FIND,
  SEARCH,
  VERSIONS,
  RM,
  TRASH,
  LINK,
  SHARE,
  SHARES,
  DF,
  ADMIN,
  TRANSFERS,
];
