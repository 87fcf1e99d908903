// TransferService over an in-memory transport with the real interceptors: WatchTransfers streams are
// capped per operator, and every way a stream ends gives its place back; the queue's figures and its jobs
// page by page (on both dialects), for operators only, with bad input refused.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { JobState, TransferService } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { memoryBus } from "../lib/bus/memory.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import type { Queue } from "../lib/queue/types.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { codeOf } from "../lib/testing.ts";
import { type TestDatabase, testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { transferModule } from "./service.ts";

const [local] = testBlobStores();

interface Opened {
  f: UploadFixture;
  queue: Queue;
  watches: StreamLimit;
  client: ReturnType<typeof createClient<typeof TransferService>>;
  close(): Promise<void>;
}

/** The service over the upload fixture's meta (SQLite, or `database`), for the operators "op" and "other-op". */
async function openService(clock = { now: Date.now() }, database?: TestDatabase): Promise<Opened> {
  const f = await openUploadFixture(local as NonNullable<typeof local>, clock, database);
  const dir = mkdtempSync(join(tmpdir(), "filestore-transfer-routes-"));
  const queue = openSqliteQueue(join(dir, "queue.db"), "transfer", {
    visibilityMs: 60_000,
    backoffBaseMs: 1,
    backoffMaxMs: 1,
  });
  const watches = new StreamLimit(2);
  const mod = transferModule({
    meta: f.deps.meta,
    queue,
    now: () => clock.now,
    admins: ["op", "other-op"],
    canMove: false,
    kick: async () => {},
    pollMs: 20,
    bus: memoryBus({ retain: 100 }),
    watches,
  });
  // The test verifier takes the bearer token for the user's id and name.
  const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
  const interceptors = [
    errorInterceptor(createLogger("test")),
    authInterceptor({ verifier, internalSecret: f.secret }),
  ];
  const client = createClient(
    TransferService,
    createRouterTransport((r) => mod.routes(r), { router: { interceptors } }),
  );
  return {
    f,
    queue,
    watches,
    client,
    async close() {
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
      await f.close();
    },
  };
}

const as = (who: string) => ({ headers: { authorization: `Bearer ${who}` } });

describe("TransferService.WatchTransfers", () => {
  let o: Opened;
  let watches: StreamLimit;
  let client: Opened["client"];

  beforeEach(async () => {
    o = await openService();
    ({ watches, client } = o);
  });
  afterEach(() => o.close());

  /** A stream as `who`; `ended` resolves with its error, undefined when we aborted it. */
  const open = (who: string) => {
    const stop = new AbortController();
    const ended = (async () => {
      try {
        for await (const _ of client.watchTransfers(
          {},
          { headers: { authorization: `Bearer ${who}` }, signal: stop.signal },
        ));
        return new ConnectError("the stream ended by itself");
      } catch (err) {
        return stop.signal.aborted ? undefined : ConnectError.from(err);
      }
    })();
    return { stop, ended };
  };
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await Bun.sleep(10);
    return check();
  };

  test("at most 2 open streams per operator; an aborted one makes room; nothing stays counted", async () => {
    const a = open("op");
    const b = open("op");
    expect(await until(() => watches.count("op") === 2)).toBe(true);
    const refused = await open("op").ended;
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.ResourceExhausted,
      "too many open watches: close other tabs or clients (limit 2)",
    ]);
    const c = open("other-op"); // another operator has their own
    a.stop.abort();
    expect(await a.ended).toBeUndefined();
    expect(watches.count("op")).toBe(1);
    const d = open("op");
    expect(await until(() => watches.count("op") === 2)).toBe(true);
    // A caller who may not watch is refused before anything is counted.
    expect((await open("mallory").ended)?.code).toBe(Code.PermissionDenied);
    for (const s of [b, c, d]) s.stop.abort();
    await Promise.all([b, c, d].map((s) => s.ended));
    expect(watches.users()).toBe(0);
  });
});

