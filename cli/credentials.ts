// Where the CLI keeps a user's tokens: $XDG_CONFIG_HOME/filestore/credentials.json (else
// ~/.config/filestore/...), one entry per server. The directory is 0700 and the file 0600 — the refresh
// token is as good as the password for a month. Writes are atomic (temp file + rename), so a CLI killed
// mid-write never leaves a torn file. Refresh tokens rotate and a reused one revokes its whole family, so
// refreshing happens under a lock file shared by every filestore process of the user.
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./args.ts";

export const DEFAULT_SERVER = "http://localhost:8080";

export interface Credentials {
  username: string;
  userId: string;
  accessToken: string;
  /** epoch ms (local clock) */
  accessTokenIssuedAt: number;
  accessTokenExpiresAt: number;
  refreshToken: string;
  refreshTokenExpiresAt: number;
}

interface CredentialsFile {
  version: 1;
  servers: Record<string, Credentials>;
}

export function configDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "filestore");
}

/** The server to talk to: --server, else $FILESTORE_URL, else localhost:8080; normalized (no trailing /). */
export function serverUrl(flag: string | undefined, env: Record<string, string | undefined> = process.env) {
  const raw = flag || env.FILESTORE_URL || DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a server URL: "${raw}" (expected e.g. http://localhost:8080)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`the server URL must start with http:// or https://, not "${raw}"`);
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

export class CredentialStore {
  readonly file: string;
  readonly lockFile: string;

  constructor(readonly dir: string = configDir()) {
    this.file = join(dir, "credentials.json");
    this.lockFile = join(dir, "credentials.lock");
  }

  private read(): CredentialsFile {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, servers: {} };
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as CredentialsFile;
      if (parsed && typeof parsed.servers === "object") return parsed;
    } catch {
      // fall through
    }
    throw new Error(`${this.file} is damaged: delete it and run filestore login again`);
  }

  get(server: string): Credentials | undefined {
    return this.read().servers[server];
  }

  set(server: string, creds: Credentials | undefined): void {
    const all = this.read();
    if (creds) all.servers[server] = creds;
    else delete all.servers[server];
    this.ensureDir();
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600); // the umask could have narrowed it further; never wider
    renameSync(tmp, this.file);
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
  }

  /**
   * Runs `work` while holding the refresh lock (an exclusively created file holding the holder's pid).
   * A lock whose holder died, or older than `staleMs`, is taken over.
   */
  async withLock<T>(work: () => Promise<T>, staleMs = 30_000, waitMs = 60_000): Promise<T> {
    this.ensureDir();
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        const fd = openSync(this.lockFile, "wx", 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (holderDied(this.lockFile) || lockAge(this.lockFile) > staleMs)
          rmSync(this.lockFile, { force: true });
        else if (Date.now() > until) throw new Error(`${this.lockFile} is held by another filestore process`);
        else await Bun.sleep(50);
      }
    }
    try {
      return await work();
    } finally {
      rmSync(this.lockFile, { force: true });
    }
  }
}

function lockAge(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0; // just released: try again
  }
}

/** True when the lock names a process that no longer exists (killed while refreshing). */
function holderDied(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, "utf8"));
    if (!Number.isSafeInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
