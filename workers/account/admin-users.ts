// AdminService's user management: the users page, one user, creation, quota, disabling, password resets,
// deletion and the role. Every change is checked against the caller (never their own account for what
// would lock them out), done through meta (one transaction each, or DeleteAccount's steps) and audited.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type ManagedUser,
  ManagedUserSchema,
  type SetQuotaRequest,
} from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import type { ManagedUserRecord } from "../../proto/gen/filestore/meta/v1/admin_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import {
  type AccountDeps,
  hashPassword,
  ownerLinksStopped,
  validatePassword,
  validateUsername,
} from "./account.ts";
import { isNamedAdmin } from "./account-state.ts";
import { type Actor, audit } from "./admin-access.ts";
import { revocationExpiresAt } from "./tokens.ts";

export function toManagedUser(r: ManagedUserRecord): ManagedUser {
  const u = r.usage;
  const neverActive =
    r.lastActiveAt?.seconds === r.createdAt?.seconds && r.lastActiveAt?.nanos === r.createdAt?.nanos;
  return create(ManagedUserSchema, {
    id: r.id,
    username: r.username,
    createdAt: r.createdAt,
    // Signup stamps last_active_at with the creation time: equal means never signed in since.
    lastActiveAt: neverActive ? undefined : r.lastActiveAt,
    admin: r.admin,
    disabled: r.disabledAt !== undefined,
    mustChangePassword: r.mustChangePassword,
    twoFactorEnabled: r.twoFactorEnabled,
    usedBytes: u?.usedBytes ?? 0n,
    reservedBytes: u?.reservedBytes ?? 0n,
    quotaBytes: u?.quotaBytes ?? 0n,
    defaultQuota: u?.defaultQuota ?? true,
    files: u?.files ?? 0n,
  });
}

/** meta's NotFound as the admin's "no such user". */
async function known<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw notFound("no such user");
    throw err;
  }
}

const required = (id: string) => {
  if (!id) throw invalidArgument("user_id is required");
  return id;
};

export async function getUser(deps: AccountDeps, key: { id: string } | { username: string }) {
  const req =
    "id" in key ? { case: "id" as const, value: key.id } : { case: "username" as const, value: key.username };
  if (!req.value) throw invalidArgument("give a user_id or a username");
  const { user } = await known(deps.meta.getManagedUser({ key: req }));
  if (!user) throw notFound("no such user");
  return toManagedUser(user);
}

/** 1-500 users a page; 0: 100. */
export function pageSizeOf(n: number): number {
  if (n === 0) return 100;
  if (!Number.isInteger(n) || n < 1 || n > 500) throw invalidArgument("page_size must be 1-500 (0: 100)");
  return n;
}

export async function listUsers(deps: AccountDeps, query: string, pageSize: number, pageToken: string) {
  if ([...query].length > 64) throw invalidArgument("query must be at most 64 characters");
  let after = "";
  if (pageToken) {
    after = Buffer.from(pageToken, "base64url").toString("utf8");
    if (!after || Buffer.from(after).toString("base64url") !== pageToken)
      throw invalidArgument("page_token is not one this service gave");
  }
  const res = await deps.meta.listManagedUsers({ query, pageSize: pageSizeOf(pageSize), after });
  return {
    users: res.users.map(toManagedUser),
    nextPageToken: res.nextAfter ? Buffer.from(res.nextAfter).toString("base64url") : "",
  };
}

export async function createUser(
  deps: AccountDeps,
  actor: Actor,
  req: {
    username: string;
    password: string;
    quotaBytes?: bigint;
    admin: boolean;
    mustChangePassword: boolean;
  },
) {
  validateUsername(req.username);
  validatePassword(req.password);
  if (req.quotaBytes !== undefined && req.quotaBytes < 0n)
    throw invalidArgument("a quota cannot be negative (0: unlimited)");
  const { user } = await deps.meta.createUser({
    username: req.username,
    passwordHash: await hashPassword(req.password),
    admin: req.admin || isNamedAdmin(deps, req.username),
    mustChangePassword: req.mustChangePassword,
    quotaBytes: req.quotaBytes,
  });
  if (!user) throw new ConnectError("meta returned no user", Code.Internal);
  await audit(deps, actor, "user.create", user, {
    admin: user.admin,
    quota: req.quotaBytes === undefined ? "default" : String(req.quotaBytes),
    must_change_password: req.mustChangePassword,
  });
  return getUser(deps, { id: user.id });
}

