// `filestore passwd`, `filestore sessions [revoke <id|others|all>]` and `filestore 2fa [recovery-codes]`:
// the account self-service of AccountService (ChangePassword, ListSessions, RevokeSession,
// SignOutEverywhere, GetTwoFactorStatus, RegenerateRecoveryCodes).
import type { Client } from "@connectrpc/connect";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Env, Handler } from "./commands.ts";
import { isoTime } from "./json-output.ts";
import { askLine, askPassword, linesFromStdin, passwordFromStdin } from "./prompt.ts";
import { Session } from "./session.ts";

const passwd: Handler = async (env, _args, options) => {
  let current: string;
  let next: string;
  if (options["password-stdin"]) {
    [current = "", next = ""] = await linesFromStdin(2);
    if (!current || !next)
      throw new UsageError("stdin must hold the current password, then the new one, a line each");
  } else {
    current = await askPassword("Current password: ");
    next = await askPassword("New password: ");
    if ((await askPassword("New password (again): ")) !== next)
      throw new UsageError("the passwords do not match");
  }
  const accounts = new Session(env.server, env.store).client(AccountService);
  const { sessionsRevoked } = await accounts.changePassword({ currentPassword: current, newPassword: next });
  env.out(`password changed; ${sessionsRevoked} other session(s) signed out (this one stays signed in)`);
  return 0;
};

export const PASSWD: Command = {
  name: "passwd",
  usage: "",
  summary: "change your password; every other session is signed out",
  details:
    'Asks for the current and the new password, or reads them from stdin, a line each:\n  printf "%s\\n%s\\n" "$OLD" "$NEW" | filestore passwd --password-stdin',
  options: {
    "password-stdin": { type: "boolean", description: "read the current and the new password from stdin" },
  },
  minArgs: 0,
  maxArgs: 0,
  run: passwd,
};

const day = (t: Parameters<typeof isoTime>[0]) => (isoTime(t) ?? "").slice(0, 16).replace("T", " ");

async function list(env: Env, accounts: Client<typeof AccountService>, json: boolean) {
  const { sessions } = await accounts.listSessions({});
  if (json) {
    const items = sessions.map((s) => ({
      id: s.id,
      createdAt: isoTime(s.createdAt),
      lastUsedAt: isoTime(s.lastUsedAt),
      clientAddress: s.clientAddress,
      userAgent: s.userAgent,
      current: s.current,
    }));
    env.out(JSON.stringify(items));
    return 0;
  }
  for (const s of sessions) {
    const mark = s.current ? "*" : " ";
    env.out(
      `${mark} ${s.id}  signed in ${day(s.createdAt)}  last used ${day(s.lastUsedAt)}  ${s.clientAddress || "-"}  ${s.userAgent || "-"}`,
    );
  }
  return 0;
}

const accountsOf = (env: Env) => new Session(env.server, env.store).client(AccountService);

const sessions: Handler = async (env, args, options) => {
  const [action = "ls", target] = args;
  const accounts = accountsOf(env);
  if (action === "ls" && args.length <= 1) return list(env, accounts, options.json === true);
  if (action !== "revoke" || !target || args.length !== 2)
    throw new UsageError("usage: filestore sessions [ls] | sessions revoke <id|others|all>", "sessions");
  if (target === "others" || target === "all") {
    const { sessionsRevoked } = await accounts.signOutEverywhere({ keepCurrent: target === "others" });
    if (target === "all") env.store.set(env.server, undefined);
    env.out(`signed out ${sessionsRevoked} session(s)${target === "all" ? ", this one included" : ""}`);
    return 0;
  }
  await accounts.revokeSession({ sessionId: target });
  env.out(`signed out session ${target}`);
  return 0;
};

export const SESSIONS: Command = {
  name: "sessions",
  usage: "[ls] | revoke <id|others|all>",
  summary: "list where you are signed in, or sign a session out",
  details: `Lists your sessions (* marks this one): id, when it signed in, when it last refreshed, from where.
revoke <id> signs one out; revoke others every one but this; revoke all every one, this included.
With --json, sessions prints one JSON array of {id,createdAt,lastUsedAt,clientAddress,userAgent,current}.`,
  options: { json: { type: "boolean", description: "the list as JSON (fields above)" } },
  minArgs: 0,
  maxArgs: 2,
  run: sessions,
};

async function newRecoveryCodes(env: Env, options: Record<string, unknown>, json: boolean) {
  const password = options["password-stdin"] ? await passwordFromStdin() : await askPassword("Password: ");
  const code =
    typeof options.otp === "string" ? options.otp : await askLine("Current code from your authenticator: ");
  const { recoveryCodes } = await accountsOf(env).regenerateRecoveryCodes({ password, code });
  if (json) env.out(JSON.stringify({ recoveryCodes }));
  else {
    env.out("new recovery codes (shown this once; the old ones no longer work):");
    for (const c of recoveryCodes) env.out(`  ${c}`);
  }
  return 0;
}

const twoFactor: Handler = async (env, args, options) => {
  const [action = "status"] = args;
  const json = options.json === true;
  if (action === "recovery-codes") return newRecoveryCodes(env, options, json);
  if (action !== "status")
    throw new UsageError("usage: filestore 2fa [status] | 2fa recovery-codes [--otp <code>]", "2fa");
  const status = await accountsOf(env).getTwoFactorStatus({});
  if (json) env.out(JSON.stringify({ enabled: status.enabled, recoveryCodesLeft: status.recoveryCodesLeft }));
  else
    env.out(
      status.enabled
        ? `two-factor sign-in is on; ${status.recoveryCodesLeft} recovery code(s) left`
        : "two-factor sign-in is off (turn it on in the web UI's account page)",
    );
  return 0;
};

export const TWO_FACTOR: Command = {
  name: "2fa",
  usage: "[status] | recovery-codes",
  summary: "two-factor sign-in: its status, or new recovery codes",
  details: `status says whether two-factor sign-in is on and how many recovery codes are left.
recovery-codes replaces your recovery codes with 10 new ones, shown once (the old ones stop working):
it asks for your password (or reads it from stdin with --password-stdin) and a current authenticator code
(or takes it with --otp; a recovery code is not accepted).
With --json: status prints {enabled,recoveryCodesLeft}; recovery-codes prints {recoveryCodes}.`,
  options: {
    json: { type: "boolean", description: "print JSON (fields above)" },
    "password-stdin": { type: "boolean", description: "read the password from stdin" },
    otp: { type: "string", description: "a current code from your authenticator" },
  },
  minArgs: 0,
  maxArgs: 1,
  run: twoFactor,
};
