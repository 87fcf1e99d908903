// A 1 GiB file, generated on the fly, through the gateway of the all-in-one process: the stored bytes'
// SHA-256 equals the source's, and the process's memory stays flat (nothing buffers the whole file).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODE, signedInUser, startAllInOne } from "./harness.ts";

const MiB = 1024 * 1024;
const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
};

describe.if(MODE === "allinone")("1 GiB upload", () => {
  test("arrives intact with flat memory", async () => {
    const aio = await startAllInOne();
    try {
      const user = await signedInUser(aio.gatewayUrl);
      const block = crypto.getRandomValues(new Uint8Array(MiB));
      const total = 1024 * MiB;
      const source = new Bun.CryptoHasher("sha256");
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= total) return c.close();
          // Vary every block so no two MiB are alike.
          const chunk = block.slice();
          new DataView(chunk.buffer).setUint32(0, sent / MiB);
          source.update(chunk);
          sent += chunk.length;
          c.enqueue(chunk);
        },
      });
      const before = rssMiB(aio.proc.pid);
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMiB(aio.proc.pid));
      }, 50);
      const res = await fetch(`${aio.gatewayUrl}/upload/v1/files?name=big.bin`, {
        method: "PUT",
        headers: { authorization: `Bearer ${user.accessToken}`, "content-length": String(total) },
        body,
        duplex: "half",
      } as RequestInit);
      clearInterval(sampler);
      const json = (await res.json()) as { file: { sha256: string; size: string } };
      const expected = source.digest("hex");
      expect(res.status).toBe(201);
      expect([json.file.sha256, json.file.size]).toEqual([expected, String(total)]);
      // Hash what landed on disk, independently of the server's own hashing.
      const dir = join(aio.dataDir, "blobs-root", "blobs");
      const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files).toHaveLength(1);
      const stored = new Bun.CryptoHasher("sha256");
      const file = files[0] as (typeof files)[number];
      const content = Bun.file(
        join(file.parentPath, file.name),
      ).stream() as unknown as AsyncIterable<Uint8Array>;
      for await (const chunk of content) stored.update(chunk);
      expect(stored.digest("hex")).toBe(expected);
      console.log(`1 GiB upload: worker RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB`);
      // Not a performance target: a bound that only whole-file buffering would break.
      expect(peak - before).toBeLessThan(400);
    } finally {
      await aio.stop();
    }
  }, 120_000);
});
