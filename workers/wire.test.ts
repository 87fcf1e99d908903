// The wires (workers/<svc>/wire.ts) and the all-in-one composition: stop() stops every timer start() and
// the wire's blob stores started (store sweeps, session sweeps, GC, watch checks, transfer polls), and a
// store the composer handed in stays open until the composer closes it.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessTokenVerifier } from "../core/access-token.ts";
import { allInOneSections, startAllInOne } from "./allinone.ts";
import { createDownloadWorker, downloadSections } from "./download/wire.ts";
import { createFileWorker, fileSections } from "./file/wire.ts";
import { openBlobStores } from "./lib/blobstore/index.ts";
import { loadConfig } from "./lib/config.ts";
import type { Worker, WorkerClients } from "./lib/worker.ts";
import { createTransferWorker, sqliteTransferQueue, transferSections } from "./transfer/wire.ts";
import { createUploadWorker, uploadSections } from "./upload/wire.ts";

type Timer = ReturnType<typeof setInterval>;

/**
 * Records the intervals started and cleared while it is installed: what `running()` returns after a stop
 * would keep firing (and keep a sweep going over a closed store).
 */
function trackIntervals() {
  const { setInterval: realSet, clearInterval: realClear } = globalThis;
  const started = new Set<Timer>();
  globalThis.setInterval = ((...args: Parameters<typeof realSet>) => {
    const t = realSet(...args);
    started.add(t);
    return t;
  }) as typeof realSet;
  globalThis.clearInterval = ((t: Timer) => {
    started.delete(t);
    realClear(t);
  }) as typeof realClear;
  return {
    running: () => started.size,
    restore() {
      globalThis.setInterval = realSet;
      globalThis.clearInterval = realClear;
      for (const t of started) realClear(t);
    },
  };
}

let dir: string;
let timers: ReturnType<typeof trackIntervals>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "filestore-wire-"));
  timers = trackIntervals();
});
afterEach(() => {
  timers.restore();
  rmSync(dir, { recursive: true, force: true });
});

// The timers run minutes apart: nothing calls these clients during the test.
const clients = (): WorkerClients => ({
  meta: {} as WorkerClients["meta"],
  verifier: {} as AccessTokenVerifier,
  internalSecret: "an internal secret for the wire test",
});
const env = () => ({ DATA_DIR: dir, GC_INTERVAL_SECONDS: "600", UPLOAD_SWEEP_SECONDS: "600" });

const wires: Record<string, () => Promise<Worker>> = {
  upload: () => createUploadWorker(loadConfig("upload", uploadSections, env()), clients()),
  download: () => createDownloadWorker(loadConfig("download", downloadSections, env()), clients()),
  file: () => createFileWorker(loadConfig("file", fileSections, env()), clients()),
  transfer: () => {
    const config = loadConfig("transfer", transferSections, env());
    return createTransferWorker(config, { ...clients(), queue: sqliteTransferQueue(config) });
  },
};

describe("a wire's stop()", () => {
  for (const [name, create] of Object.entries(wires)) {
    test(`${name}: stops its timers and closes the blob stores it opened`, async () => {
      const worker = await create();
      worker.start();
      expect(timers.running()).toBeGreaterThan(0); // the local store's sweeps at least
      await worker.stop();
      expect(timers.running()).toBe(0);
    });
  }

  test("leaves the stores its composer handed in open, for the composer to close", async () => {
    const config = loadConfig("upload", uploadSections, env());
    const stores = await openBlobStores(config.storage.stores);
    const storeTimers = timers.running();
    expect(storeTimers).toBeGreaterThan(0);
    const worker = await createUploadWorker(config, { ...clients(), stores });
    worker.start();
    await worker.stop();
    expect(timers.running()).toBe(storeTimers);
    stores.close();
    expect(timers.running()).toBe(0);
  });
});

test("the all-in-one process's stop() stops every timer it started, its blob store's included", async () => {
  const config = loadConfig("gateway", allInOneSections, {
    ...env(),
    HOST: "127.0.0.1",
    PORT: "0",
    GRPC_PORT: "0",
  });
  const app = await startAllInOne(config);
  expect(timers.running()).toBeGreaterThan(0);
  await app.stop();
  expect(timers.running()).toBe(0);
});

test("all-in-one without INTERNAL_SECRET keeps one random secret in its data directory across restarts", async () => {
  const config = loadConfig("gateway", allInOneSections, {
    ...env(),
    HOST: "127.0.0.1",
    PORT: "0",
    GRPC_PORT: "0",
  });
  expect(config.internalSecret).toBeUndefined();
  const file = join(dir, "internal-secret");
  await (await startAllInOne(config)).stop();
  const first = readFileSync(file, "utf8").trim();
  expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  // Links signed before a restart (derived from it) stay valid after it.
  await (await startAllInOne(config)).stop();
  expect(readFileSync(file, "utf8").trim()).toBe(first);
});
