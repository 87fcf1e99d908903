// The account commands of `filestore`: signup, login (with a two-factor code when needed), logout, whoami.
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../core/reasons.ts";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { type OptionValues, UsageError } from "./args.ts";
import type { Command, Env, Handler } from "./commands.ts";
import { isoTime } from "./json-output.ts";
import { askLine, askPassword, passwordFromStdin } from "./prompt.ts";
import { credentialsFrom, Session } from "./session.ts";

const passwordStdin = {
  "password-stdin": { type: "boolean", description: "read the password from stdin (first line)" },
} as const;

const loginOptions = {
  ...passwordStdin,
  otp: {
    type: "string",
    value: "code",
    description: "a two-factor code (TOTP or recovery code); asked for when needed and not given",
  },
} as const;

async function credentialsPrompt(args: string[], options: OptionValues, confirm: boolean) {
  const username = args[0] ?? (await askLine("Username: "));
  if (!username) throw new UsageError("a username is required");
  if (options["password-stdin"]) {
    const password = await passwordFromStdin();
    if (!password) throw new UsageError("stdin held no password");
    return { username, password };
  }
  const password = await askPassword("Password: ");
  if (confirm && (await askPassword("Password (again): ")) !== password) {
    throw new UsageError("the passwords do not match");
  }
  return { username, password };
}

async function signIn(env: Env, username: string, password: string, otp?: string): Promise<void> {
  const session = new Session(env.server, env.store);
  const attempt = (secondFactor: string) => session.accounts.signin({ username, password, secondFactor });
  let res: Awaited<ReturnType<typeof attempt>>;
  try {
    res = await attempt(otp ?? "");
  } catch (err) {
    // Two-factor sign-in: the password was right; ask for the code once (unless it was given and wrong).
    if (otp !== undefined || reasonOf(err) !== Reason.SECOND_FACTOR_REQUIRED) throw err;
    if (!process.stdin.isTTY)
      throw new UsageError("this account uses two-factor sign-in: give a code with --otp <code>");
    res = await attempt(await askLine("Two-factor code (or a recovery code): "));
  }
  const { user, tokens } = res;
  env.store.set(
    env.server,
    credentialsFrom(tokens, { id: user?.id ?? "", username: user?.username ?? username }),
  );
  env.out(`signed in to ${env.server} as ${user?.username ?? username}`);
}

const login: Handler = async (env, args, options) => {
  const { username, password } = await credentialsPrompt(args, options, false);
  await signIn(env, username, password, typeof options.otp === "string" ? options.otp : undefined);
  return 0;
};

const signup: Handler = async (env, args, options) => {
  const { username, password } = await credentialsPrompt(args, options, true);
  await new Session(env.server, env.store).accounts.signup({ username, password });
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
  options: passwordStdin,
  minArgs: 0,
  maxArgs: 1,
  run: signup,
};

export const LOGIN: Command = {
  name: "login",
  usage: "[username]",
  summary: "sign in; the tokens are kept in ~/.config/filestore/credentials.json (mode 0600)",
  details:
    'Asks for the password without echoing it, or reads it from stdin:\n  echo "$PASSWORD" | filestore login alice --password-stdin\nWith two-factor sign-in on, it asks for a code too, or takes one with --otp.',
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
