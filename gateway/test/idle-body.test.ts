// The request body that fails when its sender goes quiet (serve/idle-body.ts, for Deno's gateway).
import { describe, expect, test } from "bun:test";
import { BodyIdleError, idleBody } from "../serve/idle-body.ts";

/** A source whose chunks the test sends by hand; `cancelled` tells whether the reader gave up on it. */
function source() {
  let push: (s: string) => void = () => {};
  let cancelled: unknown;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      push = (s) => c.enqueue(new TextEncoder().encode(s));
    },
    cancel(reason) {
      cancelled = reason ?? "cancelled";
    },
  });
  return { stream, push: (s: string) => push(s), cancelled: () => cancelled };
}

describe("idleBody", () => {
  test("a sender quiet for longer than the idle time fails the read, and the source is let go", async () => {
    const src = source();
    const cuts: BodyIdleError[] = [];
    const body = idleBody(src.stream, 150, (err) => cuts.push(err));
    const reader = body.stream.getReader();
    src.push("a");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("a");
    const t0 = performance.now();
    await expect(reader.read()).rejects.toBeInstanceOf(BodyIdleError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(cuts).toHaveLength(1);
    expect(src.cancelled()).toBeInstanceOf(BodyIdleError);
  });

  test("only waiting on the sender counts: a consumer slower than the idle time is not cut", async () => {
    const src = source();
    const body = idleBody(src.stream, 100, () => {});
    const reader = body.stream.getReader();
    src.push("a");
    src.push("b");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("a");
    await Bun.sleep(250); // the consumer dawdles; "b" waits in the source, nothing is read ahead
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("b");
    const next = reader.read();
    await Bun.sleep(50);
    src.push("c");
    expect(new TextDecoder().decode((await next).value)).toBe("c");
  });

  test("release drops what the handler left unread, read or not", async () => {
    const untouched = source();
    idleBody(untouched.stream, 1000, () => {}).release();
    expect(untouched.cancelled()).toBeDefined();
    const halfRead = source();
    const body = idleBody(halfRead.stream, 1000, () => {});
    halfRead.push("a");
    await body.stream.getReader().read();
    body.release();
    await Bun.sleep(0);
    expect(halfRead.cancelled()).toBeDefined();
  });
});
