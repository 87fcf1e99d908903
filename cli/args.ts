// Command-line parsing: `filestore [global options] <command> [options] [args]`, with help text generated
// from the same specs that drive the parser, so the two never disagree.
import { parseArgs } from "node:util";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
  /** Placeholder shown in help for string options. */
  value?: string;
  /** May be given several times (string options): the value is then a list. */
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  /** Arguments as shown in the usage line, e.g. "<paths…>". */
  usage: string;
  summary: string;
  /** More lines of help (examples, exit codes). */
  details?: string;
  options: Record<string, OptionSpec>;
  minArgs: number;
  maxArgs: number;
}

/** A mistake in how the CLI was called (exit code 2). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: {
    type: "string",
    value: "URL",
    description: "the filestore gateway (default: $FILESTORE_URL, else http://localhost:8080)",
  },
  help: { type: "boolean", short: "h", description: "show help" },
};

export type OptionValues = Record<string, string | string[] | boolean | undefined>;

export type Invocation =
  | { kind: "help"; command?: CommandSpec }
  | { kind: "version" }
  | { kind: "run"; command: CommandSpec; options: OptionValues; args: string[] };

/** Where the command name is: the first token that is neither an option nor a global option's value. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith("-") || a === "-") return i;
    const long = a.startsWith("--") ? a.slice(2) : undefined;
    if (long !== undefined && !long.includes("=") && GLOBAL_OPTIONS[long]?.type === "string") i++;
  }
  return -1;
}

export function parseCommandLine(argv: string[], commands: CommandSpec[]): Invocation {
  const at = commandIndex(argv);
  if (at < 0) {
    if (argv.includes("--version") || argv.includes("-V")) return { kind: "version" };
    // Global options alone (or nothing): the overview, after checking the options are real.
    parse(argv, GLOBAL_OPTIONS);
    return { kind: "help" };
  }
  const name = argv[at] as string;
  if (name === "help") {
    const topic = argv[at + 1];
    return { kind: "help", command: topic ? find(commands, topic) : undefined };
  }
  const command = find(commands, name);
  const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  const { values, positionals } = parse(rest, { ...GLOBAL_OPTIONS, ...command.options }, command.name);
  if (values.help) return { kind: "help", command };
  if (positionals.length < command.minArgs) {
    throw new UsageError(`missing arguments: filestore ${command.name} ${command.usage}`, command.name);
  }
  if (positionals.length > command.maxArgs) {
    throw new UsageError(`too many arguments: filestore ${command.name} ${command.usage}`, command.name);
  }
  return { kind: "run", command, options: values, args: positionals };
}

function find(commands: CommandSpec[], name: string): CommandSpec {
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  return command;
}

function parse(args: string[], options: Record<string, OptionSpec>, command?: string) {
  try {
    return parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (err) {
    // node:util's messages are good but long; keep the first sentence.
    const message = err instanceof Error ? (err.message.split(". ")[0] ?? err.message) : String(err);
    throw new UsageError(message.replace(/^TypeError \[\w+\]: /, ""), command);
  }
}

/** Every value of a repeatable string option (none when absent). */
export const listOption = (options: OptionValues, name: string): string[] => {
  const raw = options[name];
  return Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
};

/** A whole number option within bounds, or the default when absent. */
export function intOption(options: OptionValues, name: string, fallback: number, min: number, max: number) {
  const raw = options[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" && /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function commandHelp(c: CommandSpec): string {
  return [
    `Usage: filestore ${c.name}${c.usage ? ` ${c.usage}` : ""} [options]`,
    "",
    c.summary,
    ...(c.details ? ["", c.details] : []),
    "",
    "Options:",
    ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }),
  ].join("\n");
}

export function overviewHelp(commands: CommandSpec[], exitCodes: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: filestore [--server URL] <command> [options] [args]",
    "",
    "A command-line client for filestore.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Run `filestore <command> --help` for a command's options.",
    "",
    exitCodes,
  ].join("\n");
}
