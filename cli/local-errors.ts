// Failures of the local file system as one line a user can act on (`cannot write ./x: permission denied`),
// never a raw `ENOENT: no such file or directory, open '…'` or a stack.

const PROBLEMS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "it is a folder",
  EEXIST: "it already exists",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
  EIO: "input/output error",
};

/** What went wrong, when `err` is a file-system error (it has a code this file knows). */
export function fsProblem(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? PROBLEMS[code] : undefined;
}

export class LocalError extends Error {
  constructor(verb: string, path: string, problem: string, options?: { cause?: unknown }) {
    super(`cannot ${verb} ${path}: ${problem}`, options);
  }
}

/** `err` as a LocalError about `path` when it is a file-system error; anything else unchanged. */
export function asLocal(verb: "read" | "write" | "create", path: string, err: unknown): unknown {
  if (err instanceof LocalError) return err;
  const problem = fsProblem(err);
  return problem ? new LocalError(verb, path, problem, { cause: err }) : err;
}

/** A file-system error nobody wrapped: the path it names (or none) and the problem. */
export function describeFsError(err: unknown): string | undefined {
  const problem = fsProblem(err);
  if (!problem) return undefined;
  const path = (err as { path?: unknown }).path;
  const verb = (err as { syscall?: unknown }).syscall === "mkdir" ? "create" : "access";
  return typeof path === "string" && path
    ? `cannot ${verb} ${path}: ${problem}`
    : `local file error: ${problem}`;
}
