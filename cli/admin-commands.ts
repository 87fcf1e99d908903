// `filestore admin <subcommand>`: the instance's administration through AdminService (users, quotas,
// disabling, password resets, deletion, the role, invite codes, the audit log, statistics). Users are
// named by username; every subcommand prints JSON with --json (admin-output.ts).
import type { Client } from "@connectrpc/connect";
import { AdminService, type ManagedUser } from "../proto/gen/filestore/admin/v1/admin_pb.ts";
import * as out from "./admin-output.ts";
import { intOption, type OptionValues, UsageError } from "./args.ts";
import type { Command, Env, Handler } from "./commands.ts";
import { EXIT } from "./errors.ts";
import { allFixed, fsckJson, fsckLines } from "./fsck-output.ts";
import { askPassword, linesFromStdin } from "./prompt.ts";
import { Session } from "./session.ts";
import { parseDuration, parseSize } from "./sizes.ts";

type Admin = Client<typeof AdminService>;
interface Call {
  env: Env;
  admin: Admin;
  args: string[];
  options: OptionValues;
  json: boolean;
}
/** A subcommand; what it returns (if anything) is the exit code. */
type Sub = { usage: string; args: number; run: (c: Call) => Promise<unknown> };

const str = (options: OptionValues, name: string) => {
  const v = options[name];
  return typeof v === "string" ? v : undefined;
};

async function userNamed(admin: Admin, username: string): Promise<ManagedUser> {
  const { user } = await admin.getUser({ key: { case: "username", value: username } });
  if (!user) throw new UsageError(`no user named ${username}`);
  return user;
}

/** Prints one user (JSON or lines) after `said`, a sentence for people. */
function printUser(c: Call, user: ManagedUser | undefined, said: string) {
  if (!user) return;
  if (c.json) c.env.out(JSON.stringify(out.userJson(user)));
  else c.env.out(said);
}

async function users(c: Call) {
  const all: ManagedUser[] = [];
  let pageToken = "";
  do {
    const page = await c.admin.listUsers({ query: str(c.options, "query") ?? "", pageSize: 500, pageToken });
    all.push(...page.users);
    pageToken = page.nextPageToken;
  } while (pageToken);
  if (c.json) c.env.out(JSON.stringify(all.map(out.userJson)));
  else for (const u of all) c.env.out(out.userRow(u));
}

async function user(c: Call) {
  const u = await userNamed(c.admin, c.args[0] as string);
  if (c.json) c.env.out(JSON.stringify(out.userJson(u)));
  else for (const line of out.userLines(u)) c.env.out(line);
}

/** The new account's password: typed twice, or the first line of stdin. */
async function newPassword(options: OptionValues): Promise<string> {
  if (options["password-stdin"]) {
    const [password = ""] = await linesFromStdin(1);
    if (!password) throw new UsageError("stdin held no password");
    return password;
  }
  const password = await askPassword("Password for the new account: ");
  if ((await askPassword("Password (again): ")) !== password)
    throw new UsageError("the passwords do not match");
  return password;
}

async function createUser(c: Call) {
  const quota = str(c.options, "quota");
  const res = await c.admin.createUser({
    username: c.args[0] as string,
    password: await newPassword(c.options),
    admin: c.options.admin === true,
    quotaBytes: quota === undefined ? undefined : quotaBytes(quota),
    mustChangePassword: c.options["keep-password"] !== true,
  });
  printUser(c, res.user, `created ${res.user?.username}${res.user?.admin ? " (administrator)" : ""}`);
}

const quotaBytes = (text: string) => (text === "unlimited" ? 0n : parseSize(text));

async function quota(c: Call) {
  const [name, value] = c.args as [string, string];
  const target = await userNamed(c.admin, name);
  const res = await c.admin.setQuota({
    userId: target.id,
    quota:
      value === "default"
        ? { case: "useDefault", value: true }
        : { case: "quotaBytes", value: quotaBytes(value) },
  });
  printUser(c, res.user, `quota of ${name}: ${value}`);
}

async function disable(c: Call) {
  const target = await userNamed(c.admin, c.args[0] as string);
  const res = await c.admin.disableUser({ userId: target.id, reason: str(c.options, "reason") ?? "" });
  if (c.json)
    c.env.out(
      JSON.stringify({ user: res.user && out.userJson(res.user), sessionsRevoked: res.sessionsRevoked }),
    );
  else c.env.out(`disabled ${target.username}; ${res.sessionsRevoked} session(s) and app password(s) ended`);
}

async function enable(c: Call) {
  const target = await userNamed(c.admin, c.args[0] as string);
  printUser(c, (await c.admin.enableUser({ userId: target.id })).user, `enabled ${target.username}`);
}

