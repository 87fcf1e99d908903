// Downloads whose content is on an S3 store that is down (refusing connections, or answering 503): the data
// plane answers 503 with Retry-After, "the file storage is unavailable, retry in a moment" and the request
// id, never the address it could not reach.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Identity } from "../../core/access-token.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { createS3BlobStore } from "../lib/blobstore/s3/index.ts";
import { type TestBlobStore, testBlobStores } from "../lib/blobstore/testing.ts";
import { closedPort } from "../lib/testing.ts";
import { downloadModule } from "./service.ts";
import { type DownloadFixture, openDownloadFixture } from "./testing.ts";

const local = testBlobStores().find((b) => b.backend === "local") as TestBlobStore;

describe("content on an S3 store that is down", () => {
  let f: DownloadFixture;
  let alice: { who: Identity; token: string };
  let fileId: string;
  const busyS3 = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(null, { status: 503 }),
  });

  beforeAll(async () => {
    f = await openDownloadFixture(local);
    alice = await f.user("alice");
    // A file whose blob row says it is on S3 (where the transfer worker moved it).
    const { file } = await f.upload.deps.meta.addFileWithContent({
      file: { ownerId: alice.who.userId, parentId: "", name: "on-s3.bin" },
      blob: {
        sha256: "ab".repeat(32),
        sha1: "cd".repeat(20),
        size: 1000n,
        backend: "s3",
        location: "blobs/00000000-0000-4000-8000-000000000001",
      },
      enqueueTransfer: false,
    });
    fileId = file?.id as string;
  });
  afterAll(async () => {
    await busyS3.stop(true);
    await f.close();
  });

  for (const [what, endPoint] of [
    ["refusing connections", () => `http://127.0.0.1:${closedPort()}`],
    ["answering 503", () => `http://127.0.0.1:${busyS3.port}`],
  ] as const) {
    test(`S3 ${what}: 503 with Retry-After and the request id`, async () => {
      const s3 = await createS3BlobStore({
        endPoint: endPoint(),
        accessKey: "a",
        secretKey: "b",
        bucket: "filestore",
        createBucket: false,
      });
      const errors: unknown[] = [];
      const module = downloadModule(
        { ...f.deps, storeFor: storeForAll(f.upload.opened.store, s3) },
        { verify: async () => alice.who },
        (err) => errors.push(err),
      );
      const res = await module.serve(
        new Request(`http://in-process/download/v1/files/${fileId}`, {
          headers: { authorization: `Bearer ${alice.token}`, "x-request-id": "rid-s3" },
        }),
      );
      expect([res.status, res.headers.get("retry-after"), res.headers.get("x-request-id")]).toEqual([
        503,
        "5",
        "rid-s3",
      ]);
      expect(await res.json()).toEqual({
        code: "unavailable",
        message: "the file storage is unavailable, retry in a moment (request id rid-s3)",
      });
      expect(errors).toHaveLength(1);
    });
  }
});
