// The two system calls node:fs lacks, through Bun's FFI.
//
// flock(2), advisory file locks: a lock belongs to an open file description, so it goes away when the
// descriptor is closed or its process dies (no stale locks after a crash), and it holds across processes
// sharing the directory — upload replicas on one volume (NFS emulates flock with its own locks). Never
// blocking: a lock that is taken is an answer, not a wait.
//
// sync_file_range(2) (Linux), write-behind: starts writing a range of a file back to disk without waiting
// for it and without a journal commit, so that the fdatasync that makes an upload durable finds little
// left to write. Periodic fdatasyncs did that job before at the price of a journal commit (and a disk
// cache flush) each, about 10 ms apiece, which parts written side by side spent waiting.
import { dlopen, FFIType, type Pointer, read } from "bun:ffi";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const SYNC_FILE_RANGE_WRITE = 2;
const darwin = process.platform === "darwin";
const EWOULDBLOCK = darwin ? 35 : 11;

let libc:
  | {
      flock: (fd: number, op: number) => number;
      syncFileRange?: (fd: number, offset: number, nbytes: number, flags: number) => number;
      errno: () => number;
    }
  | undefined;

function load() {
  if (libc) return libc;
  const errnoAt = darwin ? "__error" : "__errno_location";
  const linux = process.platform === "linux";
  const lib = dlopen(darwin ? "libc.dylib" : "libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoAt]: { args: [], returns: FFIType.ptr },
    ...(linux
      ? {
          sync_file_range: {
            args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.u32],
            returns: FFIType.i32,
          },
        }
      : {}),
  });
  const symbols = lib.symbols as Record<string, unknown>;
  const where = symbols[errnoAt] as () => Pointer | null;
  libc = {
    flock: symbols.flock as (fd: number, op: number) => number,
    syncFileRange: symbols.sync_file_range as
      | ((fd: number, offset: number, nbytes: number, flags: number) => number)
      | undefined,
    errno: () => {
      const p = where();
      return p ? read.i32(p, 0) : 0;
    },
  };
  return libc;
}

/** Takes a shared or exclusive lock on an open file; false when another holder's lock is in the way. */
export function tryLock(fd: number, mode: "shared" | "exclusive"): boolean {
  const c = load();
  if (c.flock(fd, (mode === "shared" ? LOCK_SH : LOCK_EX) | LOCK_NB) === 0) return true;
  const errno = c.errno();
  if (errno === EWOULDBLOCK) return false;
  throw new Error(`flock failed (errno ${errno})`);
}

/** Whether startWriteback does anything here (Linux); elsewhere callers sync in the background instead. */
export const canWriteBehind = (): boolean => load().syncFileRange !== undefined;

/**
 * Starts writing `length` bytes of `fd` from `offset` back to disk, not waiting for them. A hint: an error
 * is ignored here (the fdatasync that follows reports what matters).
 */
export function startWriteback(fd: number, offset: number, length: number): void {
  load().syncFileRange?.(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}
