// downloadFile against a small ranged-GET server on loopback (the download worker's contract: signed
// links, 206 with Content-Range), with failures injected: 5xx, short bodies, expired links, an outage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { FileSchema } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { CredentialStore } from "./credentials.ts";
import { downloadFile, loadState, partialPath, statePath } from "./download.ts";
import { Limiter } from "./pool.ts";
import { Progress } from "./progress.ts";
import { Session } from "./session.ts";
import { tempDirs } from "./testing.ts";

const KiB = 1024;
const CHUNK = 64 * KiB;
const data = new Uint8Array(20 * CHUNK + 3).map((_, i) => (i * 7919) % 251);
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const file = create(FileSchema, {
  id: "f1",
  name: "movie.mkv",
  size: BigInt(data.length),
  sha256: sha256(data),
});

/** What the server does next; reset per test. */
const behaviour = {
  links: 0,
  /** Links issued before this number are expired. */
  validFrom: 0,
  /** Starts that fail once with 500 / with a short body. */
  fail500: new Set<number>(),
  cutShort: new Set<number>(),
  /** After this many good answers the server answers 503 to everything (an outage). */
  outageAfter: Number.POSITIVE_INFINITY,
  /** Serve wrong bytes at this start. */
  corrupt: -1,
  served: 0,
};

let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const link = Number(new URL(req.url).pathname.split("/").pop());
      if (link < behaviour.validFrom) return new Response("link expired", { status: 403 });
      if (behaviour.served >= behaviour.outageAfter) return new Response("down", { status: 503 });
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
      if (!m) return new Response(data);
      const [start, end] = [Number(m[1]), Math.min(Number(m[2]), data.length - 1)];
      if (behaviour.fail500.delete(start)) return new Response("oops", { status: 500 });
      let body = data.slice(start, end + 1);
      if (behaviour.cutShort.delete(start)) body = body.slice(0, 100);
      if (start === behaviour.corrupt) body = body.map((b) => b ^ 1);
      behaviour.served++;
      return new Response(body, {
        status: 206,
        headers: { "content-range": `bytes ${start}-${end}/${data.length}` },
      });
    },
  });
});
afterAll(() => server?.stop(true));

const tempDir = tempDirs();

function setup(over: Partial<typeof behaviour> = {}) {
  Object.assign(behaviour, {
    links: 0,
    validFrom: 0,
    fail500: new Set(),
    cutShort: new Set(),
    outageAfter: Number.POSITIVE_INFINITY,
    corrupt: -1,
    served: 0,
    ...over,
  });
  const dir = tempDir();
  const downloads = {
    createDownloadUrl: async () => ({ url: `/dl/${behaviour.links++}` }),
  } as unknown as Client<typeof DownloadService>;
  const ctx = {
    session: new Session(server.url.origin, new CredentialStore(join(dir, "config"))),
    downloads,
    chunks: new Limiter(4),
  };
  const bar = () => new Progress({ write: () => undefined }).add(file.name, data.length);
  return { dest: join(dir, "movie.mkv"), run: (dest: string) => downloadFile(ctx, file, dest, bar(), CHUNK) };
}

const same = (path: string) => sha256(readFileSync(path)) === file.sha256;

describe("downloadFile", () => {
  test("parallel ranges into place; verified; no partial or state left", async () => {
    const { dest, run } = setup();
    const r = await run(dest);
    expect(r).toEqual({ dest, bytesFetched: data.length, chunksSkipped: 0, chunkCount: 21 });
    expect(same(dest)).toBe(true);
    expect([existsSync(partialPath(dest)), existsSync(statePath(dest))]).toEqual([false, false]);
  });

  test("a 500 and a short body are retried; an expired link is renewed once", async () => {
    const { dest, run } = setup({
      fail500: new Set([CHUNK * 3]),
      cutShort: new Set([CHUNK * 7]),
      validFrom: 1,
    });
    await run(dest);
    expect(same(dest)).toBe(true);
    expect(behaviour.links).toBe(2);
  });

  test("an outage mid-way keeps the finished chunks; the next run fetches only the rest", async () => {
    const { dest, run } = setup({ outageAfter: 8 });
    await expect(run(dest)).rejects.toThrow("HTTP 503");
    const state = loadState(dest, file);
    expect(state?.done.length).toBe(8);
    behaviour.outageAfter = Number.POSITIVE_INFINITY;
    behaviour.served = 0;
    const r = await run(dest);
    expect([r.chunksSkipped, r.bytesFetched, behaviour.served]).toEqual([8, data.length - 8 * CHUNK, 13]);
    expect(same(dest)).toBe(true);
  }, 20_000);

  test("bytes that do not match the SHA-256 are thrown away with a clear error", async () => {
    const { dest, run } = setup({ corrupt: CHUNK * 2 });
    await expect(run(dest)).rejects.toThrow("do not match its SHA-256 (removed them): try again");
    expect([existsSync(dest), existsSync(partialPath(dest)), existsSync(statePath(dest))]).toEqual([
      false,
      false,
      false,
    ]);
  });
});
