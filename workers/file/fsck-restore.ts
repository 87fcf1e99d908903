// The scrub's repair (fsck-scrub.ts): content whose bytes no longer hash to its SHA-256 restored from a
// second copy, when one exists and hashes right. The copies a blob may have are a transfer's: the S3 key
// its attempt wrote (a transfer in progress, or one that was never switched to) and the local copy a move
// leaves for its grace period. The good bytes are written as a new object on the blob's own backend (staged
// with the expected SHA-256 and size, so nothing wrong is committed), the row is pointed at it if it still
// names the bad object, and the bad object is deleted.
import { Code, ConnectError } from "@connectrpc/connect";
import type { FsckDeps } from "./fsck.ts";
import { hashStored } from "./fsck-hash.ts";

interface Blob {
  sha256: string;
  backend: string;
  location: string;
  size: number;
}

/** The transfer's copies of a blob other than the blob's own bytes, as [backend, location]. */
async function copiesOf(deps: FsckDeps, b: Blob): Promise<[string, string][]> {
  const job = await deps.meta.getTransferJob({ blobSha256: b.sha256 }).catch((err) => {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  });
  const copies: [string, string][] = [];
  if (job?.job?.targetLocation) copies.push(["s3", job.job.targetLocation]);
  if (job?.job?.cleanupLocation) copies.push(["local", job.job.cleanupLocation]);
  return copies.filter(
    ([backend, location]) =>
      !(backend === b.backend && location === b.location) && deps.backends.includes(backend),
  );
}

/** Restores `b` from a good second copy; returns that copy as backend:location, or undefined if none. */
export async function restoreFromCopy(deps: FsckDeps, b: Blob): Promise<string | undefined> {
  for (const [backend, location] of await copiesOf(deps, b)) {
    const found = await hashStored(deps.storeFor, backend, location).catch(() => undefined);
    if (found?.sha256 !== b.sha256) continue;
    const store = deps.storeFor(b.backend);
    const staged = await store.stage(await deps.storeFor(backend).read(location), {
      expectedSha256: b.sha256,
      expectedSize: b.size,
      skipSha1: true,
    });
    const fresh = await staged.commit();
    const { replaced } = await deps.meta.replaceBlobLocation({
      sha256: b.sha256,
      fromLocation: b.location,
      toLocation: fresh,
    });
    if (!replaced) {
      await store.delete(fresh);
      return undefined;
    }
    await store.delete(b.location);
    deps.log?.info("fsck: content restored from a second copy", {
      sha256: b.sha256,
      from: `${backend}:${location}`,
      to: fresh,
    });
    return `${backend}:${location}`;
  }
  return undefined;
}
