// App passwords: random secrets ("fsa_" + 256 bits, stored as SHA-256 hashes) that a user names and
// revokes, for clients that can only send HTTP Basic (WebDAV, rclone, scripts). They never sign in to the
// web UI (Signin takes the account password only); the services that accept Basic check them with
// verifyAppPassword, or exchange them (AppPasswordAuthService) for an access token scoped "app", which
// AccountService's settings RPCs refuse and which dies with the app password (its `sid` is the id).
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import {
  type AppPassword,
  type ExchangeAppPasswordResponse,
  ExchangeAppPasswordResponseSchema,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import type { AppPasswordRecord } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import type { UserRecord } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { invalidArgument, notFound, unauthenticated } from "../lib/errors.ts";
import { type AccountDeps, toUser, USERNAME_PATTERN } from "./account.ts";
import { refuseDisabled } from "./account-state.ts";
import { signinGate } from "./signin-limits.ts";
import { issueAccessToken, randomSecret, revocationExpiresAt, sha256Hex } from "./tokens.ts";

const SHAPE = /^fsa_[A-Za-z0-9_-]{43}$/;
const NAME_MAX = 100;

const toAppPassword = (r: AppPasswordRecord): AppPassword => ({
  $typeName: "filestore.account.v1.AppPassword",
  id: r.id,
  name: r.name,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
});

export async function createAppPassword(deps: AccountDeps, who: Identity, name: string) {
  const trimmed = name.trim();
  if (!trimmed || [...trimmed].length > NAME_MAX || /[\p{Cc}]/u.test(trimmed))
    throw invalidArgument(`name must be 1-${NAME_MAX} printable characters, e.g. "rclone on laptop"`);
  const secret = randomSecret("fsa_");
  const { appPassword } = await deps.meta.createAppPassword({
    userId: who.userId,
    name: trimmed,
    tokenHash: sha256Hex(secret),
  });
  if (!appPassword) throw new ConnectError("meta returned no app password", Code.Internal);
  return { appPassword: toAppPassword(appPassword), secret };
}

export async function listAppPasswords(deps: AccountDeps, who: Identity): Promise<AppPassword[]> {
  const { appPasswords } = await deps.meta.listAppPasswords({ userId: who.userId });
  return appPasswords.map(toAppPassword);
}

export async function revokeAppPassword(deps: AccountDeps, who: Identity, id: string): Promise<void> {
  if (!id) throw invalidArgument("id is required");
  const { revoked } = await deps.meta.revokeAppPassword({
    userId: who.userId,
    id,
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  if (!revoked) throw notFound("you have no such app password");
}

/**
 * The user and app password when `secret` is an app password of `username` (its use recorded), else
 * undefined. For services that accept HTTP Basic; the caller applies its own rate limit (or uses
 * exchangeAppPassword, which does) and refuses a disabled account (refuseDisabled).
 */
export async function verifyAppPassword(
  deps: Pick<AccountDeps, "meta">,
  username: string,
  secret: string,
): Promise<{ user: UserRecord; appPassword: AppPasswordRecord } | undefined> {
  if (!SHAPE.test(secret) || !USERNAME_PATTERN.test(username)) return undefined;
  let found: AppPasswordRecord | undefined;
  try {
    found = (await deps.meta.findAppPassword({ tokenHash: sha256Hex(secret) })).appPassword;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
  if (!found) return undefined;
  const { user } = await deps.meta.getUser({ key: { case: "id", value: found.userId } });
  if (!user || user.username.toLowerCase() !== username.toLowerCase()) return undefined;
  return { user, appPassword: found };
}

/** An access token scoped "app" for a username and app password, under the sign-in limits. */
export async function exchangeAppPassword(
  deps: AccountDeps,
  username: string,
  secret: string,
  clientIp: string,
): Promise<ExchangeAppPasswordResponse> {
  const gate = await signinGate(deps.limiter, deps.signinLimit, deps.log, username, clientIp);
  const ok = await verifyAppPassword(deps, username, secret);
  if (!ok) {
    await gate.failed(undefined);
    throw unauthenticated("wrong username or app password");
  }
  await gate.succeeded();
  // Disabling deletes the app passwords too; this covers one created in the same instant.
  refuseDisabled(ok.user);
  const access = await issueAccessToken(deps, ok.user, deps.now(), ok.appPassword.id, "app");
  return create(ExchangeAppPasswordResponseSchema, {
    user: toUser(ok.user),
    accessToken: access.token,
    accessTokenExpiresAt: timestampFromMs(access.expMs),
    appPasswordId: ok.appPassword.id,
  });
}
