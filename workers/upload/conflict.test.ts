// The conflict policy on every way an upload creates an entry, on both databases: 20 uploads of one name
// at once through the data plane (fail: one wins, 19 × 409; rename: 20 names; replace: one entry whose
// versions are trimmed to the retention), tus, multipart completion, instant upload and the client-streamed
// UploadFile (on_conflict in its header). A refused upload
// leaves no file row, no reference and no stored bytes behind.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { UploadFileRequestSchema } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { DEFAULT_VERSIONS_KEEP } from "../meta/versions.ts";
import { linkBySha1, offerContent, proveContent } from "./instant.ts";
import { uploadModule } from "./service.ts";
import * as sessions from "./sessions.ts";
import { storeStreamed } from "./streamed.ts";
import { openUploadFixture, type UploadFixture } from "./testing.ts";

const [local] = testBlobStores();
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const sha1 = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");

for (const database of testDatabases()) {
  describe(`conflict policies of uploads (${database.dialect})`, () => {
    let f: UploadFixture;
    let alice: Identity;
    let http: (req: Request) => Promise<Response>;
    beforeEach(async () => {
      if (!local) throw new Error("no local blob store");
      f = await openUploadFixture(local, { now: Date.now() }, database);
      alice = await f.user("alice");
      const module = uploadModule(f.deps, { verify: async () => alice }, () => {});
      http = async (req) => (await module.http?.(req, "127.0.0.1")) as Response;
    });
    afterEach(() => f.close());

    const put = (name: string, text: string, policy?: string) =>
      http(
        new Request(
          `http://upload.internal/upload/v1/files?token=t&name=${encodeURIComponent(name)}${policy ? `&on_conflict=${policy}` : ""}`,
          { method: "PUT", body: text },
        ),
      );
    const fileRows = () =>
      f.db.selectFrom("files").select(["id", "name"]).where("status", "=", "active").execute();
    const refcounts = async () =>
      (await f.db.selectFrom("blobs").select("refcount").execute()).reduce(
        (s, b) => s + Number(b.refcount),
        0,
      );

    test("20 at once, fail (the default): one 201, nineteen 409 NAME_TAKEN, nothing else kept", async () => {
      const res = await Promise.all(Array.from({ length: 20 }, (_, i) => put("same.txt", `content ${i}`)));
      expect(res.filter((r) => r.status === 201)).toHaveLength(1);
      const refused = res.filter((r) => r.status === 409);
      expect(refused).toHaveLength(19);
      const body = (await refused[0]?.json()) as { code: string; message: string; details?: unknown[] };
      expect(body.code).toBe("already_exists");
      expect(body.message).toContain('"same.txt"');
      expect(JSON.stringify(body.details)).toContain("NAME_TAKEN");
      expect(await fileRows()).toHaveLength(1);
      expect(await refcounts()).toBe(1);
      expect(await f.stored()).toHaveLength(1);
    });

    test("20 at once, rename: 20 distinct names", async () => {
      const res = await Promise.all(Array.from({ length: 20 }, (_, i) => put("same.txt", `c${i}`, "rename")));
      expect(res.map((r) => r.status)).toEqual(Array(20).fill(201));
      const names = (await fileRows()).map((r) => r.name);
      expect(new Set(names).size).toBe(20);
      expect(names).toContain("same (20).txt");
    });

    test("20 at once, replace: one entry, its versions trimmed to VERSIONS_KEEP, refcounts exact", async () => {
      const res = await Promise.all(
        Array.from({ length: 20 }, (_, i) => put("same.txt", `v${i}`, "replace")),
      );
      expect(res.map((r) => r.status)).toEqual(Array(20).fill(201));
      const ids = new Set(
        await Promise.all(res.map(async (r) => ((await r.json()) as { file: { id: string } }).file.id)),
      );
      expect(ids.size).toBe(1);
      expect(await fileRows()).toHaveLength(1);
      const [id] = [...ids];
      const { versions } = await f.deps.meta.listVersions({ ownerId: alice.userId, fileId: id as string });
      expect(versions).toHaveLength(DEFAULT_VERSIONS_KEEP);
      // The file and each kept version hold one reference; the 9 trimmed ones none.
      expect(await refcounts()).toBe(DEFAULT_VERSIONS_KEEP + 1);
    });

    test("a policy the server does not know is refused (400)", async () => {
      expect((await put("x.txt", "x", "overwrite")).status).toBe(400);
    });

    test("tus: on_conflict in the metadata; fail answers 409 at completion and records nothing", async () => {
      expect((await put("t.txt", "first")).status).toBe(201);
      const tus = async (policy?: string) => {
        const meta = [`filename ${btoa("t.txt")}`, ...(policy ? [`on_conflict ${btoa(policy)}`] : [])].join(
          ",",
        );
        const headers = { "tus-resumable": "1.0.0", authorization: "Bearer t" };
        const created = await http(
          new Request("http://upload.internal/upload/v1/tus/", {
            method: "POST",
            headers: { ...headers, "upload-length": "6", "upload-metadata": meta },
          }),
        );
        expect(created.status).toBe(201);
        return http(
          new Request(`http://upload.internal${created.headers.get("location")}`, {
            method: "PATCH",
            headers: { ...headers, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
            body: "second",
          }),
        );
      };
      expect((await tus()).status).toBe(409);
      expect(await fileRows()).toHaveLength(1);
      expect(await refcounts()).toBe(1);
      expect((await tus("rename")).status).toBe(204);
      expect((await fileRows()).map((r) => r.name).sort()).toEqual(["t (2).txt", "t.txt"]);
    });

    test("multipart: the policy applies at completion; refused, nothing is recorded and the session stays open", async () => {
      expect((await put("m.bin", "first")).status).toBe(201);
      const data = new TextEncoder().encode("multipart bytes");
      const open = (onConflict?: ConflictPolicy) =>
        sessions.createSession(f.deps, alice, {
          name: "m.bin",
          parentId: "",
          size: BigInt(data.length),
          onConflict,
        });
      const s = await open();
      await sessions.putPart(f.deps, alice, s.id, 1, new Blob([data]).stream());
      expect(await codeOf(sessions.completeSession(f.deps, alice, s.id))).toBe(Code.AlreadyExists);
      expect(await fileRows()).toHaveLength(1);
      expect(await refcounts()).toBe(1);
      // The same session completes under another name.
      expect((await sessions.completeSession(f.deps, alice, s.id, { name: "m2.bin" })).name).toBe("m2.bin");
      const r = await open(ConflictPolicy.REPLACE);
      await sessions.putPart(f.deps, alice, r.id, 1, new Blob([data]).stream());
      const replaced = await sessions.completeSession(f.deps, alice, r.id);
      expect(replaced.sha256).toBe(sha256(data));
      expect((await fileRows()).map((x) => x.name).sort()).toEqual(["m.bin", "m2.bin"]);
    });

    test("instant upload: the offer carries the policy to the proof; LinkBySha1 takes one too", async () => {
      const text = "instant content";
      const data = new TextEncoder().encode(text);
      const first = (await (await put("i.txt", text)).json()) as { file: { id: string } };
      const offer = (onConflict?: ConflictPolicy) =>
        offerContent(f.deps, alice, {
          sha256: sha256(data),
          size: BigInt(data.length),
          name: "i.txt",
          parentId: "",
          onConflict,
        });
      const prove = async (c: Awaited<ReturnType<typeof offer>>) =>
        proveContent(f.deps, alice, {
          challengeId: c.challengeId,
          rangeSha256: sha256(data.subarray(Number(c.rangeStart), Number(c.rangeStart + c.rangeLength))),
        });
      expect(await codeOf(prove(await offer()))).toBe(Code.AlreadyExists);
      expect((await prove(await offer(ConflictPolicy.RENAME))).name).toBe("i (2).txt");
      const replaced = await prove(await offer(ConflictPolicy.REPLACE));
      expect(replaced.id).toBe(first.file.id);
      await f.db
        .updateTable("blobs")
        .set({ sha1: sha1(data) })
        .execute();
      const link = (onConflict?: ConflictPolicy) =>
        linkBySha1(f.deps, alice, { sha1: sha1(data), size: 0n, name: "i.txt", parentId: "", onConflict });
      expect(await codeOf(link())).toBe(Code.AlreadyExists);
      expect((await link(ConflictPolicy.RENAME)).name).toBe("i (3).txt");
      // Every file and version of this content holds one reference.
      expect(await refcounts()).toBe(4);
    });

    test("UploadFile (client stream): on_conflict in the header, like the data plane", async () => {
      const streamed = (text: string, onConflict?: ConflictPolicy) => {
        const data = new TextEncoder().encode(text);
        async function* messages() {
          yield create(UploadFileRequestSchema, {
            payload: { case: "header", value: { name: "s.txt", size: BigInt(data.length), onConflict } },
          });
          yield create(UploadFileRequestSchema, { payload: { case: "chunk", value: data } });
        }
        return storeStreamed(f.deps, alice, messages());
      };
      const first = await streamed("one");
      // UNSPECIFIED is FAIL: AlreadyExists, nothing kept (no row, no reference, no stored bytes).
      const stored = (await f.stored()).length;
      expect(await codeOf(streamed("two"))).toBe(Code.AlreadyExists);
      expect(await codeOf(streamed("two", ConflictPolicy.FAIL))).toBe(Code.AlreadyExists);
      expect([(await fileRows()).length, await refcounts(), (await f.stored()).length]).toEqual([
        1,
        1,
        stored,
      ]);
      expect((await streamed("two", ConflictPolicy.RENAME)).name).toBe("s (2).txt");
      const replaced = await streamed("three", ConflictPolicy.REPLACE);
      expect([replaced.id, replaced.blobSha256]).toEqual([
        first.id,
        sha256(new TextEncoder().encode("three")),
      ]);
      const { versions } = await f.deps.meta.listVersions({ ownerId: alice.userId, fileId: first.id });
      expect(versions.map((v) => v.blobSha256)).toEqual([first.blobSha256]);
      expect(await refcounts()).toBe(3);
    });
  });
}
