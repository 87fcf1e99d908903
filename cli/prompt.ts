// Asking the user: a line of text, or a password without echo (raw terminal mode), on stderr so that
// stdout stays clean for scripts.
import { createInterface } from "node:readline/promises";
import { UsageError } from "./args.ts";

export class Interrupted extends Error {}

export async function askLine(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("no terminal to ask on: give the username as an argument");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Asks a yes/no question on the terminal (no: anything but y/yes); `noTerminal` is the error without one. */
export async function confirm(question: string, noTerminal: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError(noTerminal);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Reads a password from the terminal without showing it. */
export function askPassword(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new UsageError("no terminal to ask for the password on: pipe it in with --password-stdin");
  }
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = "";
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new Interrupted("interrupted"));
        if (ch === "\u0004" && typed === "") return done(new Interrupted("no password given"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else if (ch >= " ") typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** The first `n` lines of stdin, without their line endings. */
export async function linesFromStdin(n: number): Promise<string[]> {
  const text = await new Response(Bun.stdin.stream()).text();
  return text.split(/\r?\n/).slice(0, n);
}

/** The password piped in: the first line of stdin, without its line ending. */
export async function passwordFromStdin(): Promise<string> {
  return (await linesFromStdin(1))[0] ?? "";
}
