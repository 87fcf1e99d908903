import { afterAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import { httpTransport } from "./clients.ts";

interface Replica {
  url: string;
  calls: number;
  server: Server;
}

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** A real Connect server on a free port; `delayMs` makes it slow to answer. */
async function replica(delayMs = 0): Promise<Replica> {
  const r = { url: "", calls: 0 } as Replica;
  r.server = createServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(Health, {
          async check() {
            r.calls++;
            if (delayMs) await Bun.sleep(delayMs);
            return { status: HealthCheckResponse_ServingStatus.SERVING };
          },
        }),
    }),
  );
  await new Promise<void>((res) => r.server.listen(0, "127.0.0.1", res));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
  servers.push(r.server);
  return r;
}

const closed = (s: Server) =>
  new Promise<void>((res) => {
    s.close(() => res());
    s.closeAllConnections();
  });

describe("httpTransport over several replicas", () => {
  test("spreads calls over every replica", async () => {
    const [a, b] = [await replica(), await replica()];
    const client = createClient(Health, httpTransport(`${a.url}, ${b.url}/`, undefined));
    for (let i = 0; i < 10; i++) await client.check({});
    expect(a.calls).toBe(5);
    expect(b.calls).toBe(5);
  });

  test("a replica that went away is routed around: every call still succeeds", async () => {
    const [a, b] = [await replica(), await replica()];
    const client = createClient(Health, httpTransport(`${a.url},${b.url}`, undefined));
    await client.check({});
    await closed(a.server);
    const before = b.calls;
    for (let i = 0; i < 6; i++) {
      const res = await client.check({});
      expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
    expect(b.calls - before).toBe(6);
  });

  test("when no replica answers, the call fails Unavailable after the retries", async () => {
    const a = await replica();
    await closed(a.server);
    const client = createClient(Health, httpTransport(a.url, undefined, { attempts: 3, baseDelayMs: 1 }));
    const err = await client.check({}).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
  });

  test("every call has a deadline: a stuck replica yields DeadlineExceeded", async () => {
    const slow = await replica(2_000);
    const client = createClient(Health, httpTransport(slow.url, undefined, { timeoutMs: 150 }));
    const started = performance.now();
    const err = await client.check({}).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  test("bad address lists are refused with a clear message", () => {
    expect(() => httpTransport(" , ", undefined)).toThrow(/no service address/);
    expect(() => httpTransport("ftp://x:1", undefined)).toThrow(/http:\/\/ or https:\/\//);
  });
});