for (const database of testDatabases()) {
  describe(`TransferService queue overview on ${database.dialect}`, () => {
    const t0 = 1_800_000_000_000;
    const clock = { now: t0 };
    let o: Opened;
    const sha = (c: string) => c.repeat(64);
    beforeAll(async () => {
      o = await openService(clock, database);
      const owner = (await o.f.user("alice")).userId;
      // Uploads under the transfer policy a second apart: a (10 bytes) dies, b (20) runs, c (30) waits,
      // d (40) is moved.
      for (const [i, c] of ["a", "b", "c", "d"].entries()) {
        clock.now = t0 + i * 1000;
        await o.f.deps.meta.addFileWithContent({
          file: { ownerId: owner, parentId: "", name: c },
          blob: {
            sha256: sha(c),
            sha1: "",
            size: BigInt(10 * (i + 1)),
            backend: "local",
            location: `blobs/${c}`,
          },
          enqueueTransfer: true,
        });
      }
      clock.now = t0 + 5000;
      await o.f.deps.meta.beginTransferAttempt({ blobSha256: sha("a"), attempt: 1, targetLocation: "s3/a" });
      await o.f.deps.meta.failTransferAttempt({
        blobSha256: sha("a"),
        attempt: 1,
        error: "disk on fire",
        dead: true,
      });
      clock.now = t0 + 6000;
      await o.f.deps.meta.beginTransferAttempt({ blobSha256: sha("b"), attempt: 1, targetLocation: "s3/b" });
      clock.now = t0 + 7000;
      await o.f.deps.meta.beginTransferAttempt({ blobSha256: sha("d"), attempt: 1, targetLocation: "s3/d" });
      await o.f.deps.meta.switchBlobLocation({
        blobSha256: sha("d"),
        fromLocation: "blobs/d",
        toBackend: "s3",
        toLocation: "s3/d",
        deleteLocalAfter: timestampFromMs(clock.now),
      });
      clock.now = t0 + 10_000;
    }, 30_000);
    afterAll(() => o.close());

    test("stats: jobs by state, the oldest queued job and its wait, the bytes still to move", async () => {
      const s = await o.client.getTransferStats({}, as("op"));
      expect({ ...s, $typeName: undefined }).toEqual({
        $typeName: undefined,
        queued: 1n,
        running: 1n,
        failed: 1n,
        done: 1n,
        doneLastHour: 1n,
        localBlobs: 3n,
        oldestQueuedAt: timestampFromMs(t0 + 2000),
        oldestQueuedAge: expect.objectContaining({ seconds: 8n, nanos: 0 }),
        bytesWaiting: 50n,
      });
    });

    test("jobs newest or oldest first, a page at a time, of one state", async () => {
      const all = async (req: { oldestFirst?: boolean; state?: JobState }) => {
        const seen: string[] = [];
        let pageToken = "";
        do {
          const page = await o.client.listTransferJobs({ ...req, pageSize: 1, pageToken }, as("other-op"));
          seen.push(...page.jobs.map((j) => j.blobSha256[0] as string));
          pageToken = page.nextPageToken;
        } while (pageToken);
        return seen.join("");
      };
      expect(await all({})).toBe("dbac");
      expect(await all({ oldestFirst: true })).toBe("cabd");
      expect(await all({ state: JobState.QUEUED })).toBe("c");
      const { jobs } = await o.client.listTransferJobs({ state: JobState.FAILED }, as("op"));
      expect(jobs.map((j) => ({ ...j, $typeName: undefined }))).toEqual([
        {
          $typeName: undefined,
          blobSha256: sha("a"),
          state: JobState.FAILED,
          attempts: 1,
          lastError: "disk on fire",
          size: 10n,
          createdAt: timestampFromMs(t0),
          updatedAt: timestampFromMs(t0 + 5000),
        },
      ]);
      expect((await o.client.getTransferJob({ blobSha256: sha("b") }, as("op"))).job?.size).toBe(20n);
    });

    test("an unknown state, a negative page size, a token of another listing: InvalidArgument", async () => {
      const failed = await o.client.listTransferJobs({ state: JobState.FAILED, pageSize: 1 }, as("op"));
      const everyToken = (await o.client.listTransferJobs({ pageSize: 1 }, as("op"))).nextPageToken;
      expect(everyToken).not.toBe("");
      for (const req of [
        { state: 7 as JobState },
        { pageSize: -1 },
        { pageToken: "garbage" },
        { state: JobState.QUEUED, pageToken: everyToken }, // issued for every state
        { oldestFirst: true, pageToken: everyToken }, // issued for newest first
      ])
        expect(await codeOf(o.client.listTransferJobs(req, as("op")))).toBe(Code.InvalidArgument);
      expect(failed.nextPageToken).toBe("");
      expect((await o.client.listTransferJobs({ pageSize: 5000 }, as("op"))).jobs).toHaveLength(4);
    });

    test("only operators: PermissionDenied for other users, Unauthenticated without a token", async () => {
      expect(await codeOf(o.client.getTransferStats({}, as("mallory")))).toBe(Code.PermissionDenied);
      expect(await codeOf(o.client.listTransferJobs({}, as("mallory")))).toBe(Code.PermissionDenied);
      expect(await codeOf(o.client.getTransferStats({}))).toBe(Code.Unauthenticated);
      expect(await codeOf(o.client.listTransferJobs({}))).toBe(Code.Unauthenticated);
    });
  });
}
