// SHA-1 backfill. SHA-1 serves only the legacy API's `filehash`, so modern uploads do not compute it on the
// request: their blob row records sha1 "" (not known yet), and this module computes it afterwards — right
// after the upload (a queue in this process, one blob at a time, off the request) and in a periodic sweep
// for blobs the queue missed (a crash, a restart, a failure). Until then, legacy lookups by SHA-1 simply
// miss (fast upload asks the client to upload; download by SHA-1 is not found) and listings show "".
import type { BlobRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { type BlobStore, hasFileReads, type StoreFor } from "../lib/blobstore/types.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";

export interface Sha1BackfillDeps {
  meta: MetaClient;
  storeFor: StoreFor;
}

/** A committed blob's SHA-1: off the event loop where the store can (local disk), else by reading it. */
export async function sha1Of(store: BlobStore, location: string): Promise<string> {
  if (hasFileReads(store)) return store.sha1Of(location);
  const hasher = new Bun.CryptoHasher("sha1");
  for await (const chunk of (await store.read(location)) as unknown as AsyncIterable<Uint8Array>)
    hasher.update(chunk);
  return hasher.digest("hex");
}

/** Computes and records the SHA-1 of one blob if it is still unknown; true when this call recorded it. */
export async function fillSha1(deps: Sha1BackfillDeps, blob: BlobRecord): Promise<boolean> {
  if (blob.sha1 || blob.state !== "ready") return false;
  const sha1 = await sha1Of(deps.storeFor(blob.backend), blob.location);
  // The bytes are those of this SHA-256 wherever they live, so the SHA-1 holds even if the content moved
  // (transfer) or was stored again meanwhile.
  const { recorded } = await deps.meta.setBlobSha1({ sha256: blob.sha256, sha1 });
  return recorded;
}

export interface Sha1Backfill {
  /** Queues the blob with this SHA-256 (returns at once; failures are left to the sweep). */
  schedule(sha256: string): void;
  /** Resolves when the queue is empty (tests, shutdown). */
  idle(): Promise<void>;
  /** Fills in every ready blob still without SHA-1, page by page; returns how many it recorded. */
  sweep(): Promise<number>;
}

export function sha1Backfill(deps: Sha1BackfillDeps, log?: Logger): Sha1Backfill {
  const queue = new Set<string>();
  let draining: Promise<void> | undefined;

  async function fillBySha256(sha256: string): Promise<void> {
    const { blob } = await deps.meta.getBlob({ sha256 });
    if (blob) await fillSha1(deps, blob);
  }

  async function drain(): Promise<void> {
    for (let next = first(queue); next !== undefined; next = first(queue)) {
      try {
        await fillBySha256(next);
      } catch (err) {
        log?.warn("SHA-1 backfill failed; the sweep retries", { sha256: next, err: String(err) });
      } finally {
        queue.delete(next);
      }
    }
  }

  function kick() {
    if (draining || queue.size === 0) return;
    draining = drain().finally(() => {
      draining = undefined;
      kick(); // scheduled while the last one finished
    });
  }

  return {
    schedule(sha256) {
      queue.add(sha256);
      kick();
    },
    async idle() {
      while (draining) await draining;
    },
    async sweep() {
      let recorded = 0;
      let after = "";
      for (;;) {
        const { blobs } = await deps.meta.listBlobsWithoutSha1({ afterSha256: after, limit: 100 });
        for (const blob of blobs) {
          // One the queue is working on is left to it.
          if (queue.has(blob.sha256)) continue;
          try {
            if (await fillSha1(deps, blob)) recorded++;
          } catch (err) {
            log?.warn("SHA-1 sweep could not hash a blob", { sha256: blob.sha256, err: String(err) });
          }
        }
        const last = blobs.at(-1);
        if (!last || blobs.length < 100) return recorded;
        after = last.sha256;
      }
    },
  };
}

function first(set: Set<string>): string | undefined {
  for (const x of set) return x;
  return undefined;
}
