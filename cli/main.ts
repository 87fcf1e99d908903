#!/usr/bin/env bun
// The filestore command-line client (`filestore --help`). Run through the `filestore` bin (cli/bin.mjs),
// or directly: `bun cli/main.ts ...`.
import { commandHelp, overviewHelp, parseCommandLine } from "./args.ts";
import { COMMANDS, type Env, EXIT_CODES } from "./commands.ts";
import { CredentialStore, serverUrl } from "./credentials.ts";
import { describe, EXIT, exitCodeOf } from "./errors.ts";

const VERSION = "0.1.0";

/** Started by the node shim: when it dies (even by SIGKILL), this process must not run on orphaned. */
function followShim(): void {
  const shim = Number(process.env.FILESTORE_SHIM_PID);
  if (!shim) return;
  setInterval(() => {
    if (process.ppid !== shim) process.exit(EXIT.interrupted);
  }, 250).unref();
}

export async function main(argv: string[]): Promise<number> {
  let env: Env | undefined;
  try {
    const call = parseCommandLine(argv, COMMANDS);
    if (call.kind === "version") {
      console.log(`filestore ${VERSION}`);
      return EXIT.ok;
    }
    if (call.kind === "help") {
      console.log(call.command ? commandHelp(call.command) : overviewHelp(COMMANDS, EXIT_CODES));
      return EXIT.ok;
    }
    const e: Env = {
      server: serverUrl(typeof call.options.server === "string" ? call.options.server : undefined),
      store: new CredentialStore(),
      out: (line) => console.log(line),
    };
    env = e;
    process.once("SIGINT", () => {
      e.onInterrupt?.();
      process.exit(EXIT.interrupted);
    });
    const command = COMMANDS.find((c) => c.name === call.command.name);
    return (await command?.run(e, call.args, call.options)) ?? EXIT.ok;
  } catch (err) {
    console.error(`filestore: ${describe(err, env?.server)}`);
    return exitCodeOf(err);
  }
}

if (import.meta.main) {
  followShim();
  process.exit(await main(process.argv.slice(2)));
}
