// Advisory file locks (flock(2)), through Bun's FFI since node:fs has none. A lock belongs to an open
// file description: it goes away when the descriptor is closed or its process dies (no stale locks after
// a crash), and it holds across processes sharing the directory — upload replicas on one volume (NFS
// emulates flock with its own locks). Never blocking: a lock that is taken is an answer, not a wait.
import { dlopen, FFIType, type Pointer, read } from "bun:ffi";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const darwin = process.platform === "darwin";
const EWOULDBLOCK = darwin ? 35 : 11;

let libc:
  | {
      flock: (fd: number, op: number) => number;
      errno: () => number;
    }
  | undefined;

function load() {
  if (libc) return libc;
  const errnoAt = darwin ? "__error" : "__errno_location";
  const lib = dlopen(darwin ? "libc.dylib" : "libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoAt]: { args: [], returns: FFIType.ptr },
  });
  const where = lib.symbols[errnoAt] as () => Pointer | null;
  libc = {
    flock: lib.symbols.flock as (fd: number, op: number) => number,
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

/** Releases a lock (closing the descriptor does too). */
export function unlock(fd: number): void {
  load().flock(fd, LOCK_UN);
}
