import { describe, expect, test } from "bun:test";
import {
  type CommandSpec,
  commandHelp,
  intOption,
  overviewHelp,
  parseCommandLine,
  UsageError,
} from "./args.ts";

const commands: CommandSpec[] = [
  {
    name: "upload",
    usage: "<paths…>",
    summary: "upload files",
    options: {
      to: { type: "string", short: "t", value: "folder", description: "remote folder" },
      parallel: { type: "string", short: "p", value: "N", description: "parts in flight" },
      "no-instant": { type: "boolean", description: "skip instant upload" },
    },
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  { name: "logout", usage: "", summary: "sign out", options: {}, minArgs: 0, maxArgs: 0 },
];

const usageError = (argv: string[]) => {
  try {
    parseCommandLine(argv, commands);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
};

describe("parseCommandLine", () => {
  test("command, options before and after it, positionals", () => {
    const r = parseCommandLine(
      ["--server", "http://x:1", "upload", "a", "-t", "/docs", "b", "--no-instant"],
      commands,
    );
    expect(r.kind).toBe("run");
    if (r.kind !== "run") return;
    expect(r.command.name).toBe("upload");
    expect(r.args).toEqual(["a", "b"]);
    expect(r.options).toMatchObject({ server: "http://x:1", to: "/docs", "no-instant": true });
  });

  test("--server=URL form and -- ending options", () => {
    const r = parseCommandLine(["--server=http://y", "upload", "--", "-odd-name"], commands);
    expect(r.kind === "run" && [r.options.server, r.args]).toEqual(["http://y", ["-odd-name"]]);
  });

  test("help: none, --help, per command, help <command>", () => {
    expect(parseCommandLine([], commands)).toEqual({ kind: "help" });
    expect(parseCommandLine(["--help"], commands)).toEqual({ kind: "help" });
    expect(parseCommandLine(["upload", "--help"], commands)).toMatchObject({
      kind: "help",
      command: { name: "upload" },
    });
    expect(parseCommandLine(["help", "logout"], commands)).toMatchObject({
      kind: "help",
      command: { name: "logout" },
    });
    expect(parseCommandLine(["--version"], commands)).toEqual({ kind: "version" });
  });

  test("mistakes are usage errors naming what is wrong", () => {
    expect(usageError(["frobnicate"])).toBe('unknown command "frobnicate"');
    expect(usageError(["upload"])).toBe("missing arguments: filestore upload <paths…>");
    expect(usageError(["logout", "extra"])).toBe("too many arguments: filestore logout ");
    expect(usageError(["upload", "a", "--bogus"])).toContain("--bogus");
    expect(usageError(["upload", "a", "--to"])).toContain("--to");
    expect(usageError(["--bogus"])).toContain("--bogus");
  });
});

describe("intOption", () => {
  test("default, valid, out of range, not a number", () => {
    expect(intOption({}, "parallel", 4, 1, 64)).toBe(4);
    expect(intOption({ parallel: "8" }, "parallel", 4, 1, 64)).toBe(8);
    for (const bad of ["0", "65", "-1", "2.5", "x", ""]) {
      expect(() => intOption({ parallel: bad }, "parallel", 4, 1, 64)).toThrow(
        "--parallel must be a whole number",
      );
    }
  });
});

describe("help text", () => {
  test("lists every option of the command and the global ones", () => {
    const text = commandHelp(commands[0] as CommandSpec);
    expect(text).toStartWith("Usage: filestore upload <paths…> [options]");
    for (const flag of [
      "-t, --to <folder>",
      "-p, --parallel <N>",
      "--no-instant",
      "--server <URL>",
      "-h, --help",
    ]) {
      expect(text).toContain(flag);
    }
  });

  test("the overview lists every command", () => {
    const text = overviewHelp(commands, "Exit codes: ...");
    expect(text).toContain("  upload  upload files");
    expect(text).toContain("  logout  sign out");
    expect(text).toEndWith("Exit codes: ...");
  });
});
