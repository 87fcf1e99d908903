// --on-conflict: what happens when the destination folder already holds the name. The server decides it,
// atomically (ConflictPolicy in file.proto: fail, rename = keep both as "name (2).ext", replace = the file
// there gains a new version); the CLI passes the policy on and turns a refusal into one line naming the
// taken path and how to go past it.
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../core/reasons.ts";
import { ConflictPolicy } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { type OptionSpec, type OptionValues, UsageError } from "./args.ts";

export { ConflictPolicy };

const POLICIES: Record<string, ConflictPolicy> = {
  fail: ConflictPolicy.FAIL,
  rename: ConflictPolicy.RENAME,
  replace: ConflictPolicy.REPLACE,
};

export const ON_CONFLICT: OptionSpec = {
  type: "string",
  value: "fail|rename|replace",
  description:
    "when the name is taken: fail (default), rename (keep both: name (2).ext), replace (the file there gets a new version)",
};

/** The --on-conflict given (FAIL when absent). */
export function conflictOption(options: OptionValues): ConflictPolicy {
  const raw = options["on-conflict"];
  if (raw === undefined) return ConflictPolicy.FAIL;
  const policy = typeof raw === "string" ? POLICIES[raw] : undefined;
  if (policy === undefined)
    throw new UsageError(`--on-conflict is one of ${Object.keys(POLICIES).join(", ")}`);
  return policy;
}

/** The destination's name is taken and the policy did not allow going past it. */
export class NameTaken extends Error {
  constructor(path: string, policy: ConflictPolicy = ConflictPolicy.FAIL) {
    super(
      policy === ConflictPolicy.REPLACE
        ? `${path} already exists and a folder is never replaced: use --on-conflict rename (keep both)`
        : `${path} already exists: use --on-conflict rename (keep both) or replace (a new version of the file)`,
    );
  }
}

/** Whether `err` is the server's "that name is taken" (AlreadyExists, reason NAME_TAKEN). */
export function isNameTaken(err: unknown): boolean {
  if (!(err instanceof ConnectError) || err.code !== Code.AlreadyExists) return false;
  const reason = reasonOf(err);
  return reason === undefined || reason === Reason.NAME_TAKEN;
}

/** `err` as a NameTaken about `path` when the server refused a taken name; anything else unchanged. */
export const nameTakenAt = (err: unknown, path: string, policy?: ConflictPolicy): unknown =>
  isNameTaken(err) ? new NameTaken(path, policy) : err;

/** Joins a remote folder's path and a name for display ("/" + "a.txt" → "/a.txt"). */
export const within = (folder: string, name: string) => `${folder.replace(/\/?$/, "/")}${name}`;
