// Connect-Web clients of the gateway's services, and the signed-in session.
//
// Tokens: the pair is kept in localStorage so that a reload or a second tab stays signed in. The access
// token is short-lived and renewed shortly before it expires; the refresh token rotates on every use,
// and because presenting a used one revokes its whole family, a refresh runs under a cross-tab lock and
// first re-reads what another tab may already have stored. The page's Content-Security-Policy allows only
// our own scripts, which is what keeps the tokens from other code.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AccountService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { AdminService } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { DownloadService } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import { FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { ShareService } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";

const KEY = "filestore.session";
/** Renew the access token when less than this is left of it. */
const MARGIN_MS = 30_000;

export interface Session {
  username: string;
  userId: string;
  accessToken: string;
  accessExpires: number;
  refreshToken: string;
  refreshExpires: number;
}

const ms = (t: Timestamp | undefined) => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0);

function load(): Session | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? "null") as Session | null;
    return s && s.refreshExpires > Date.now() ? s : undefined;
  } catch {
    return undefined;
  }
}

const baseUrl = location.origin;
const publicTransport = createConnectTransport({ baseUrl });
export const accounts: Client<typeof AccountService> = createClient(AccountService, publicTransport);

type Listener = (s: Session | undefined, why?: string) => void;
let listeners: Listener[] = [];
let refreshing: Promise<string> | undefined;

export const auth = {
  current: load,
  onChange(fn: Listener) {
    listeners.push(fn);
    return () => {
      listeners = listeners.filter((l) => l !== fn);
    };
  },
  /** `more`: a two-factor code, or the new password a reset asked for (see SigninRequest). */
  async signin(
    username: string,
    password: string,
    more: { secondFactor?: string; newPassword?: string } = {},
  ): Promise<Session> {
    const res = await accounts.signin({ username, password, ...more });
    const t = res.tokens;
    if (!t || !res.user) throw new ConnectError("the server sent no tokens", Code.Internal);
    const s: Session = {
      username: res.user.username,
      userId: res.user.id,
      accessToken: t.accessToken,
      accessExpires: ms(t.accessTokenExpiresAt),
      refreshToken: t.refreshToken,
      refreshExpires: ms(t.refreshTokenExpiresAt),
    };
    localStorage.setItem(KEY, JSON.stringify(s));
    for (const l of listeners) l(s);
    return s;
  },
  /** `why`: what the sign-in screen then says. */
  async signout(why?: string): Promise<void> {
    const s = load();
    localStorage.removeItem(KEY);
    for (const l of listeners) l(undefined, why);
    if (s) await accounts.signout({ refreshToken: s.refreshToken }).catch(() => undefined);
  },
  /** A valid access token, renewed when needed; `force` renews even one that looks valid. */
  async accessToken(force = false): Promise<string> {
    const s = load();
    if (!s) throw new ConnectError("sign in first", Code.Unauthenticated);
    if (!force && s.accessExpires - Date.now() > MARGIN_MS) return s.accessToken;
    refreshing ??= withLock(() => renew(s.accessToken, force)).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  },
};

// Another tab signed out (or in).
addEventListener("storage", (e) => {
  if (e.key === KEY || e.key === null) for (const l of listeners) l(load());
});

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  // Web Locks exist only in secure contexts (https, localhost): elsewhere one tab at a time is all we get.
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? (locks.request("filestore.refresh", work) as Promise<T>) : work();
}

async function renew(stale: string, force: boolean): Promise<string> {
  const s = load();
  if (!s) throw new ConnectError("sign in first", Code.Unauthenticated);
  // Still good, or renewed by another tab while we waited for the lock.
  const fresh = s.accessExpires - Date.now() > MARGIN_MS;
  if (fresh && (!force || s.accessToken !== stale)) return s.accessToken;
  let res: Awaited<ReturnType<typeof accounts.refresh>>;
  try {
    res = await accounts.refresh({ refreshToken: s.refreshToken });
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied || e.code === Code.NotFound) {
      localStorage.removeItem(KEY);
      for (const l of listeners) l(undefined, "Your session ended. Sign in again.");
    }
    throw e;
  }
  const t = res.tokens;
  if (!t) throw new ConnectError("the server sent no tokens", Code.Internal);
  const next: Session = {
    ...s,
    accessToken: t.accessToken,
    accessExpires: ms(t.accessTokenExpiresAt),
    refreshToken: t.refreshToken,
    refreshExpires: ms(t.refreshTokenExpiresAt),
  };
  localStorage.setItem(KEY, JSON.stringify(next));
  return next.accessToken;
}

/** Adds the access token; on Unauthenticated renews it once and retries. */
const bearer: Interceptor = (next) => async (req) => {
  req.header.set("Authorization", `Bearer ${await auth.accessToken()}`);
  try {
    return await next(req);
  } catch (err) {
    if (ConnectError.from(err).code !== Code.Unauthenticated) throw err;
    req.header.set("Authorization", `Bearer ${await auth.accessToken(true)}`);
    return next(req);
  }
};

const transport = createConnectTransport({ baseUrl, interceptors: [bearer] });
export const files: Client<typeof FileService> = createClient(FileService, transport);
export const uploads: Client<typeof UploadService> = createClient(UploadService, transport);
export const downloads: Client<typeof DownloadService> = createClient(DownloadService, transport);
/** AccountService with the user's token: the account page's self-service calls. */
export const account: Client<typeof AccountService> = createClient(AccountService, transport);
export const admin: Client<typeof AdminService> = createClient(AdminService, transport);
/** ShareService with the user's token: the owner's links, and saving a shared item to one's drive. */
export const shares: Client<typeof ShareService> = createClient(ShareService, transport);
/** ShareService without a login: a visitor of a share link (the share token travels in each request). */
export const visitorShares: Client<typeof ShareService> = createClient(ShareService, publicTransport);

/** A message for people, from any error. */
export function explain(err: unknown): string {
  if (err instanceof DOMException && err.name === "AbortError") return "canceled";
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.Unavailable:
      return "The server cannot be reached right now. Check your connection and try again.";
    case Code.Unimplemented:
      return "This server does not offer that yet.";
    case Code.DeadlineExceeded:
      return "The server took too long to answer. Try again.";
    default:
      return e.rawMessage
        ? e.rawMessage.charAt(0).toUpperCase() + e.rawMessage.slice(1)
        : "Something went wrong.";
  }
}

export const codeOf = (err: unknown): Code => ConnectError.from(err).code;
