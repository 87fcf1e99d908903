// Test helper: the consistency checker's dependencies over an upload fixture (meta in memory, a real blob
// store), with a clock past the grace period of everything written now (so every object is judged).
import { storeForAll } from "../lib/blobstore/index.ts";
import type { UploadFixture } from "../upload/testing.ts";
import type { FsckDeps } from "./fsck.ts";

export function fsckDepsFor(f: UploadFixture, backend: string, graceMs: number): FsckDeps {
  return {
    meta: f.deps.meta,
    storeFor: storeForAll(f.opened.store),
    backends: [backend],
    graceMs,
    now: () => Date.now() + 2 * graceMs,
  };
}
