// The worker port's timeouts (listen() with connection-timers.ts) on real sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type * as http from "node:http";
import * as http2 from "node:http2";
import { connect, type Socket } from "node:net";
import { type Listener, listen } from "./server.ts";

const limits = { headerTimeoutMs: 400, idleTimeoutMs: 600, keepAliveMs: 800 };
// Generous: the machine is shared.
const SLACK_MS = 1_500;

let listener: Listener;
const bodyErrors: string[] = [];

beforeAll(async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === "/slow") {
      setTimeout(() => res.end("slow answer"), limits.idleTimeoutMs * 2);
      return;
    }
    let n = 0;
    req.on("data", (d: Buffer) => {
      n += d.length;
    });
    req.on("error", (err) => bodyErrors.push(String(err)));
    req.on("aborted", () => bodyErrors.push("aborted"));
    req.on("end", () => res.end(`got ${n}`));
  };
  listener = await listen(handler as never, "127.0.0.1", 0, limits);
});
afterAll(() => listener.close(0));

async function open(): Promise<{ sock: Socket; closed: Promise<number>; text: () => string }> {
  const sock = connect(listener.port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.on("error", () => undefined);
  const t0 = performance.now();
  let text = "";
  sock.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  const closed = new Promise<number>((r) => sock.once("close", () => r(performance.now() - t0)));
  return { sock, closed, text: () => text };
}

const race = (p: Promise<number>, ms: number) =>
  Promise.race([p, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), ms))]);

describe("worker port timeouts", () => {
  test("a socket that sends nothing, or half a head, is destroyed at the header timeout", async () => {
    const silent = await open();
    const half = await open();
    half.sock.write("GET / HTTP/1.1\r\nhost: x\r\n");
    for (const c of [silent, half]) {
      const ms = await race(c.closed, limits.headerTimeoutMs + SLACK_MS);
      expect(ms).toBeGreaterThanOrEqual(limits.headerTimeoutMs - 50);
      expect(ms).toBeLessThan(limits.headerTimeoutMs + SLACK_MS);
    }
  });

  test("a body that stops arriving is cut at the idle timeout; the reader sees it fail", async () => {
    const c = await open();
    c.sock.write("PUT /up HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n0123456789");
    const ms = await race(c.closed, limits.idleTimeoutMs + SLACK_MS);
    expect(ms).toBeLessThan(limits.idleTimeoutMs + SLACK_MS);
    await Bun.sleep(50);
    expect(bodyErrors.length).toBeGreaterThan(0);
  });

  test("a body that keeps arriving slowly, and an answer that takes long, are not cut", async () => {
    const c = await open();
    c.sock.write("PUT /up HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n");
    for (const b of "abcd") {
      await Bun.sleep(limits.idleTimeoutMs / 2);
      c.sock.write(b);
    }
    const slow = await open();
    slow.sock.write("GET /slow HTTP/1.1\r\nhost: x\r\n\r\n");
    await Bun.sleep(limits.idleTimeoutMs * 2 + 300);
    expect(c.text()).toContain("got 4");
    expect(slow.text()).toContain("slow answer");
    c.sock.destroy();
    slow.sock.destroy();
  });

  test("an idle kept-alive connection is closed after the keep-alive timeout", async () => {
    const c = await open();
    c.sock.write("GET /ka HTTP/1.1\r\nhost: x\r\n\r\n");
    const ms = await race(c.closed, limits.keepAliveMs + SLACK_MS);
    expect(c.text()).toContain("got 0");
    expect(ms).toBeGreaterThanOrEqual(limits.keepAliveMs - 50);
    expect(ms).toBeLessThan(limits.keepAliveMs + SLACK_MS);
  });

  test("an HTTP/2 connection outlives the header timeout once its preface came", async () => {
    const session = http2.connect(`http://127.0.0.1:${listener.port}`);
    await new Promise((r) => session.once("connect", r));
    await Bun.sleep(limits.headerTimeoutMs + 400);
    const stream = session.request({ ":path": "/h2", ":method": "GET" });
    stream.end();
    let text = "";
    stream.on("data", (d: Buffer) => {
      text += d.toString();
    });
    await new Promise((r) => stream.once("close", r));
    session.close();
    expect(text).toBe("got 0");
  });
});
