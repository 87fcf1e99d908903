// Services mode with replicas: two upload workers behind the gateway against one MariaDB and one S3
// bucket (no sticky sessions). One replica is killed (SIGKILL) in the middle of a multipart upload; the
// client goes on against the other one and completes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  connectCall,
  MODE,
  randomBytes,
  type Stack,
  servicePid,
  signedInUser,
  startStack,
  type UploadSessionJson,
} from "./harness.ts";

const UPLOAD = "filestore.upload.v1.UploadService";
const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const s3 = process.env.TEST_S3_ENDPOINT;

describe.skipIf(MODE !== "services" || !s3)("two upload replicas on S3 (services mode)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      BLOB_BACKEND: "s3",
      S3_ENDPOINT: s3 as string,
      S3_ACCESS_KEY: process.env.TEST_S3_ACCESS_KEY ?? "",
      S3_SECRET_KEY: process.env.TEST_S3_SECRET_KEY ?? "",
      S3_REGION: process.env.TEST_S3_REGION ?? "us-east-1",
      S3_BUCKET: `replicas-${Date.now().toString(36)}`,
    });
  }, 90_000);
  afterAll(() => stack?.stop());

  test("a replica killed mid-upload: the client continues against the other and completes", async () => {
    const user = await signedInUser(stack.gatewayUrl);
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const rpc = (method: string, body: unknown) =>
      connectCall(stack.gatewayUrl, `${UPLOAD}/${method}`, body, auth);
    // A client that retries a failed part once, as every resumable client does.
    const put = async (sessionId: string, n: number, body: Uint8Array<ArrayBuffer>) => {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(`${stack.gatewayUrl}/upload/v1/sessions/${sessionId}/parts/${n}`, {
            method: "PUT",
            headers: auth,
            body,
          });
          if (res.status === 200 || attempt >= 2) return res.status;
        } catch (err) {
          if (attempt >= 2) throw err;
        }
        await Bun.sleep(100);
      }
    };

    const data = randomBytes(30 * MiB + 12_345);
    const created = await rpc("CreateUploadSession", {
      name: "replicated.bin",
      size: String(data.length),
      sha256: sha256(data),
    });
    expect(created.status).toBe(200);
    const { sessionId, partSize, partCount } = created.json as unknown as UploadSessionJson;
    const part = (n: number) => data.subarray((n - 1) * Number(partSize), n * Number(partSize));
    // The first parts alternate over both replicas (round-robin at the gateway).
    expect(await Promise.all([1, 2].map((n) => put(sessionId, n, part(n))))).toEqual([200, 200]);

    process.kill(servicePid(stack.runDir as string, "upload-1"), "SIGKILL");

    // Parts, the part list and the completion all reach the surviving replica.
    const rest = Array.from({ length: partCount - 2 }, (_, i) => i + 3);
    expect(await Promise.all(rest.map((n) => put(sessionId, n, part(n))))).toEqual(rest.map(() => 200));
    const listed = await rpc("ListParts", { sessionId });
    expect(listed.status).toBe(200);
    expect((listed.json.parts as unknown[]).length).toBe(partCount);
    const done = await rpc("CompleteUploadSession", { sessionId });
    expect(done.status).toBe(200);
    const file = done.json.file as { sha256: string; size: string };
    expect([file.sha256, file.size]).toEqual([sha256(data), String(data.length)]);
  }, 120_000);
});
