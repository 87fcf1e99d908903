// Test fixture for the transfer worker's logic: meta on in-memory SQLite through the real
// interceptors, a local store in a temp directory, a private bucket on the test S3 (Ceph RGW), and the
// queue the caller opens; plus uploads under the transfer policy and looks at blobs and jobs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { createLocalBlobStore } from "../lib/blobstore/index.ts";
import type { OpenedBlobStore, TestBlobStore } from "../lib/blobstore/testing.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import { memoryTransport } from "../lib/clients.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { createMetaClient, type MetaClient } from "../lib/meta-client.ts";
import type { Queue } from "../lib/queue/types.ts";
import { type Db, migrateToLatest, openDatabase } from "../meta/db/database.ts";
import { metaModule } from "../meta/service.ts";
import * as store from "../meta/users.ts";
import type { TransferDeps } from "./transfer.ts";

export interface TransferFixture {
  db: Db;
  meta: MetaClient;
  /** The temp directory: the local store under blobs/, anything else the caller likes. */
  dir: string;
  local: BlobStore;
  bucket: OpenedBlobStore;
  queue: Queue;
  owner: string;
  /** Targets the bucket; now and the meta clock are `clock` (real time unless given). */
  deps: TransferDeps;
  /** An upload under the transfer policy: local bytes, a blob row and its job (one meta call). */
  upload(size?: number): Promise<{ sha256: string; location: string; body: Uint8Array<ArrayBuffer> }>;
  blobOf(sha256: string): ReturnType<typeof blobOf>;
  jobOf(sha256: string): ReturnType<typeof jobOf>;
  close(): Promise<void>;
}

const blobOf = async (meta: MetaClient, sha256: string) => (await meta.getBlob({ sha256 })).blob;
const jobOf = async (meta: MetaClient, sha256: string) =>
  (await meta.getTransferJob({ blobSha256: sha256 })).job;

export async function openTransferFixture(
  s3: TestBlobStore,
  openQueue: (dir: string) => Promise<{ queue: Queue; drop?: () => Promise<void> }>,
  opts: { clock?: { now: number }; log?: Logger } = {},
): Promise<TransferFixture> {
  const now = opts.clock ? () => (opts.clock as { now: number }).now : Date.now;
  const secret = "s".repeat(32);
  const db = openDatabase("sqlite::memory:");
  await migrateToLatest(db);
  const verifier = createAccessTokenVerifier({ keys: async () => new Uint8Array(32), issuer: "x" });
  const interceptors = [
    errorInterceptor(createLogger("test")),
    authInterceptor({ verifier, internalSecret: secret }),
  ];
  const meta = createMetaClient(memoryTransport(metaModule(db, now), interceptors, secret));
  const dir = mkdtempSync(join(tmpdir(), "filestore-transfer-"));
  const local = await createLocalBlobStore(join(dir, "blobs"));
  const bucket = await s3.open();
  const { queue, drop } = await openQueue(dir);
  const owner = (await store.createUser(db, "owner", "x", 0)).id;
  const deps: TransferDeps = {
    meta,
    queue,
    local,
    target: bucket.store,
    deleteGraceMs: 30_000,
    republishMs: 3_600_000,
    now,
    log: opts.log ?? createLogger("test"),
  };
  let counter = 0;
  return {
    db,
    meta,
    dir,
    local,
    bucket,
    queue,
    owner,
    deps,
    async upload(size = 300_000) {
      const bytes = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
      const body = new Uint8Array(size);
      for (let i = 0; i < size; i += bytes.length)
        body.set(bytes.subarray(0, Math.min(bytes.length, size - i)), i);
      new DataView(body.buffer).setUint32(0, ++counter);
      const staged = await local.stage(
        (async function* () {
          yield body;
        })(),
      );
      const location = await staged.commit();
      await meta.addFileWithContent({
        file: { ownerId: owner, parentId: "", name: `f${counter}` },
        blob: { sha256: staged.sha256, sha1: staged.sha1, size: BigInt(size), backend: "local", location },
        enqueueTransfer: true,
      });
      return { sha256: staged.sha256, location, body };
    },
    blobOf: (sha256) => blobOf(meta, sha256),
    jobOf: (sha256) => jobOf(meta, sha256),
    async close() {
      await (drop ? drop() : queue.close());
      await bucket.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
