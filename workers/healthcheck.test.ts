// The containers' health check against a stand-in process: a worker's gRPC health, all-in-one's /healthz.
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";

let status = "SERVING";
let healthz = 404;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) =>
    new URL(req.url).pathname === "/grpc.health.v1.Health/Check"
      ? Response.json({ status })
      : new Response(null, { status: healthz }),
});
afterAll(() => server.stop(true));

const check = async (port = server.port) => {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "healthcheck.ts")], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port) },
  });
  return await proc.exited;
};

test("healthy when gRPC health says SERVING, or when /healthz answers 200", async () => {
  expect(await check()).toBe(0);
  status = "NOT_SERVING"; // draining
  expect(await check()).toBe(1);
  healthz = 200; // all-in-one (its HTTP port has no gRPC health)
  expect(await check()).toBe(0);
});

test("unhealthy when nothing listens", async () => {
  const port = server.port;
  const spare = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const free = spare.port;
  spare.stop(true);
  expect(port).not.toBe(free);
  expect(await check(free)).toBe(1);
});
