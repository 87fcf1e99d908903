import { afterAll, describe, expect, test } from "bun:test";
import { AddressPool, balancedFetch, splitUrls } from "./balance.ts";

describe("AddressPool", () => {
  test("round-robin, skipping resting addresses until their rest is over", () => {
    let now = 0;
    const pool = new AddressPool(["a", "b", "c"], { restMs: 100, now: () => now });
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()]).toEqual(["a", "b", "c", "a"]);
    pool.rest("b");
    expect([pool.pick(), pool.pick(), pool.pick()]).toEqual(["c", "a", "c"]);
    now = 101;
    expect([pool.pick(), pool.pick()]).toEqual(["a", "b"]);
  });

  test("when every address rests, the one that rested longest is tried; `avoid` skips the last failure", () => {
    let now = 0;
    const pool = new AddressPool(["a", "b"], { restMs: 100, now: () => now });
    pool.rest("a");
    now = 10;
    pool.rest("b");
    expect(pool.pick()).toBe("a");
    now = 200;
    expect(pool.pick("a")).toBe("b");
    expect(new AddressPool(["only"]).pick("only")).toBe("only");
  });

  test("splitUrls trims, drops trailing slashes and refuses non-HTTP or empty lists", () => {
    expect(splitUrls(" http://a:1/ ,https://b:2")).toEqual(["http://a:1", "https://b:2"]);
    expect(() => splitUrls("")).toThrow(/no service address/);
    expect(() => splitUrls("redis://a:1")).toThrow(/http/);
  });
});

describe("balancedFetch", () => {
  const servers = [0, 1].map((i) =>
    Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        return new Response(`${i}:${req.method}:${await req.text()}`);
      },
    }),
  );
  afterAll(() => {
    for (const s of servers) s.stop(true);
  });
  const urls = servers.map((s) => `http://127.0.0.1:${s.port}`);

  test("alternates replicas and keeps method, path and body", async () => {
    const f = balancedFetch(new AddressPool(urls));
    const texts: string[] = [];
    for (let i = 0; i < 4; i++)
      texts.push(await (await f(new Request("http://svc/x?y=1", { method: "POST", body: `b${i}` }))).text());
    expect(texts).toEqual(["0:POST:b0", "1:POST:b1", "0:POST:b2", "1:POST:b3"]);
  });

  test("a request with a small body is re-sent to a live replica when one is down", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${dead.port}`;
    dead.stop(true);
    const f = balancedFetch(new AddressPool([deadUrl, urls[0] as string]), { baseDelayMs: 1 });
    for (let i = 0; i < 3; i++) {
      // As it reaches the gateway from a client: with its length.
      const headers = { "content-length": "5" };
      const res = await f(new Request("http://svc/p", { method: "POST", body: "hello", headers }));
      expect(await res.text()).toBe("0:POST:hello");
    }
  });

  test("a streamed body of unknown length is not re-sent: the error reaches the caller", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${dead.port}`;
    dead.stop(true);
    const f = balancedFetch(new AddressPool([deadUrl, urls[0] as string]), { baseDelayMs: 1 });
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("part"));
        c.close();
      },
    });
    const req = new Request("http://svc/p", { method: "PUT", body, duplex: "half" } as RequestInit);
    await expect(f(req)).rejects.toThrow();
    // The failed replica rests: the client's retry of the part goes to the live one.
    const retry = await f(new Request("http://svc/p", { method: "PUT", body: "part" }));
    expect(await retry.text()).toBe("0:PUT:part");
  });

  test("a body is not read ahead of the replica: the request reaches it before its body has arrived", async () => {
    let reached = false;
    const replica = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        reached = true;
        return new Response(`got ${(await req.arrayBuffer()).byteLength}`);
      },
    });
    try {
      let finish = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(10));
          finish = () => {
            c.enqueue(new Uint8Array(990));
            c.close();
          };
        },
      });
      const f = balancedFetch(new AddressPool([`http://127.0.0.1:${replica.port}`]));
      const headers = { "content-length": "1000" };
      const pending = f(
        new Request("http://svc/p", { method: "PUT", body, headers, duplex: "half" } as RequestInit),
      );
      for (let i = 0; i < 100 && !reached; i++) await Bun.sleep(20);
      expect(reached).toBe(true);
      finish();
      expect(await (await pending).text()).toBe("got 1000");
    } finally {
      replica.stop(true);
    }
  });

  /** A fetch whose first attempt reads the whole body and then fails, as Deno's does on a refused connection. */
  function eagerThenRefused(seen: string[]) {
    return async (req: Request) => {
      const text = await req.text();
      seen.push(`${new URL(req.url).host} ${text}`);
      if (seen.length === 1) throw new TypeError("connection refused");
      return new Response(text);
    };
  }

  test("a kept body goes again in full to the next replica, even after the first one read it", async () => {
    const seen: string[] = [];
    const f = balancedFetch(new AddressPool(["http://a:1", "http://b:1"]), {
      baseDelayMs: 1,
      fetch: eagerThenRefused(seen),
    });
    const headers = { "content-length": "5" };
    const res = await f(new Request("http://svc/p", { method: "POST", body: "hello", headers }));
    expect(await res.text()).toBe("hello");
    expect(seen).toEqual(["a:1 hello", "b:1 hello"]);
  });

  test("a body the caller has not authenticated is not kept: once sent, it is not sent again", async () => {
    const seen: string[] = [];
    const f = balancedFetch(new AddressPool(["http://a:1", "http://b:1"]), {
      baseDelayMs: 1,
      fetch: eagerThenRefused(seen),
    });
    const headers = { "content-length": "5" };
    const req = new Request("http://svc/p", { method: "POST", body: "hello", headers });
    await expect(f(req, { replayable: false })).rejects.toThrow("connection refused");
    expect(seen).toEqual(["a:1 hello"]);
  });
});
