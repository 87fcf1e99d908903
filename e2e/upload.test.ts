// The streamed single upload through the gateway, in either mode.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Reason, reasonOf } from "../core/reasons.ts";
import { ConflictPolicy } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import {
  connectCall,
  eventually,
  legacyFastUpload,
  randomBytes,
  type Stack,
  signedInUser,
} from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
beforeAll(async () => {
  stack = await sharedStack();
  user = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

async function upload(name: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${user.accessToken}`, ...headers },
    body,
  });
  type Answer = { code?: string; message?: string; file?: { name: string; sha256: string; size: string } };
  return { status: res.status, json: (await res.json()) as Answer };
}

describe(`streamed upload through the gateway (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("a 24 MiB file arrives with the source's SHA-256 and size", async () => {
    const data = randomBytes(24 * 1024 * 1024 + 3);
    const r = await upload("video 🎬.bin", data);
    expect(r.status).toBe(201);
    expect(r.json.file?.name).toBe("video 🎬.bin");
    expect(r.json.file?.sha256).toBe(sha256(data));
    expect(r.json.file?.size).toBe(String(data.length));
  });

  test("a streamed body of unknown length works too", async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < data.length; i += 100_000) c.enqueue(data.subarray(i, i + 100_000));
        c.close();
      },
    });
    const r = await upload("stream.bin", body);
    expect([r.status, r.json.file?.sha256]).toEqual([201, sha256(data)]);
  });

  test("an announced SHA-256 that does not match is refused", async () => {
    const r = await upload("x.bin", randomBytes(1000), { "x-content-sha256": "0".repeat(64) });
    expect([r.status, r.json.code]).toEqual([400, "invalid_argument"]);
    expect(r.json.message).toContain("SHA-256");
  });

  test("bad names and missing tokens are refused with clear errors", async () => {
    for (const name of ["", "../../etc/passwd", "a/b", "x".repeat(300)]) {
      const r = await upload(name, "data");
      expect([name.slice(0, 20), r.status, r.json.code]).toEqual([
        name.slice(0, 20),
        400,
        "invalid_argument",
      ]);
    }
    const anon = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=a`, { method: "PUT", body: "data" });
    expect(anon.status).toBe(401);
    const forged = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=a`, {
      method: "PUT",
      headers: { authorization: `Bearer ${user.accessToken}x` },
      body: "data",
    });
    expect(forged.status).toBe(401);
  });
});