async function resetPassword(c: Call) {
  const target = await userNamed(c.admin, c.args[0] as string);
  const given = c.options["password-stdin"] ? ((await linesFromStdin(1))[0] ?? "") : "";
  const res = await c.admin.resetPassword({ userId: target.id, newPassword: given });
  if (c.json) {
    c.env.out(
      JSON.stringify({ temporaryPassword: res.temporaryPassword, sessionsRevoked: res.sessionsRevoked }),
    );
    return;
  }
  const pw = res.temporaryPassword ? `; temporary password: ${res.temporaryPassword}` : "";
  c.env.out(`reset the password of ${target.username}${pw} (they choose a new one at their next signin)`);
}

async function deleteUser(c: Call) {
  const name = c.args[0] as string;
  if (c.options.yes !== true)
    throw new UsageError(`deleting ${name} removes their files for good: add --yes to confirm`, "admin");
  const target = await userNamed(c.admin, name);
  const res = await c.admin.deleteUser({ userId: target.id, confirmUsername: target.username });
  if (c.json) c.env.out(JSON.stringify({ filesDeleted: Number(res.filesDeleted) }));
  else c.env.out(`deleted ${target.username} and ${res.filesDeleted} file(s) and folder(s)`);
}

const setRole = (admin: boolean) => async (c: Call) => {
  const target = await userNamed(c.admin, c.args[0] as string);
  const res = await c.admin.setAdmin({ userId: target.id, admin });
  printUser(c, res.user, `${target.username} is ${admin ? "now" : "no longer"} an administrator`);
};

async function invite(c: Call) {
  const ttl = str(c.options, "ttl");
  const res = await c.admin.createInvite({
    ttlSeconds: BigInt(ttl === undefined ? 0 : parseDuration(ttl)),
    note: str(c.options, "note") ?? "",
  });
  if (c.json) c.env.out(JSON.stringify({ ...(res.invite && out.inviteJson(res.invite)), code: res.code }));
  else
    c.env.out(
      `invite code: ${res.code}\n(one signup, until ${res.invite ? out.inviteJson(res.invite).expiresAt : "?"}; filestore signup --invite CODE)`,
    );
}

async function invites(c: Call) {
  const res = await c.admin.listInvites({ includeInactive: c.options.all === true });
  if (c.json) c.env.out(JSON.stringify(res.invites.map(out.inviteJson)));
  else for (const i of res.invites) c.env.out(out.inviteRow(i));
}

async function uninvite(c: Call) {
  await c.admin.revokeInvite({ id: c.args[0] as string });
  c.env.out(c.json ? JSON.stringify({ revoked: c.args[0] }) : `revoked invite ${c.args[0]}`);
}

async function audit(c: Call) {
  const name = str(c.options, "user");
  const targetId = name ? (await userNamed(c.admin, name)).id : "";
  const limit = intOption(c.options, "limit", 50, 1, 500);
  const { events } = await c.admin.listAuditEvents({ pageSize: limit, targetId });
  if (c.json) c.env.out(JSON.stringify(events.map(out.auditJson)));
  else for (const e of events) c.env.out(out.auditRow(e));
}

async function stats(c: Call) {
  const s = await c.admin.getInstanceStats({});
  if (c.json) c.env.out(JSON.stringify(out.statsJson(s)));
  else for (const line of out.statsLines(s)) c.env.out(line);
}

/**
 * The consistency check: progress as it goes (not with --json), then the report. Exits with
 * EXIT.problems when something found is still there after the run (scripts and cron test for it).
 */
async function fsck(c: Call) {
  let code: number = EXIT.ok;
  const rate = str(c.options, "scrub-rate");
  if (rate !== undefined && c.options.scrub !== true)
    throw new UsageError("--scrub-rate goes with --scrub", "admin");
  const scrubBytesPerHour = BigInt(rate === undefined ? 0 : parseSize(rate));
  const req = { repair: c.options.repair === true, scrub: c.options.scrub === true, scrubBytesPerHour };
  for await (const m of c.admin.checkIntegrity(req)) {
    if (m.event.case === "progress" && !c.json && m.event.value.phase !== "done")
      c.env.out(`... ${m.event.value.phase}: ${m.event.value.checked} checked`);
    if (m.event.case !== "report") continue;
    if (c.json) c.env.out(JSON.stringify(fsckJson(m.event.value)));
    else for (const line of fsckLines(m.event.value)) c.env.out(line);
    if (!allFixed(m.event.value)) code = EXIT.problems;
  }
  return code;
}

const SUBCOMMANDS: Record<string, Sub> = {
  users: { usage: "users [--query TEXT]", args: 0, run: users },
  user: { usage: "user NAME", args: 1, run: user },
  create: {
    usage: "create NAME [--admin] [--quota SIZE] [--keep-password] [--password-stdin]",
    args: 1,
    run: createUser,
  },
  quota: { usage: "quota NAME SIZE|unlimited|default", args: 2, run: quota },
  disable: { usage: "disable NAME [--reason TEXT]", args: 1, run: disable },
  enable: { usage: "enable NAME", args: 1, run: enable },
  "reset-password": { usage: "reset-password NAME [--password-stdin]", args: 1, run: resetPassword },
  delete: { usage: "delete NAME --yes", args: 1, run: deleteUser },
  grant: { usage: "grant NAME", args: 1, run: setRole(true) },
  revoke: { usage: "revoke NAME", args: 1, run: setRole(false) },
  invite: { usage: "invite [--ttl 7d] [--note TEXT]", args: 0, run: invite },
  invites: { usage: "invites [--all]", args: 0, run: invites },
  uninvite: { usage: "uninvite ID", args: 1, run: uninvite },
  audit: { usage: "audit [--user NAME] [--limit N]", args: 0, run: audit },
  stats: { usage: "stats", args: 0, run: stats },
  fsck: { usage: "fsck [--repair] [--scrub [--scrub-rate SIZE]]", args: 0, run: fsck },
};