export async function setQuota(deps: AccountDeps, actor: Actor, req: SetQuotaRequest) {
  const id = required(req.userId);
  const q = req.quota;
  if (q.case === undefined) throw invalidArgument("give quota_bytes (0: unlimited) or use_default");
  if (q.case === "quotaBytes" && q.value < 0n)
    throw invalidArgument("a quota cannot be negative (0: unlimited)");
  if (q.case === "useDefault" && !q.value) throw invalidArgument("use_default must be true when given");
  const target = await getUser(deps, { id });
  await known(
    deps.meta.setQuota(
      q.case === "quotaBytes" ? { userId: id, quotaBytes: q.value } : { userId: id, useDefault: true },
    ),
  );
  await audit(deps, actor, "user.quota", target, {
    from: target.defaultQuota ? "default" : String(target.quotaBytes),
    to: q.case === "quotaBytes" ? String(q.value) : "default",
  });
  return getUser(deps, { id });
}

/** FailedPrecondition when an administrator aims at their own account with what would lock them out. */
function notSelf(actor: Actor, id: string, what: string) {
  if (actor.id === id)
    throw failedPrecondition(`you cannot ${what} your own account; ask another administrator`);
}

export async function setDisabled(
  deps: AccountDeps,
  actor: Actor,
  id: string,
  disabled: boolean,
  reason = "",
) {
  required(id);
  if (disabled) notSelf(actor, id, "disable");
  if ([...reason].length > 500) throw invalidArgument("reason must be at most 500 characters");
  const target = await getUser(deps, { id });
  const res = await known(
    deps.meta.setUserDisabled({
      userId: id,
      disabled,
      revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
    }),
  );
  deps.userCache?.delete(id);
  if (disabled) await ownerLinksStopped(deps, id);
  await audit(
    deps,
    actor,
    disabled ? "user.disable" : "user.enable",
    target,
    disabled ? { sessions_revoked: res.sessionsRevoked, ...(reason ? { reason } : {}) } : {},
  );
  if (!res.user) throw new ConnectError("meta returned no user", Code.Internal);
  return { user: toManagedUser(res.user), sessionsRevoked: res.sessionsRevoked };
}

/** A generated password: 18 random bytes, 24 characters of base64url, readable aloud if need be. */
const generatedPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");

export async function resetPassword(deps: AccountDeps, actor: Actor, id: string, given: string) {
  required(id);
  const password = given || generatedPassword();
  if (given) validatePassword(given);
  const target = await getUser(deps, { id });
  const { sessionsRevoked } = await known(
    deps.meta.resetUserPassword({
      userId: id,
      passwordHash: await hashPassword(password),
      revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
    }),
  );
  await audit(deps, actor, "user.reset_password", target, {
    generated: !given,
    sessions_revoked: sessionsRevoked,
  });
  return { temporaryPassword: given ? "" : password, sessionsRevoked };
}

export async function deleteUser(deps: AccountDeps, actor: Actor, id: string, confirmUsername: string) {
  required(id);
  notSelf(actor, id, "delete (use DeleteAccount)");
  const target = await getUser(deps, { id });
  if (confirmUsername.toLowerCase() !== target.username.toLowerCase())
    throw invalidArgument(`confirm_username must repeat the username ("${target.username}") to delete it`);
  // The role goes first, under the guard that keeps an administrator.
  if (target.admin) await deps.meta.setUserAdmin({ userId: id, admin: false });
  const { filesDeleted } = await deps.meta.deleteAccount({
    userId: id,
    revocationExpiresAt: revocationExpiresAt(deps, deps.now()),
  });
  deps.userCache?.delete(id);
  await ownerLinksStopped(deps, id);
  await audit(deps, actor, "user.delete", target, { files_deleted: String(filesDeleted) });
  return { filesDeleted };
}

export async function setAdmin(deps: AccountDeps, actor: Actor, id: string, admin: boolean) {
  required(id);
  if (!admin) notSelf(actor, id, "revoke the administrator role of");
  const target = await getUser(deps, { id });
  if (!admin && isNamedAdmin(deps, target.username))
    throw failedPrecondition(
      `${target.username} is named in ADMIN_USERS: remove the name there (and restart) before revoking the role`,
    );
  const { user } = await known(deps.meta.setUserAdmin({ userId: id, admin }));
  deps.userCache?.delete(id);
  await audit(deps, actor, "user.admin", target, { admin });
  if (!user) throw new ConnectError("meta returned no user", Code.Internal);
  return toManagedUser(user);
}