describe(`form uploads (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("multipart form: the file field streams in, the name comes from the form", async () => {
    const data = randomBytes(6 * 1024 * 1024 + 1);
    const form = new FormData();
    form.set("name", "renamed.bin");
    form.set("file", new File([data], "original.bin"));
    const res = await fetch(`${stack.gatewayUrl}/upload/v1/form`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: form,
    });
    const json = (await res.json()) as { file: { name: string; sha256: string } };
    expect(res.status).toBe(201);
    expect([json.file.name, json.file.sha256]).toEqual(["renamed.bin", sha256(data)]);
  });

  test("a form without a file field, or not a form at all, is refused", async () => {
    const form = new FormData();
    form.set("name", "x");
    const noFile = await fetch(`${stack.gatewayUrl}/upload/v1/form`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: form,
    });
    expect([noFile.status, ((await noFile.json()) as { message: string }).message]).toEqual([
      400,
      "the form has no field named file",
    ]);
    const notForm = await fetch(`${stack.gatewayUrl}/upload/v1/form`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(notForm.status).toBe(400);
  });

  test("legacy POST /file/upload: {code:0} with the token in the query; 10005 without; -1 without a file", async () => {
    const q = (token: string) => `?${new URLSearchParams({ username: user.username, token })}`;
    const form = new FormData();
    const content = randomBytes(100_000);
    form.set("file", new File([content], "legacy.txt"));
    const ok = await fetch(`${stack.gatewayUrl}/file/upload${q(user.accessToken)}`, {
      method: "POST",
      body: form,
    });
    expect(await ok.json()).toEqual({ code: 0, msg: "OK" });
    // The legacy upload computes the SHA-1 on the request: fast upload by it works right away.
    expect(await legacyFastUpload(stack.gatewayUrl, user, content)).toBe(0);
    const bad = await fetch(`${stack.gatewayUrl}/file/upload${q("nope")}`, { method: "POST", body: form });
    expect(((await bad.json()) as { code: number }).code).toBe(10005);
    const empty = new FormData();
    empty.set("other", "x");
    const noFile = await fetch(`${stack.gatewayUrl}/file/upload${q(user.accessToken)}`, {
      method: "POST",
      body: empty,
    });
    expect(((await noFile.json()) as { code: number }).code).toBe(-1);
  });

  test("legacy POST /file/upload with username and token as form fields before the file", async () => {
    const send = async (fields: Record<string, string>, content: Uint8Array<ArrayBuffer>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      form.set("file", new File([content], "fields.txt"));
      const res = await fetch(`${stack.gatewayUrl}/file/upload`, { method: "POST", body: form });
      return ((await res.json()) as { code: number }).code;
    };
    const content = randomBytes(50_000);
    expect(await send({ username: user.username, token: user.accessToken }, content)).toBe(0);
    expect(await legacyFastUpload(stack.gatewayUrl, user, content)).toBe(0);
    // No token, a forged one, or another user's name: refused before the file is stored.
    const other = randomBytes(50_000);
    expect(await send({ username: user.username }, other)).toBe(10005);
    expect(await send({ username: user.username, token: "forged" }, other)).toBe(10005);
    expect(await send({ username: "someone-else", token: user.accessToken }, other)).toBe(10005);
    expect(await legacyFastUpload(stack.gatewayUrl, user, other)).toBe(-1);
  });

  test("one name per folder: fail (409 NAME_TAKEN), rename, replace (a version); legacy uploads keep both", async () => {
    const put = async (text: string, policy = "") => {
      const q = policy ? `&on_conflict=${policy}` : "";
      const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=twice.txt${q}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${user.accessToken}` },
        body: text,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const first = await put("one");
    expect(first.status).toBe(201);
    const taken = await put("two");
    expect([taken.status, taken.json.code]).toEqual([409, "already_exists"]);
    expect(JSON.stringify(taken.json.details)).toContain("NAME_TAKEN");
    expect(((await put("two", "rename")).json.file as { name: string }).name).toBe("twice (2).txt");
    const replaced = await put("three", "replace");
    const id = (first.json.file as { id: string }).id;
    expect((replaced.json.file as { id: string }).id).toBe(id);
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const listed = await connectCall(
      stack.gatewayUrl,
      "filestore.file.v1.FileService/ListVersions",
      { fileId: id },
      auth,
    );
    expect(listed.status).toBe(200);
    expect((listed.json.versions as { sha256: string }[]).map((v) => v.sha256)).toEqual([
      sha256(new TextEncoder().encode("one")),
    ]);
    // The legacy routes never had folders: the same name again is kept as "name (2).ext".
    const legacy = async () => {
      const form = new FormData();
      form.set("file", new File([randomBytes(1000)], "legacy-twice.txt"));
      const q = `?username=${encodeURIComponent(user.username)}&token=${user.accessToken}`;
      const res = await fetch(`${stack.gatewayUrl}/file/upload${q}`, { method: "POST", body: form });
      return ((await res.json()) as { code: number }).code;
    };
    expect([await legacy(), await legacy()]).toEqual([0, 0]);
    const names = await connectCall(
      stack.gatewayUrl,
      "filestore.file.v1.FileService/ListFiles",
      { pageSize: 1000 },
      auth,
    );
    const all = (names.json.files as { name: string }[]).map((f) => f.name);
    expect(all).toEqual(expect.arrayContaining(["legacy-twice.txt", "legacy-twice (2).txt"]));
  });
});