const admin: Handler = async (env, args, options) => {
  const [name = "", ...rest] = args;
  const sub = SUBCOMMANDS[name];
  if (!sub)
    throw new UsageError(name ? `unknown admin subcommand "${name}"` : "which admin subcommand?", "admin");
  if (rest.length !== sub.args) throw new UsageError(`usage: filestore admin ${sub.usage}`, "admin");
  const client = new Session(env.server, env.store).client(AdminService);
  const code = await sub.run({ env, admin: client, args: rest, options, json: options.json === true });
  return typeof code === "number" ? code : EXIT.ok;
};

const option = (type: "string" | "boolean", description: string, value?: string) =>
  ({ type, description, ...(value ? { value } : {}) }) as const;

export const ADMIN: Command = {
  name: "admin",
  usage: "<subcommand> [args]",
  summary: "administer the server (administrators only): users, quotas, invites, audit log, statistics, fsck",
  details: `Subcommands (NAME is a username; SIZE like 500M, 10G or bytes):
${Object.values(SUBCOMMANDS)
  .map((s) => `  filestore admin ${s.usage}`)
  .join("\n")}
create asks for the new account's password (or reads it with --password-stdin); the user must choose
their own at their first signin unless --keep-password. reset-password generates a temporary password
unless one is piped in with --password-stdin. With --json every subcommand prints JSON: users one array
of {id,username,admin,disabled,mustChangePassword,twoFactorEnabled,usedBytes,reservedBytes,quotaBytes,
defaultQuota,files,createdAt,lastActiveAt} (quotaBytes 0: unlimited), user/create/quota/enable/grant/
revoke one such object, disable {user,sessionsRevoked}, reset-password {temporaryPassword,sessionsRevoked},
delete {filesDeleted}, invite {id,createdAt,expiresAt,createdBy,note,usedByUsername,usedAt,code},
invites an array of those (without code), audit an array of {id,at,actorId,actorUsername,action,targetId,
targetUsername,clientAddress,details} newest first, stats {users,admins,disabledUsers,files,logicalBytes,
storedBytes,dedupRatio,reservedBytes,trashBytes,backends:[{backend,blobs,storedBytes}]}, fsck {repair,clean,
blobsChecked,objectsListed,usersChecked,youngObjectsSkipped,missing,wrongSize,orphans,refcountDrifts,
usageDrifts,stuck:{cleaned,left,sessions,transfers,deletions},scrub (with --scrub):{blobs,bytes,corrupt}}
(each {count,bytes,items}: the first 100). fsck changes nothing unless --repair: then orphan bytes older
than FSCK_GRACE_SECONDS are deleted, drifted counts corrected, stuck work cleaned up and (with --scrub)
corrupt content restored from a second copy where one exists. --scrub re-hashes all content at
--scrub-rate per hour (SIZE, e.g. 50G; default the server's SCRUB_BYTES_PER_HOUR, 0 = as fast as it
reads). fsck exits with 5 when problems are left (a dry run that found any, or what a repair could not
fix: missing, wrong-size or corrupt bytes without a copy).`,
  options: {
    json: option("boolean", "print JSON (shapes above)"),
    query: option("string", "users: only usernames containing this", "text"),
    admin: option("boolean", "create: make the user an administrator"),
    quota: option("string", "create: the user's quota (SIZE or unlimited; default: the server's)", "size"),
    "keep-password": option("boolean", "create: the user need not change the password at first signin"),
    "password-stdin": option("boolean", "create, reset-password: read the password from stdin"),
    reason: option("string", "disable: why (kept in the audit log)", "text"),
    yes: option("boolean", "delete: confirm"),
    ttl: option("string", "invite: how long the code works (1h to 90d; default 7d)", "duration"),
    note: option("string", "invite: whom it is for (kept with the invite)", "text"),
    all: option("boolean", "invites: also used and expired ones"),
    user: option("string", "audit: only events about this user", "name"),
    limit: option("string", "audit: how many events (default 50)", "n"),
    repair: option("boolean", "fsck: delete orphan bytes, correct counts, clean up stuck work"),
    scrub: option("boolean", "fsck: also re-hash all stored content (bit rot)"),
    "scrub-rate": option("string", "fsck --scrub: bytes re-hashed per hour at most", "size"),
  },
  minArgs: 1,
  maxArgs: 3,
  run: admin,
};
