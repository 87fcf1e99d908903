// Test fixture for the upload worker's logic: meta on in-memory SQLite or a given test database
// (through the real interceptors) and a real blob store (local disk, or Ceph RGW when configured).
import type { Interceptor } from "@connectrpc/connect";
import { createAccessTokenVerifier, type Identity } from "../../core/access-token.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import type { OpenedBlobStore, TestBlobStore } from "../lib/blobstore/testing.ts";
import { memoryTransport } from "../lib/clients.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { createMetaClient } from "../lib/meta-client.ts";
import type { ServiceModule } from "../lib/server.ts";
import { type Db, migrateToLatest, openDatabase } from "../meta/db/database.ts";
import type { TestDatabase } from "../meta/db/testing.ts";
import { metaModule } from "../meta/service.ts";
import * as store from "../meta/users.ts";
import { challengeKeyFrom } from "./instant.ts";
import { type Sha1Backfill, sha1Backfill } from "./sha1.ts";
import type { UploadWorkerDeps } from "./wire.ts";

export interface UploadFixture {
  db: Db;
  /** meta's module (for further in-memory clients). */
  meta: ServiceModule;
  interceptors: Interceptor[];
  secret: string;
  opened: OpenedBlobStore;
  deps: UploadWorkerDeps;
  /**
   * A SHA-1 backfill over the fixture's meta and store. Not wired into deps (nothing runs in the
   * background): a test schedules or sweeps when it wants the SHA-1s of modern uploads filled in.
   */
  sha1Backfill: Sha1Backfill;
  /** A new user's identity. */
  user(name: string): Promise<Identity>;
  /** What the blob store holds beyond what it held when the fixture opened. */
  stored(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openUploadFixture(
  backend: TestBlobStore,
  clock: { now: number } = { now: Date.now() },
  database?: TestDatabase,
): Promise<UploadFixture> {
  const secret = "s".repeat(32);
  const { db, drop } = database ? await database.open() : await sqliteInMemory();
  const opened = await backend.open();
  const verifier = createAccessTokenVerifier({ keys: async () => new Uint8Array(32), issuer: "x" });
  const meta = metaModule(db, () => clock.now);
  const interceptors = [
    errorInterceptor(createLogger("test")),
    authInterceptor({ verifier, internalSecret: secret }),
  ];
  const deps: UploadWorkerDeps = {
    meta: createMetaClient(memoryTransport(meta, interceptors, secret)),
    blobs: opened.store,
    storeFor: storeForAll(opened.store),
    maxUploadBytes: 10 * 1024 * 1024,
    sleep: async () => {},
    challengeKey: challengeKeyFrom(secret),
    now: () => clock.now,
    sessionTtlMs: 3_600_000,
    // Small parts keep multipart tests fast.
    minPartSize: 64 * 1024,
  };
  const before = await opened.snapshot();
  return {
    db,
    meta,
    interceptors,
    secret,
    opened,
    deps,
    sha1Backfill: sha1Backfill(deps),
    async user(name) {
      const u = await store.createUser(db, name, "x", 0);
      return { userId: u.id, username: u.username, exp: 0 };
    },
    stored: async () => (await opened.snapshot()).filter((x) => !before.includes(x)),
    async close() {
      await drop();
      await opened.close();
    },
  };
}

async function sqliteInMemory() {
  const db = openDatabase("sqlite::memory:");
  await migrateToLatest(db);
  return { db, drop: () => db.destroy() };
}