describe(`instant upload over Connect (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("another user proves possession of a byte range and gets the file; a wrong proof gets nothing", async () => {
    const data = randomBytes(2 * 1024 * 1024);
    expect((await upload("shared.bin", data)).status).toBe(201);
    const bob = await signedInUser(stack.gatewayUrl);
    const call = (method: string, body: unknown) =>
      connectCall(stack.gatewayUrl, `filestore.upload.v1.UploadService/${method}`, body, {
        authorization: `Bearer ${bob.accessToken}`,
      });
    const offer = await call("OfferContent", {
      sha256: sha256(data),
      size: String(data.length),
      name: "bobs.bin",
    });
    expect(offer.status).toBe(200);
    const { challengeId, rangeStart, rangeLength } = offer.json as {
      challengeId: string;
      rangeStart: string;
      rangeLength: string;
    };
    const range = data.subarray(Number(rangeStart), Number(rangeStart) + Number(rangeLength));
    const wrong = await call("ProveContent", { challengeId, rangeSha256: sha256(data) });
    expect([wrong.status, wrong.json.code]).toEqual([400, "failed_precondition"]);
    const right = await call("ProveContent", { challengeId, rangeSha256: sha256(range) });
    expect(right.status).toBe(200);
    expect((right.json.file as { name: string; sha256: string }).sha256).toBe(sha256(data));
    // Content nobody holds gets a challenge of the same shape, and its proof fails in the same words as
    // a wrong one: nobody learns whether some user holds a document.
    const miss = await call("OfferContent", {
      sha256: "ab".repeat(32),
      size: String(data.length),
      name: "x",
    });
    expect(miss.status).toBe(200);
    expect(Object.keys(miss.json).sort()).toEqual(Object.keys(offer.json).sort());
    expect(miss.json.rangeLength).toBe(rangeLength);
    const missed = await call("ProveContent", {
      challengeId: miss.json.challengeId,
      rangeSha256: sha256(range),
    });
    expect([missed.status, missed.json]).toEqual([wrong.status, wrong.json]);
  });
});

describe(`legacy fast upload (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("own content: hit {code:0}; another user's content without proof: miss {code:-1}; bad token: 10005", async () => {
    const data = randomBytes(50_000);
    expect((await upload("mine.bin", data)).status).toBe(201);
    const fast = (who: { username: string; accessToken: string }, token = who.accessToken) =>
      legacyFastUpload(stack.gatewayUrl, who, data, "again.bin", token);
    // A modern upload's SHA-1 is computed in the background, shortly after.
    expect(await eventually(async () => (await fast(user)) === 0)).toBe(true);
    const bob = await signedInUser(stack.gatewayUrl);
    expect(await fast(bob)).toBe(-1);
    expect(await fast(bob, "forged")).toBe(10005);
  });
});

describe(`client-streamed upload over gRPC (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("header then chunks: the file arrives with its SHA-256; a wrong size or order is refused", async () => {
    const client = createClient(UploadService, createGrpcTransport({ baseUrl: stack.uploadUrl }));
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const data = randomBytes(9 * 1024 * 1024 + 5);
    async function* messages(size = data.length) {
      yield {
        payload: {
          case: "header" as const,
          value: { name: "streamed.bin", size: BigInt(size), sha256: sha256(data) },
        },
      };
      for (let i = 0; i < data.length; i += 1024 * 1024) {
        yield { payload: { case: "chunk" as const, value: data.subarray(i, i + 1024 * 1024) } };
      }
    }
    const res = await client.uploadFile(messages(), { headers });
    expect([res.file?.name, res.file?.sha256, res.file?.size]).toEqual([
      "streamed.bin",
      sha256(data),
      BigInt(data.length),
    ]);
    const wrongSize = await client
      .uploadFile(messages(data.length - 1), { headers })
      .catch((e) => ConnectError.from(e));
    expect((wrongSize as ConnectError).code).toBe(Code.InvalidArgument);
    async function* noHeader() {
      yield { payload: { case: "chunk" as const, value: data.subarray(0, 10) } };
    }
    const bad = await client.uploadFile(noHeader(), { headers }).catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    const anon = await client.uploadFile(messages()).catch((e) => ConnectError.from(e));
    expect((anon as ConnectError).code).toBe(Code.Unauthenticated);
  });

  test("on_conflict in the header: fail (the default) refuses a taken name, rename keeps both, replace makes a version", async () => {
    const client = createClient(UploadService, createGrpcTransport({ baseUrl: stack.uploadUrl }));
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const send = (text: string, onConflict = ConflictPolicy.UNSPECIFIED) => {
      const data = new TextEncoder().encode(text);
      async function* messages() {
        yield {
          payload: {
            case: "header" as const,
            value: { name: "streamed-twice.txt", size: BigInt(data.length), onConflict },
          },
        };
        yield { payload: { case: "chunk" as const, value: data } };
      }
      return client.uploadFile(messages(), { headers });
    };
    const first = await send("one");
    const taken = await send("two").catch((e) => ConnectError.from(e));
    expect([(taken as ConnectError).code, reasonOf(taken)]).toEqual([Code.AlreadyExists, Reason.NAME_TAKEN]);
    expect((await send("two", ConflictPolicy.RENAME)).file?.name).toBe("streamed-twice (2).txt");
    const replaced = await send("three", ConflictPolicy.REPLACE);
    expect([replaced.file?.id, replaced.file?.sha256]).toEqual([
      first.file?.id,
      sha256(new TextEncoder().encode("three")),
    ]);
  });
});
