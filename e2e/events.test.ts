// Services mode with the event bus on a private Redis (append-only, as a deployment that must not lose
// its streams runs it): two download replicas with a 60 s lookup cache see a delete made elsewhere at
// once (the event drops their entries), and a WatchFiles client sees 1 000 changes in order, none lost
// or doubled, while Redis is killed and started again in the middle.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  WatchFilesResponse_Change as Change,
  FileService,
  type WatchFilesResponse,
} from "../proto/gen/filestore/file/v1/file_pb.ts";
import {
  connectCall,
  eventually,
  FILES,
  freePorts,
  MODE,
  type Stack,
  signedInUser,
  startStack,
} from "./harness.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

describe.skipIf(MODE !== "services")("event bus (services mode, Redis Streams)", () => {
  let stack: Stack;
  let redis: RedisServer;
  beforeAll(async () => {
    const [port] = (await freePorts(1)) as [number];
    redis = await startRedisServer(port, { persist: true });
    stack = await startStack({ REDIS_URL: redis.url, DOWNLOAD_LOOKUP_CACHE_MS: "60000" });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  test("a delete through the file service: both download replicas answer 404 although their cache holds the file for 60 s", async () => {
    const alice = await signedInUser(stack.gatewayUrl);
    const auth = { authorization: `Bearer ${alice.accessToken}` };
    const put = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=cached.txt`, {
      method: "PUT",
      headers: auth,
      body: "cached content",
    });
    expect(put.status).toBe(201);
    const { file } = (await put.json()) as { file: { id: string } };
    const replicas = (stack.services?.env.DOWNLOAD_PORTS ?? "")
      .split(",")
      .map((p) => `http://127.0.0.1:${p}`);
    expect(replicas).toHaveLength(2);
    const get = (base: string) => fetch(`${base}/download/v1/files/${file.id}`, { headers: auth });
    // Each replica has looked the file up (and cached it).
    for (const base of replicas) {
      const res = await get(base);
      expect([res.status, await res.text()]).toEqual([200, "cached content"]);
    }
    const renamed = await connectCall(
      stack.gatewayUrl,
      `${FILES}/RenameFile`,
      { id: file.id, name: "c2.txt" },
      auth,
    );
    expect(renamed.status).toBe(200);
    const named = async (base: string) =>
      (await get(base)).headers.get("content-disposition")?.includes("c2.txt");
    for (const base of replicas)
      expect(await eventually(async () => Boolean(await named(base)), 30_000)).toBe(true);
    expect((await connectCall(stack.gatewayUrl, `${FILES}/DeleteFile`, { id: file.id }, auth)).status).toBe(
      200,
    );
    // Within the cache's 60 s an answer from the cache would still be 200: the 404 comes from the event.
    for (const base of replicas)
      expect(await eventually(async () => (await get(base)).status === 404, 30_000)).toBe(true);
  }, 120_000);

  test("WatchFiles: 1 000 changes in order, none lost or doubled, across a Redis kill -9 and restart", async () => {
    const bob = await signedInUser(stack.gatewayUrl);
    const headers = { authorization: `Bearer ${bob.accessToken}` };
    const client = createClient(
      FileService,
      createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
    );
    const stop = new AbortController();
    const seen: WatchFilesResponse[] = [];
    const reading = (async () => {
      try {
        for await (const e of client.watchFiles({}, { headers, signal: stop.signal })) seen.push(e);
      } catch {
        // aborted below
      }
    })();
    const names = Array.from({ length: 1000 }, (_, i) => `n${String(i).padStart(4, "0")}`);
    const create = async (name: string) =>
      expect((await connectCall(stack.gatewayUrl, `${FILES}/CreateFolder`, { name }, headers)).status).toBe(
        200,
      );
    // The stream is open once a change comes through it (probes until one does).
    for (let i = 0; seen.length === 0 && i < 100; i++) {
      await create(`probe${i}`);
      await eventually(async () => seen.length > 0, 1000);
    }
    const probes = seen.length;
    expect(probes).toBeGreaterThan(0);
    for (const name of names.slice(0, 500)) await create(name);
    await redis.kill();
    for (const name of names.slice(500, 600)) await create(name); // Redis down: the events wait
    await redis.restart();
    for (const name of names.slice(600)) await create(name);
    expect(await eventually(async () => seen.length >= probes + 1000, 60_000)).toBe(true);
    await Bun.sleep(500);
    stop.abort();
    await reading;
    expect(seen.filter((e) => e.reload)).toEqual([]);
    expect(seen.slice(probes).map((e) => e.file?.name)).toEqual(names);
    expect(new Set(seen.map((e) => e.change))).toEqual(new Set([Change.CREATED]));
    // Ids increase: a client could resume after any of them.
    expect(new Set(seen.map((e) => e.eventId)).size).toBe(seen.length);
  }, 300_000);
});
