// Transfer state changes on the event bus, on both buses (memory always; Redis Streams when TEST_REDIS_URL
// is set — CI insists): the worker publishes each change right after meta recorded it, and WatchTransfers
// (the real service over an in-memory transport with the real interceptors) delivers them in order,
// resumes after the last event id it was given, and says reload for a cursor the bus no longer holds.
// Real stores as in transfer.test.ts (local disk → S3 on Ceph RGW; skipped without TEST_S3_*).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  JobState,
  TransferJobSchema,
  TransferService,
  type WatchTransfersResponse,
} from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import type { BlobStore } from "../lib/blobstore/types.ts";
import { publishers } from "../lib/bus/events.ts";
import { testBuses } from "../lib/bus/testing.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { codeOf } from "../lib/testing.ts";
import { transferModule } from "./service.ts";
import { openTransferFixture, type TransferFixture } from "./testing.ts";
import { relay, runJob, type TransferDeps } from "./transfer.ts";

const s3 = testBlobStores().find((b) => b.backend === "s3");
const buses = testBuses("transfer-events");

for (const [kind, openBus] of buses)
  describe.if(s3 !== undefined)(`transfer events on the ${kind} bus`, () => {
    let f: TransferFixture;
    let bus: EventBus;
    let deps: TransferDeps;
    let client: ReturnType<typeof createClient<typeof TransferService>>;

    beforeAll(async () => {
      f = await openTransferFixture(s3 as NonNullable<typeof s3>, async (dir) => ({
        queue: openSqliteQueue(join(dir, "queue.db"), "transfer", {
          visibilityMs: 60_000,
          maxAttempts: 2,
          backoffBaseMs: 1,
          backoffMaxMs: 1,
        }),
      }));
      bus = openBus();
      deps = { ...f.deps, events: publishers(bus) };
      const mod = transferModule({
        meta: f.meta,
        queue: f.queue,
        now: Date.now,
        admins: ["op"],
        canMove: true,
        kick: async () => {},
        bus,
        events: deps.events,
        watches: new StreamLimit(4),
      });
      // The test verifier takes the bearer token for the user's id and name.
      const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
      const interceptors = [
        errorInterceptor(createLogger("test")),
        authInterceptor({ verifier, internalSecret: "s".repeat(32) }),
      ];
      client = createClient(
        TransferService,
        createRouterTransport((r) => mod.routes(r), { router: { interceptors } }),
      );
    });
    afterAll(async () => {
      await bus?.close();
      await f?.close();
    });

    /** A WatchTransfers stream of one blob's job, collected in the background. */
    const watch = (sha256: string, afterEventId = "", who = "op") => {
      const stop = new AbortController();
      const got: WatchTransfersResponse[] = [];
      const ended = (async () => {
        try {
          for await (const r of client.watchTransfers(
            { blobSha256: sha256, afterEventId },
            { headers: { authorization: `Bearer ${who}` }, signal: stop.signal },
          ))
            got.push(r);
        } catch (err) {
          if (!stop.signal.aborted) throw err;
        }
      })();
      return {
        got,
        states: () => got.map((r) => (r.reload ? "RELOAD" : JobState[r.job?.state ?? 0])),
        async until(n: number) {
          for (let i = 0; i < 2000 && got.length < n; i++) await Bun.sleep(10);
          return got.length >= n;
        },
        async stop() {
          stop.abort();
          await ended;
        },
      };
    };
    /** The next delivery of the job of `sha256` (others are acked away). */
    const next = async (sha256: string) => {
      await relay(deps);
      for (;;) {
        const [m] = await f.queue.receive("c", 1, 2000);
        if (!m) throw new Error("no message");
        if (m.key === sha256) return m;
        await f.queue.ack(m);
      }
    };

    test("queued, running, done: in order as they happen; a reconnect with the last id seen resumes after it", async () => {
      const { sha256 } = await f.upload();
      // Started before the job is handed to the queue: the recent change (queued) first, read once.
      const w = watch(sha256);
      expect(await w.until(1)).toBe(true);
      await bus.ready("transfers");
      expect(await runJob(deps, await next(sha256))).toBe("moved");
      expect(await w.until(3)).toBe(true);
      expect(w.states()).toEqual(["QUEUED", "RUNNING", "DONE"]);
      expect(w.got.map((r) => r.job?.blobSha256)).toEqual([sha256, sha256, sha256]);
      expect(w.got[2]?.job).toMatchObject({ attempts: 1, size: 300_000n });
      await w.stop();
      // The last two came from the bus, each with its id: resuming after RUNNING's gives DONE alone.
      const running = w.got[1]?.eventId as string;
      expect(running).not.toBe("");
      const resumed = watch(sha256, running);
      expect(await resumed.until(1)).toBe(true);
      expect(resumed.states()).toEqual(["DONE"]);
      expect(resumed.got[0]?.eventId).toBe(w.got[2]?.eventId as string);
      await resumed.stop();
    });

    test("failed attempts: queued again (retried), then failed (dead); RetryDeadLetter queues it afresh", async () => {
      const { sha256 } = await f.upload();
      const broken: BlobStore = {
        ...f.bucket.store,
        stage: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:1");
        },
      };
      const failing = { ...deps, target: broken };
      const w = watch(sha256);
      expect(await w.until(1)).toBe(true);
      await bus.ready("transfers");
      expect(await runJob(failing, await next(sha256))).toBe("retry");
      expect(await runJob(failing, await next(sha256))).toBe("dead");
      expect(await w.until(5)).toBe(true);
      expect(w.states()).toEqual(["QUEUED", "RUNNING", "QUEUED", "RUNNING", "FAILED"]);
      expect(w.got.map((r) => r.job?.attempts)).toEqual([0, 1, 1, 2, 2]);
      expect(w.got[2]?.job?.lastError).toContain("ECONNREFUSED");
      const retried = await client.retryDeadLetter(
        { blobSha256: sha256 },
        { headers: { authorization: "Bearer op" } },
      );
      expect(retried.job?.state).toBe(JobState.QUEUED);
      expect(await w.until(6)).toBe(true);
      expect(w.got[5]?.job).toMatchObject({ state: JobState.QUEUED, attempts: 0 });
      await w.stop();
      for (const m of await f.queue.receive("drain", 10, 0)) await f.queue.ack(m);
    });

    test("a cursor the bus does not hold: one reload, then the changes that follow; a bad cursor is refused", async () => {
      const { sha256 } = await f.upload();
      // An id of another bus epoch (memory) or long trimmed (Redis): its events are gone.
      const w = watch(sha256, "1-1");
      expect(await w.until(1)).toBe(true);
      expect(w.states()).toEqual(["RELOAD"]);
      expect(await runJob(deps, await next(sha256))).toBe("moved");
      expect(await w.until(4)).toBe(true);
      expect(w.states()).toEqual(["RELOAD", "QUEUED", "RUNNING", "DONE"]);
      await w.stop();
      const refused = await codeOf(
        (async () => {
          for await (const _ of client.watchTransfers(
            { blobSha256: sha256, afterEventId: "not-an-id" },
            { headers: { authorization: "Bearer op" } },
          ));
        })(),
      );
      expect(refused).toBe(Code.InvalidArgument);
      expect(
        await codeOf(
          (async () => {
            for await (const _ of client.watchTransfers(
              {},
              { headers: { authorization: "Bearer mallory" } },
            ));
          })(),
        ),
      ).toBe(Code.PermissionDenied);
    });

    test("changes of one job that reach the bus out of order: an older one after a newer one is skipped", async () => {
      const sha256 = "ab".repeat(32);
      const w = watch(sha256);
      await bus.ready("transfers");
      const at = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
      const t = Date.now();
      const job = (state: JobState, attempts: number, ms: number) =>
        create(TransferJobSchema, { blobSha256: sha256, state, attempts, updatedAt: at(ms) });
      const publish = publishers(bus);
      // Replica B's, until the stream has it (it may not be subscribed yet; repeats are not newer: skipped).
      for (let i = 0; i < 500 && w.got.length === 0; i++) {
        publish.transferChanged(job(JobState.RUNNING, 1, t));
        await Bun.sleep(10);
      }
      publish.transferChanged(job(JobState.QUEUED, 0, t - 5)); // replica A's, older, arriving late
      publish.transferChanged(job(JobState.DONE, 1, t)); // the same millisecond: after running
      publish.transferChanged(job(JobState.RUNNING, 1, t)); // again: not newer than done
      publish.transferChanged(job(JobState.QUEUED, 1, t + 1)); // a retry later on
      expect(await w.until(3)).toBe(true);
      await Bun.sleep(100);
      await w.stop();
      expect(w.states()).toEqual(["RUNNING", "DONE", "QUEUED"]);
    });
  });
