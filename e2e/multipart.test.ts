// Resumable multipart uploads end to end: Connect RPCs for the session, plain HTTP for part bytes, through
// the gateway; and a worker killed (SIGKILL) in the middle of an upload.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  uploadClient as client,
  legacyFastUpload,
  MiB,
  MODE,
  partOf,
  randomBytes,
  type Stack,
  sha256,
  signedInUser,
  startAllInOne,
  startStack,
  type UploadSessionJson,
} from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

describe(`multipart upload through the gateway (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  let stack: Stack;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    // Part sizes of sessions up to 40 GiB are looked at: no user quota here (e2e/quota.test.ts has them).
    stack = await startStack({ DEFAULT_QUOTA_BYTES: "0" });
    user = await signedInUser(stack.gatewayUrl);
  }, 60_000);
  afterAll(() => stack?.stop());

  test("parts out of order and two in parallel, resumed from the part list, completed twice", async () => {
    const data = randomBytes(12 * MiB + 77);
    const c = client(stack.gatewayUrl, user.accessToken);
    const created = await c.rpc("CreateUploadSession", {
      name: "movie.mkv",
      size: String(data.length),
      sha256: sha256(data),
      partSize: String(5 * MiB), // asked for: kept
    });
    expect(created.status).toBe(200);
    const { sessionId, partSize, partCount } = created.json as unknown as UploadSessionJson;
    expect([Number(partSize), partCount]).toEqual([5 * MiB, 3]);
    expect((await c.put(sessionId, 3, partOf(data, 5 * MiB, 3))).status).toBe(200);
    const parallel = await Promise.all([1, 2].map((n) => c.put(sessionId, n, partOf(data, 5 * MiB, n))));
    expect(parallel.map((r) => r.status)).toEqual([200, 200]);
    const listed = await c.rpc("ListParts", { sessionId });
    expect((listed.json.parts as { partNumber: number }[]).map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const done = await c.rpc("CompleteUploadSession", { sessionId });
    expect(done.status).toBe(200);
    const file = done.json.file as { id: string; sha256: string; size: string };
    expect([file.sha256, file.size]).toEqual([sha256(data), String(data.length)]);
    const again = await c.rpc("CompleteUploadSession", { sessionId });
    expect((again.json.file as { id: string }).id).toBe(file.id);
  });

  test("completion with a missing part is FailedPrecondition; a wrong whole hash InvalidArgument", async () => {
    const data = randomBytes(6 * MiB);
    const c = client(stack.gatewayUrl, user.accessToken);
    const created = await c.rpc("CreateUploadSession", {
      name: "x.bin",
      size: String(data.length),
      sha256: "0".repeat(64),
      partSize: String(5 * MiB),
    });
    const { sessionId } = created.json as { sessionId: string };
    await c.put(sessionId, 1, partOf(data, 5 * MiB, 1));
    const missing = await c.rpc("CompleteUploadSession", { sessionId });
    expect([missing.status, missing.json.code, missing.json.message]).toEqual([
      400,
      "failed_precondition",
      "missing parts: 2",
    ]);
    await c.put(sessionId, 2, partOf(data, 5 * MiB, 2));
    const wrongHash = await c.rpc("CompleteUploadSession", { sessionId });
    expect([wrongHash.status, wrongHash.json.code]).toEqual([400, "invalid_argument"]);
  });

  test("the server picks about 32 parts of 8 to 64 MiB; a part size out of bounds is refused", async () => {
    const c = client(stack.gatewayUrl, user.accessToken);
    const picked = async (size: number) => {
      const r = await c.rpc("CreateUploadSession", { name: "sized.bin", size: String(size) });
      const { sessionId, partSize, partCount } = r.json as unknown as UploadSessionJson;
      await c.rpc("AbortUploadSession", { sessionId });
      return [Number(partSize), partCount];
    };
    expect(await picked(12 * MiB)).toEqual([8 * MiB, 2]);
    expect(await picked(1024 * MiB)).toEqual([32 * MiB, 32]);
    expect(await picked(40 * 1024 * MiB)).toEqual([64 * MiB, 640]);
    for (const partSize of [String(MiB), String(6 * 1024 * MiB), "-1"]) {
      const r = await c.rpc("CreateUploadSession", { name: "x.bin", size: String(MiB), partSize });
      expect([partSize, r.status, r.json.code]).toEqual([partSize, 400, "invalid_argument"]);
    }
  });

  test("someone else's session is NotFound; bad ids and part numbers are refused", async () => {
    const c = client(stack.gatewayUrl, user.accessToken);
    const created = await c.rpc("CreateUploadSession", { name: "mine.bin", size: String(MiB) });
    const { sessionId } = created.json as { sessionId: string };
    const mallory = await signedInUser(stack.gatewayUrl);
    const m = client(stack.gatewayUrl, mallory.accessToken);
    expect((await m.put(sessionId, 1, "x")).status).toBe(404);
    expect((await m.rpc("ListParts", { sessionId })).json.code).toBe("not_found");
    expect((await m.rpc("CompleteUploadSession", { sessionId })).json.code).toBe("not_found");
    expect((await m.rpc("AbortUploadSession", { sessionId })).json.code).toBe("not_found");
    for (const n of ["0", "2", "-1", "abc", "1e0", "0x1", "1.0", "01"]) {
      expect([n, (await c.put(sessionId, n, "x")).status]).toEqual([n, 400]);
    }
    for (const id of ["..%2F..%2Fetc", "a%00b", "x".repeat(300)]) {
      expect([id.slice(0, 10), (await c.put(id, 1, "x")).status]).toEqual([id.slice(0, 10), 400]);
    }
    expect((await c.rpc("AbortUploadSession", { sessionId })).status).toBe(200);
    expect((await c.put(sessionId, 1, "x")).status).toBe(400);
  });
});

// Runs once, in the all-in-one pass (it starts its own process either way).
describe.if(MODE === "allinone")("multipart upload survives a killed worker (all-in-one, SIGKILL)", () => {
  test("kill mid-upload, restart, list parts, send the rest, complete: identical content", async () => {
    const first = await startAllInOne();
    const dataDir = first.dataDir;
    try {
      const user = await signedInUser(first.gatewayUrl);
      const data = randomBytes(16 * MiB + 5);
      let c = client(first.gatewayUrl, user.accessToken);
      const created = await c.rpc("CreateUploadSession", {
        name: "resume.bin",
        size: String(data.length),
        sha256: sha256(data),
        partSize: String(5 * MiB),
      });
      const { sessionId } = created.json as { sessionId: string };
      await c.put(sessionId, 4, partOf(data, 5 * MiB, 4));
      await Promise.all([2, 1].map((n) => c.put(sessionId, n, partOf(data, 5 * MiB, n))));
      // Part 3 is on the wire when the process dies.
      const inFlight = c.put(sessionId, 3, partOf(data, 5 * MiB, 3)).catch(() => undefined);
      first.proc.kill("SIGKILL");
      await first.proc.exited;
      await inFlight;

      const second = await startAllInOne({ DATA_DIR: dataDir });
      try {
        c = client(second.gatewayUrl, user.accessToken);
        const listed = await c.rpc("ListParts", { sessionId });
        expect(listed.status).toBe(200);
        const have = new Set((listed.json.parts as { partNumber: number }[]).map((p) => p.partNumber));
        for (const n of [1, 2, 4]) expect(have.has(n)).toBe(true);
        for (let n = 1; n <= 4; n++)
          if (!have.has(n)) expect((await c.put(sessionId, n, partOf(data, 5 * MiB, n))).status).toBe(200);
        const done = await c.rpc("CompleteUploadSession", { sessionId });
        expect((done.json.file as { sha256: string }).sha256).toBe(sha256(data));
      } finally {
        await second.stop(true);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe(`legacy multipart routes (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  let stack: Stack;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    stack = await sharedStack();
    user = await signedInUser(stack.gatewayUrl);
  }, 60_000);
  afterAll(() => stack?.stop());

  const sha1 = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");
  const post = async (path: string, params: Record<string, string>, body?: Uint8Array<ArrayBuffer>) => {
    const q = new URLSearchParams({ username: user.username, token: user.accessToken, ...params });
    const res = body
      ? await fetch(`${stack.gatewayUrl}/file/mpupload/${path}?${q}`, { method: "POST", body })
      : await fetch(`${stack.gatewayUrl}/file/mpupload/${path}`, { method: "POST", body: q });
    return (await res.json()) as { code: number; msg: string; data?: Record<string, unknown> };
  };

  test("init, chunks out of order (one with a bad chkhash, one short), resume via ChunkExists, complete, cancel", async () => {
    const data = randomBytes(11 * MiB);
    const hash = sha1(data);
    const init = await post("init", { filehash: hash, filesize: String(data.length) });
    expect(init.code).toBe(0);
    const { UploadID, ChunkSize, ChunkCount, ChunkExists } = init.data as {
      UploadID: string;
      ChunkSize: number;
      ChunkCount: number;
      ChunkExists: number[];
    };
    expect([ChunkSize, ChunkCount, ChunkExists]).toEqual([5 * MiB, 3, []]);
    const chunk = (i: number) => partOf(data, ChunkSize, i);
    expect(
      (await post("uppart", { uploadid: UploadID, index: "3", chkhash: sha1(chunk(3)) }, chunk(3))).code,
    ).toBe(0);
    expect(
      (await post("uppart", { uploadid: UploadID, index: "1", chkhash: sha1(chunk(2)) }, chunk(1))).code,
    ).toBe(-2);
    expect((await post("uppart", { uploadid: UploadID, index: "2" }, chunk(2).subarray(1))).code).toBe(-2);
    // A client that restarts calls init again and learns what the server already has: the chunks that
    // arrived whole and checked out, not the one that failed its chkhash nor the short one.
    const exists = async () =>
      (
        (await post("init", { filehash: hash, filesize: String(data.length) })).data as {
          ChunkExists: number[];
        }
      ).ChunkExists;
    expect(await exists()).toEqual([3]);
    expect((await post("uppart", { uploadid: UploadID, index: "1" }, chunk(1))).code).toBe(0);
    const again = await post("init", { filehash: hash, filesize: String(data.length) });
    expect((again.data as { UploadID: string }).UploadID).toBe(UploadID);
    expect((again.data as { ChunkExists: number[] }).ChunkExists).toEqual([1, 3]);
    const early = await post("complete", {
      uploadid: UploadID,
      filehash: hash,
      filesize: String(data.length),
      filename: "a.bin",
    });
    expect(early.code).toBe(-2);
    expect((await post("uppart", { uploadid: UploadID, index: "2" }, chunk(2))).code).toBe(0);
    const done = await post("complete", {
      uploadid: UploadID,
      filehash: hash,
      filesize: String(data.length),
      filename: "a.bin",
    });
    expect(done).toEqual({ code: 0, msg: "OK" });
    // The session announced the SHA-1, so it was checked and recorded at completion: fast upload hits now.
    expect(await legacyFastUpload(stack.gatewayUrl, user, data)).toBe(0);

    const other = await post("init", { filehash: sha1(randomBytes(10)), filesize: "10" });
    const id = (other.data as { UploadID: string }).UploadID;
    expect((await post("cancel", { uploadid: id })).code).toBe(0);
    expect((await post("uppart", { uploadid: id, index: "1" }, randomBytes(10))).code).toBe(-1);
  });

  test("bad parameters and tokens", async () => {
    expect((await post("init", { filehash: "nothex", filesize: "10" })).code).toBe(-1);
    expect((await post("init", { filehash: "a".repeat(40), filesize: "ten" })).code).toBe(-1);
    expect((await post("uppart", { uploadid: "../../etc", index: "1" }, randomBytes(10))).code).toBe(-1);
    const q = new URLSearchParams({
      username: user.username,
      token: "forged",
      filehash: "a".repeat(40),
      filesize: "1",
    });
    const res = await fetch(`${stack.gatewayUrl}/file/mpupload/init`, { method: "POST", body: q });
    expect(((await res.json()) as { code: number }).code).toBe(10005);
  });
});
