// The baseline of `npm run bench:upload`: a bare Bun.serve handler that streams the request body into a
// file with Bun's file writer while hashing it with SHA-256, and answers the hex digest. It is the least
// any upload endpoint on this runtime has to do, so the filestore is measured against it. Bun.serve's
// defaults but the body size limit, as the filestore's server has them.
//
// With ?same-work=1 it also does what the filestore does on top: a SHA-1 (the legacy API's file hash) and
// an fsync before answering (durability) — a context row, not the target's baseline.
//
// Env: BASELINE_DIR (required) where bodies land, one file per request (the harness deletes them);
// PORT (default 0: the kernel picks one). Prints "listening on http://127.0.0.1:<port>".
import { closeSync, fsyncSync, openSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BASELINE_DIR;
if (!dir) throw new Error("BASELINE_DIR is required");
let count = 0;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT || 0),
  maxRequestBodySize: 2 ** 40,
  async fetch(req) {
    const sameWork = new URL(req.url).searchParams.has("same-work");
    const hasher = new Bun.CryptoHasher("sha256");
    const sha1 = sameWork ? new Bun.CryptoHasher("sha1") : undefined;
    const path = join(dir, `upload-${++count}`);
    const writer = Bun.file(path).writer();
    let size = 0;
    if (req.body) {
      for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
        hasher.update(chunk);
        sha1?.update(chunk);
        size += chunk.byteLength;
        const pending = writer.write(chunk);
        if (pending instanceof Promise) await pending;
      }
    }
    await writer.end();
    if (sameWork) {
      const fd = openSync(path, "r");
      fsyncSync(fd);
      closeSync(fd);
    }
    return new Response(`${hasher.digest("hex")}\n`, { headers: { "x-size": String(size) } });
  },
});
console.log(`listening on http://127.0.0.1:${server.port}`);
