// The account commands of `filestore`: signup, login (with a two-factor code when needed), logout, whoami.
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../core/reasons.ts";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { type OptionValues, UsageError } from "./args.ts";
import type { Command, Env, Handler } from "./commands.ts";
import { isoTime } from "./json-output.ts";
import { askLine, askPassword, linesFromStdin } from "./prompt.ts";
import { credentialsFrom, Session } from "./session.ts";

const passwordStdin = {
  "password-stdin": {
    type: "boolean",
    description:
      "read the password from stdin (first line; login: a second line is the new password when one must be chosen)",
  },
} as const;

const signupOptions = {
  ...passwordStdin,
  invite: {
    type: "string",
    value: "code",
    description: "an invite code from an administrator (servers with SIGNUP=invite); asked for when needed",
  },
} as const;

const loginOptions = {
  ...passwordStdin,
  otp: {
    type: "string",
    value: "code",
    description: "a two-factor code (TOTP or recovery code); asked for when needed and not given",
  },
} as const;

/** The username and password; with --password-stdin, also a new password from stdin's second line. */
async function credentialsPrompt(args: string[], options: OptionValues, confirm: boolean) {
  const username = args[0] ?? (await askLine("Username: "));
  if (!username) throw new UsageError("a username is required");
  if (options["password-stdin"]) {
    const [password = "", newPassword] = await linesFromStdin(2);
    if (!password) throw new UsageError("stdin held no password");
    return { username, password, newPassword: newPassword || undefined };
  }
  const password = await askPassword("Password: ");
  if (confirm && (await askPassword("Password (again): ")) !== password) {
    throw new UsageError("the passwords do not match");
  }
  return { username, password, newPassword: undefined as string | undefined };
}

/** A new password chosen at the terminal (twice), when an administrator set the current one. */
async function chooseNewPassword(): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError(
      "an administrator reset this account's password: choose a new one by piping both to --password-stdin (current, then new, a line each)",
    );
  process.stderr.write("An administrator set this account's password: choose a new one.\n");
  const next = await askPassword("New password: ");
  if ((await askPassword("New password (again): ")) !== next)
    throw new UsageError("the passwords do not match");
  return next;
}

async function signIn(
  env: Env,
  username: string,
  password: string,
  more: { otp?: string; newPassword?: string } = {},
): Promise<void> {
  const session = new Session(env.server, env.store);
  let secondFactor = more.otp ?? "";
  let newPassword = more.newPassword ?? "";
  const attempt = () => session.accounts.signin({ username, password, secondFactor, newPassword });
  let res: Awaited<ReturnType<typeof attempt>> | undefined;
  // Each missing piece is asked for once: the two-factor code (unless given and wrong), then a new
  // password when an administrator reset the current one (unless one was given and refused).
  for (let asked = 0; !res; asked++) {
    try {
      res = await attempt();
    } catch (err) {
      const reason = reasonOf(err);
      if (asked < 2 && reason === Reason.SECOND_FACTOR_REQUIRED && !secondFactor) {
        if (!process.stdin.isTTY)
          throw new UsageError("this account uses two-factor sign-in: give a code with --otp <code>");
        secondFactor = await askLine("Two-factor code (or a recovery code): ");
      } else if (asked < 2 && reason === Reason.PASSWORD_CHANGE_REQUIRED && !newPassword) {
        newPassword = await chooseNewPassword();
      } else throw err;
    }
  }
  const { user, tokens } = res;
  env.store.set(
    env.server,
    credentialsFrom(tokens, { id: user?.id ?? "", username: user?.username ?? username }),
  );
  env.out(`signed in to ${env.server} as ${user?.username ?? username}`);
}

const login: Handler = async (env, args, options) => {
  const { username, password, newPassword } = await credentialsPrompt(args, options, false);
  const otp = typeof options.otp === "string" ? options.otp : undefined;
  await signIn(env, username, password, { otp, newPassword });
  return 0;
};

const signup: Handler = async (env, args, options) => {
  const { username, password } = await credentialsPrompt(args, options, true);
  const accounts = new Session(env.server, env.store).accounts;
  const given = typeof options.invite === "string" ? options.invite : "";
  try {
    await accounts.signup({ username, password, inviteCode: given });
  } catch (err) {
    // The server wants an invite code: ask for it once at a terminal (unless one was given and refused).
    if (given || reasonOf(err) !== Reason.INVITE_REQUIRED || !process.stdin.isTTY) throw err;
    const inviteCode = await askLine("Invite code: ");
    await accounts.signup({ username, password, inviteCode });
  }
  await signIn(env, username, password);
  return 0;
};

const logout: Handler = async (env) => {
  const creds = env.store.get(env.server);
  if (!creds) {
    env.out(`not signed in to ${env.server}`);
    return 0;
  }
  // Forget locally whatever the server says: the user asked to be signed out here.
  env.store.set(env.server, undefined);
  try {
    await new Session(env.server, env.store).accounts.signout({ refreshToken: creds.refreshToken });
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code !== Code.Unauthenticated) {
      process.stderr.write(
        `filestore: removed the local credentials, but the server did not revoke them: ${e.rawMessage}\n`,
      );
      return 1;
    }
  }
  env.out(`signed out of ${env.server}`);
  return 0;
};

const whoami: Handler = async (env, _args, options) => {
  const session = new Session(env.server, env.store);
  const { user } = await session.client(AccountService).getUserInfo({});
  if (options.json) {
    const { id = "", username = "", createdAt, lastActiveAt } = user ?? {};
    const fields = { createdAt: isoTime(createdAt), lastActiveAt: isoTime(lastActiveAt) };
    env.out(JSON.stringify({ id, username, server: env.server, ...fields }));
    return 0;
  }
  env.out(`${user?.username} (id ${user?.id}) on ${env.server}`);
  return 0;
};

export const SIGNUP: Command = {
  name: "signup",
  usage: "[username]",
  summary: "create an account, then sign in",
  details:
    "On a server with SIGNUP=invite, give the invite code an administrator made (filestore admin invite)\nwith --invite, or type it when asked.",
  options: signupOptions,
  minArgs: 0,
  maxArgs: 1,
  run: signup,
};

export const LOGIN: Command = {
  name: "login",
  usage: "[username]",
  summary: "sign in; the tokens are kept in ~/.config/filestore/credentials.json (mode 0600)",
  details:
    'Asks for the password without echoing it, or reads it from stdin:\n  echo "$PASSWORD" | filestore login alice --password-stdin\nWith two-factor sign-in on, it asks for a code too, or takes one with --otp. When an administrator\nreset the password, it asks for a new one (or takes it from the second line of --password-stdin).',
  options: loginOptions,
  minArgs: 0,
  maxArgs: 1,
  run: login,
};

export const LOGOUT: Command = {
  name: "logout",
  usage: "",
  summary: "sign out (revokes the session on the server)",
  options: {},
  minArgs: 0,
  maxArgs: 0,
  run: logout,
};

export const WHOAMI: Command = {
  name: "whoami",
  usage: "",
  summary: "show who is signed in",
  options: {
    json: { type: "boolean", description: "one JSON object {id,username,server,createdAt,lastActiveAt}" },
  },
  minArgs: 0,
  maxArgs: 0,
  run: whoami,
};
