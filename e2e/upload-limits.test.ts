// Limits on upload sessions, through the gateway on every protocol that opens one: a per-user cap on
// open sessions and the free space of the disk the parts go to (CreateUploadSession: resource_exhausted;
// tus creation: 507, and 413 for a length over Tus-Max-Size; legacy /file/mpupload/init: code -4), and the
// folder of a session (checked at creation; a new parent_id at completion when it went away).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statfsSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Reason, reasonOf } from "../core/reasons.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { connectCall, randomBytes, type Stack, signedInUser, startStack } from "./harness.ts";

const UPLOAD = "filestore.upload.v1.UploadService";
const FILES = "filestore.file.v1.FileService";
const MiB = 1024 * 1024;
const MAX_UPLOAD = 2 ** 50; // far beyond the disk, so that free space is what refuses
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const sha1 = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");

describe(`upload session limits and folders (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      UPLOAD_MAX_OPEN_SESSIONS_PER_USER: "3",
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
      // The server's own limits are tested here, not the users' quotas (e2e/quota.test.ts).
      DEFAULT_QUOTA_BYTES: "0",
    });
  }, 90_000);
  afterAll(() => stack?.stop());

  async function client() {
    const user = await signedInUser(stack.gatewayUrl);
    const auth = { authorization: `Bearer ${user.accessToken}` };
    return {
      user,
      rpc: (service: string, method: string, body: unknown) =>
        connectCall(stack.gatewayUrl, `${service}/${method}`, body, auth),
      tus: (length: number, metadata = "filename eA==") =>
        fetch(`${stack.gatewayUrl}/upload/v1/tus/`, {
          method: "POST",
          headers: {
            ...auth,
            "tus-resumable": "1.0.0",
            "upload-length": String(length),
            "upload-metadata": metadata,
          },
        }),
      legacyInit: async (filesize: number, filehash = "ab".repeat(20)) => {
        const res = await fetch(`${stack.gatewayUrl}/file/mpupload/init`, {
          method: "POST",
          body: new URLSearchParams({
            username: user.username,
            token: user.accessToken,
            filehash,
            filesize: String(filesize),
          }),
        });
        return (await res.json()) as { code: number; msg: string };
      },
    };
  }

  test("the refusal carries its reason: Connect JSON in details, gRPC in grpc-status-details-bin", async () => {
    const c = await client();
    for (let i = 0; i < 3; i++)
      expect((await c.rpc(UPLOAD, "CreateUploadSession", { name: `r${i}`, size: String(MiB) })).status).toBe(
        200,
      );
    const refused = await c.rpc(UPLOAD, "CreateUploadSession", { name: "r4", size: String(MiB) });
    expect(refused.json.details).toEqual([
      {
        type: "google.rpc.ErrorInfo",
        value: expect.any(String),
        debug: { reason: "TOO_MANY_UPLOADS", domain: "filestore" },
      },
    ]);
    const grpc = createClient(UploadService, createGrpcTransport({ baseUrl: stack.uploadUrl }));
    const err = await grpc
      .createUploadSession(
        { name: "r5", size: BigInt(MiB) },
        { headers: { authorization: `Bearer ${c.user.accessToken}` } },
      )
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect([err?.code, reasonOf(err)]).toEqual([Code.ResourceExhausted, Reason.TOO_MANY_UPLOADS]);
  });

  test("a user's open sessions are capped on every protocol; aborting one makes room", async () => {
    const c = await client();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.rpc(UPLOAD, "CreateUploadSession", { name: `s${i}`, size: String(MiB + i) });
      expect(r.status).toBe(200);
      ids.push(r.json.sessionId as string);
    }
    const refused = await c.rpc(UPLOAD, "CreateUploadSession", { name: "s4", size: String(MiB) });
    expect([refused.status, refused.json.code]).toEqual([429, "resource_exhausted"]);
    expect(refused.json.message).toStartWith(
      "you have 3 upload sessions open, the most allowed per user (UPLOAD_MAX_OPEN_SESSIONS_PER_USER)",
    );
    const tus = await c.tus(MiB);
    expect([tus.status, await tus.text()]).toEqual([507, `${refused.json.message}\n`]);
    expect(await c.legacyInit(MiB)).toEqual({ code: -4, msg: refused.json.message as string });
    // Resuming an open session is no new one.
    const resumed = await c.rpc(UPLOAD, "CreateUploadSession", {
      name: "s0",
      size: String(MiB),
      resume: true,
    });
    expect([resumed.status, resumed.json.sessionId]).toEqual([200, ids[0]]);
    expect((await c.rpc(UPLOAD, "AbortUploadSession", { sessionId: ids[0] })).status).toBe(200);
    expect((await c.tus(MiB)).status).toBe(201);
  });

  test("a session larger than the disk's free space, or beside open ones that fill it, is refused", async () => {
    const c = await client();
    const fs = statfsSync(stack.dataDir);
    const free = fs.bavail * fs.bsize;
    const big = Math.floor(free * 0.6); // twice does not fit, whatever else the disk sees meanwhile (±10%)
    const first = await c.rpc(UPLOAD, "CreateUploadSession", { name: "big", size: String(big) });
    expect(first.status).toBe(200);
    const full = await c.rpc(UPLOAD, "CreateUploadSession", { name: "big2", size: String(big) });
    expect([full.status, full.json.code, full.json.message]).toEqual([
      429,
      "resource_exhausted",
      "the server's storage is full: this upload does not fit in the space left beside the uploads in progress; try again later, or ask the operator to free space",
    ]);
    const tus = await c.tus(big);
    expect([tus.status, await tus.text()]).toEqual([507, `${full.json.message}\n`]);
    expect(await c.legacyInit(big)).toEqual({ code: -4, msg: full.json.message as string });
    expect((await c.tus(MAX_UPLOAD + 1)).status).toBe(413); // over Tus-Max-Size: can never fit
    await c.rpc(UPLOAD, "AbortUploadSession", { sessionId: first.json.sessionId });
    expect((await c.rpc(UPLOAD, "CreateUploadSession", { name: "big2", size: String(big) })).status).toBe(
      200,
    );
  });

  test("a session goes into the caller's own folder; one gone before completion takes a new parent", async () => {
    const alice = await client();
    const mallory = await client();
    const folder = (await alice.rpc(FILES, "CreateFolder", { name: "inbox" })).json.folder as { id: string };
    for (const parentId of [folder.id, "00000000-0000-4000-8000-000000000000"]) {
      const r = await mallory.rpc(UPLOAD, "CreateUploadSession", { name: "x", parentId, size: "1" });
      expect([r.status, r.json.code, r.json.message]).toEqual([
        404,
        "not_found",
        "no such folder (or it is in the trash)",
      ]);
      const b64 = Buffer.from(parentId).toString("base64");
      expect((await mallory.tus(1, `filename eA==,parent_id ${b64}`)).status).toBe(404);
    }

    const data = randomBytes(MiB + 3);
    const created = await alice.rpc(UPLOAD, "CreateUploadSession", {
      name: "late.bin",
      parentId: folder.id,
      size: String(data.length),
      sha256: sha256(data),
    });
    const { sessionId } = created.json as { sessionId: string };
    const put = await fetch(`${stack.gatewayUrl}/upload/v1/sessions/${sessionId}/parts/1`, {
      method: "PUT",
      headers: { authorization: `Bearer ${alice.user.accessToken}` },
      body: data,
    });
    expect(put.status).toBe(200);
    expect((await alice.rpc(FILES, "DeleteFile", { id: folder.id })).status).toBe(200);
    const gone = await alice.rpc(UPLOAD, "CompleteUploadSession", { sessionId });
    expect([gone.status, gone.json.code]).toEqual([400, "failed_precondition"]);
    expect(gone.json.message).toContain("CompleteUploadSession takes one too");
    const done = await alice.rpc(UPLOAD, "CompleteUploadSession", { sessionId, parentId: "" });
    expect(done.status).toBe(200);
    expect(done.json.file).toMatchObject({ name: "late.bin", sha256: sha256(data) });
    expect((done.json.file as { parentId?: string }).parentId ?? "").toBe("");
    // The legacy init of a session in the root (it names no folder) is unaffected.
    expect((await alice.legacyInit(data.length, sha1(data))).code).toBe(0);
  });
});
