// Services mode, the event bus on Redis Streams (the shared test Redis, this stack's own key prefix):
// a WatchTransfers client sees one transfer's states in order as they happen, and one that reconnects
// with the last event id it saw gets the rest — none again, none lost; a purge that drops the last
// reference to some content puts a "blob unreferenced" event on the bus (topic "blobs").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import Redis from "ioredis";
import {
  JobState,
  TransferService,
  type WatchTransfersResponse,
} from "../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import {
  ACCOUNT,
  connectCall,
  eventually,
  FILES,
  MODE,
  type Stack,
  sha256,
  signedInUser,
  startStack,
  uniqueName,
} from "./harness.ts";
import { dropBucket, S3, s3Admin, transferPolicyEnv } from "./s3.ts";

const redisUrl = process.env.TEST_REDIS_URL ?? "";

describe.skipIf(MODE !== "services" || !S3.endPoint || !redisUrl)(
  "event bus: transfer states and unreferenced content (services mode, Redis Streams)",
  () => {
    const bucket = `e2e-transfer-events-${Date.now().toString(36)}`;
    const admin = s3Admin(S3.endPoint);
    const operator = uniqueName("op");
    let stack: Stack;
    let op: string;
    let redis: Redis;

    beforeAll(async () => {
      stack = await startStack({ ...transferPolicyEnv(bucket), ADMIN_USERS: operator });
      const password = "correct horse battery";
      expect(
        (await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signup`, { username: operator, password })).status,
      ).toBe(200);
      const signin = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signin`, {
        username: operator,
        password,
      });
      op = (signin.json.tokens as { accessToken: string }).accessToken;
      redis = new Redis(redisUrl);
    }, 180_000);
    afterAll(async () => {
      redis?.disconnect();
      await stack?.stop();
      await dropBucket(admin, bucket);
    });

    const client = () =>
      createClient(
        TransferService,
        createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
      );
    const stateOf = (r: WatchTransfersResponse) => (r.reload ? "RELOAD" : JobState[r.job?.state ?? 0]);

    /** Reads WatchTransfers for one blob until `enough` says so (or 60 s); the stream is closed after. */
    async function watch(
      blob: string,
      afterEventId: string,
      enough: (got: WatchTransfersResponse[]) => boolean,
    ) {
      const got: WatchTransfersResponse[] = [];
      const stop = AbortSignal.timeout(60_000);
      try {
        for await (const r of client().watchTransfers(
          { blobSha256: blob, afterEventId },
          { headers: { authorization: `Bearer ${op}` }, signal: stop },
        )) {
          got.push(r);
          if (enough(got)) break; // leaving the loop closes the stream: the client goes away
        }
      } catch (err) {
        if (!stop.aborted) throw err;
      }
      return got;
    }

    test("WatchTransfers: queued, running, done in order; a reconnect with the last event id gets the rest", async () => {
      const user = await signedInUser(stack.gatewayUrl);
      const content = crypto.getRandomValues(new Uint8Array(512 * 1024));
      const blob = sha256(content);
      // The first connection: until the first change that came from the bus (it has an event id).
      const first = watch(blob, "", (got) => got.some((r) => r.eventId !== ""));
      await Bun.sleep(500);
      const put = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=watched.bin`, {
        method: "PUT",
        headers: { authorization: `Bearer ${user.accessToken}` },
        body: content,
      });
      expect(put.status).toBe(201);
      const before = await first;
      const last = before.at(-1)?.eventId ?? "";
      expect(last).toMatch(/^\d+-\d+$/);
      // The client went away; it comes back with the last id it saw, and gets what came after it.
      const after = await watch(blob, last, (got) => got.some((r) => r.job?.state === JobState.DONE));
      expect([...before, ...after].map(stateOf)).toEqual(["QUEUED", "RUNNING", "DONE"]);
      expect(after.every((r) => r.eventId !== "" && r.job?.blobSha256 === blob)).toBe(true);
      expect(after.at(-1)?.job?.attempts).toBe(1);
      // Event ids only grow: the stream's order.
      const ids = [...before, ...after].map((r) => r.eventId).filter((id) => id !== "");
      const asNumbers = ids.map((id) => id.split("-").map(BigInt) as [bigint, bigint]);
      for (let i = 1; i < asNumbers.length; i++) {
        const [a, b] = [asNumbers[i - 1] as [bigint, bigint], asNumbers[i] as [bigint, bigint]];
        expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
      }
      // A cursor the stream never held: told to reload first.
      const lost = await watch(blob, "1-1", (got) => got.length >= 1);
      expect(lost.map(stateOf)).toEqual(["RELOAD"]);
    }, 120_000);

    test("a purge that drops the last reference puts a blob-unreferenced event on the bus", async () => {
      const user = await signedInUser(stack.gatewayUrl);
      const auth = { authorization: `Bearer ${user.accessToken}` };
      const content = crypto.getRandomValues(new Uint8Array(4096));
      const blob = sha256(content);
      const ids: string[] = [];
      for (const name of ["one.bin", "two.bin"]) {
        const put = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${name}`, {
          method: "PUT",
          headers: auth,
          body: content,
        });
        expect(put.status).toBe(201);
        ids.push(((await put.json()) as { file: { id: string } }).file.id);
      }
      const stream = `${stack.services?.env.REDIS_PREFIX ?? ""}events:blobs`;
      const told = async () =>
        (await redis.xrange(stream, "-", "+")).filter(([, fields]) => fields[1]?.includes(blob)).length;
      const purge = async (id: string) => {
        expect((await connectCall(stack.gatewayUrl, `${FILES}/DeleteFile`, { id }, auth)).status).toBe(200);
        expect((await connectCall(stack.gatewayUrl, `${FILES}/PurgeFile`, { id }, auth)).status).toBe(200);
      };
      await purge(ids[0] as string); // the other file still refers to the content
      await purge(ids[1] as string);
      expect(await eventually(async () => (await told()) > 0, 30_000)).toBe(true);
      expect(await told()).toBe(1);
      const [, fields] = (await redis.xrange(stream, "-", "+")).find(([, f]) => f[1]?.includes(blob)) ?? [];
      expect(JSON.parse(fields?.[1] ?? "{}")).toEqual({ sha256: blob });
    }, 60_000);
  },
);
