// FileService's copy, batch, search and trash calls over in-memory transports with the real interceptors:
// per-item results of a batch with partial failures (what succeeded stays done), the batch cap, copies
// sharing content (under REPLACE: a new version of the target), search filters, EmptyTrash and original paths in ListTrash.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import {
  BatchOperation,
  WatchFilesResponse_Change as Change,
  ConflictPolicy,
  FileCategory,
  FileService,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { MAX_BATCH } from "./batch.ts";
import { fileModule } from "./service.ts";
import { ChangeFeed } from "./watch.ts";

const [local] = testBlobStores();

for (const database of testDatabases()) {
  describe(`FileService copy, batch, search, trash on ${database.dialect}`, () => {
    let f: UploadFixture;
    let alice: Identity;
    let bob: Identity;
    let transport: ReturnType<typeof createRouterTransport>;
    const clock = { now: 1_000_000 };
    /** The changes published, as [change, name]. */
    let changes: [Change, string][] = [];
    beforeEach(async () => {
      changes = [];
      if (!local) throw new Error("no local blob store");
      f = await openUploadFixture(local, clock, database);
      alice = await f.user("alice");
      bob = await f.user("bob");
      const feed = new ChangeFeed(() => clock.now);
      const mod = fileModule({
        meta: f.deps.meta,
        feed,
        watches: new StreamLimit(3),
        onChange: (userId, change, file) => {
          changes.push([change, file.name]);
          feed.publish(userId, change, file);
        },
        collectGarbage: async () => ({ deleted: 0, failed: 0 }),
      });
      const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
      transport = createRouterTransport((r) => mod.routes(r), {
        router: {
          interceptors: [
            errorInterceptor(createLogger("test")),
            authInterceptor({ verifier, internalSecret: f.secret }),
          ],
        },
      });
    });
    afterEach(() => f.close());
    const as = (who: Identity) => {
      const client = createClient(FileService, transport);
      const headers = { authorization: `Bearer ${who.userId}` };
      return new Proxy(client, {
        get: (t, p) => {
          const method = Reflect.get(t, p) as (req: unknown, opts?: unknown) => unknown;
          return (req: unknown) => method(req, { headers });
        },
      }) as typeof client;
    };
    const upload = (who: Identity, name: string, parentId = "") =>
      storeUpload(f.deps, who, { name, parentId }, new Blob([`${name}!`]).stream());

    test("batch move with partial failures: each item answers, the good ones stay moved", async () => {
      const a = as(alice);
      const dst = (await a.createFolder({ name: "dst" })).folder;
      const one = await upload(alice, "one.txt");
      const two = await upload(alice, "two.txt");
      await upload(alice, "two.txt", dst?.id); // the name is taken there
      const theirs = await upload(bob, "theirs.txt");
      const res = await a.batchFiles({
        operation: BatchOperation.MOVE,
        ids: [one.id, two.id, theirs.id, "", one.id],
        newParentId: dst?.id,
      });
      expect(res.results.map((r) => [r.id, r.ok, r.code])).toEqual([
        [one.id, true, ""],
        [two.id, false, "already_exists"],
        [theirs.id, false, "not_found"],
        ["", false, "invalid_argument"],
        [one.id, true, ""],
      ]);
      expect(res.results[0]?.file?.parentId).toBe(dst?.id);
      expect(res.results[1]?.message).toContain("two.txt");
      expect((await a.getFile({ id: one.id })).file?.parentId).toBe(dst?.id);
      expect((await a.getFile({ id: two.id })).file?.parentId).toBe("");
    });

    test("batch delete, restore, purge and copy; the list is capped; bad requests fail as a whole", async () => {
      const a = as(alice);
      const x = await upload(alice, "x.txt");
      const y = await upload(alice, "y.txt");
      const del = await a.batchFiles({ operation: BatchOperation.DELETE, ids: [x.id, y.id] });
      expect(del.results.every((r) => r.ok && r.file?.deletedAt)).toBe(true);
      const restore = await a.batchFiles({ operation: BatchOperation.RESTORE, ids: [x.id] });
      expect(restore.results[0]?.file?.deletedAt).toBeUndefined();
      const purge = await a.batchFiles({ operation: BatchOperation.PURGE, ids: [x.id, y.id] });
      expect(purge.results.map((r) => [r.ok, r.code])).toEqual([
        [false, "failed_precondition"],
        [true, ""],
      ]);
      const copy = await a.batchFiles({
        operation: BatchOperation.COPY,
        ids: [x.id, x.id],
        onConflict: ConflictPolicy.RENAME,
      });
      expect(copy.results.map((r) => r.file?.name)).toEqual(["x (2).txt", "x (3).txt"]);
      expect(copy.results[0]?.file?.sha256).toBe(x.blobSha256);
      const tooMany = await a
        .batchFiles({ operation: BatchOperation.DELETE, ids: Array(MAX_BATCH + 1).fill(x.id) })
        .catch((e) => e);
      expect([tooMany.code, tooMany.rawMessage]).toEqual([
        Code.InvalidArgument,
        `at most 1000 ids per batch (got 1001): split the list`,
      ]);
      expect(await codeOf(a.batchFiles({ ids: [x.id] }))).toBe(Code.InvalidArgument);
      expect(await codeOf(a.batchFiles({ operation: BatchOperation.MOVE, ids: [] }))).toBe(
        Code.InvalidArgument,
      );
      expect(
        await codeOf(a.batchFiles({ operation: BatchOperation.DELETE, ids: [x.id], newParentId: "z" })),
      ).toBe(Code.InvalidArgument);
    });

    test("CopyFile, SearchFiles, ListTrash's original paths and EmptyTrash", async () => {
      const a = as(alice);
      const docs = (await a.createFolder({ name: "Docs" })).folder;
      const cv = await upload(alice, "Résumé.PDF", docs?.id);
      const copy = (await a.copyFile({ id: cv.id, newParentId: "", name: "resume-copy.pdf" })).file;
      expect(copy?.sha256).toBe(cv.blobSha256);
      expect(await codeOf(a.copyFile({ id: cv.id, newParentId: docs?.id }))).toBe(Code.AlreadyExists);
      expect(await codeOf(a.copyFile({ id: docs?.id, newParentId: docs?.id }))).toBe(Code.InvalidArgument);
      const found = await a.searchFiles({ query: "RESUME" });
      expect(found.files.map((x) => x.name).sort()).toEqual(["Résumé.PDF", "resume-copy.pdf"]);
      expect((await a.searchFiles({ query: "resume", folderId: docs?.id })).files.map((x) => x.name)).toEqual(
        ["Résumé.PDF"],
      );
      expect(
        (await a.searchFiles({ query: "d", category: FileCategory.FOLDER })).files.map((x) => x.name),
      ).toEqual(["Docs"]);
      expect((await as(bob).searchFiles({ query: "resume" })).files).toEqual([]);
      expect(await codeOf(a.searchFiles({ query: "" }))).toBe(Code.InvalidArgument);
      await a.deleteFile({ id: cv.id });
      await a.deleteFile({ id: copy?.id });
      const trash = await a.listTrash({});
      expect(Object.fromEntries(trash.entries.map((e) => [e.file?.name, e.originalPath]))).toEqual({
        "Résumé.PDF": "/Docs",
        "resume-copy.pdf": "/",
      });
      expect((await a.emptyTrash({})).count).toBe(2);
      expect((await a.listTrash({})).files).toEqual([]);
    });

    test("CopyFile and batch COPY under REPLACE: the target keeps its id and gains a version; an update", async () => {
      const a = as(alice);
      const dst = (await a.createFolder({ name: "dst" })).folder?.id ?? "";
      const src = await upload(alice, "a.txt");
      const old = await upload(alice, "a.txt", dst);
      changes = [];
      const replaced = (
        await a.copyFile({ id: src.id, newParentId: dst, onConflict: ConflictPolicy.REPLACE })
      ).file;
      expect(replaced).toMatchObject({ id: old.id, name: "a.txt", sha256: src.blobSha256 });
      expect(changes).toEqual([[Change.UPDATED, "a.txt"]]);
      const versions = (await a.listVersions({ fileId: old.id })).versions;
      expect(versions.map((v) => v.sha256)).toEqual([old.blobSha256]);
      // Copied onto itself: nothing changes, nothing is announced.
      changes = [];
      expect(
        (await a.copyFile({ id: src.id, newParentId: "", onConflict: ConflictPolicy.REPLACE })).file?.id,
      ).toBe(src.id);
      expect(changes).toEqual([]);
      // The batch takes the policy for every item.
      const res = await a.batchFiles({
        operation: BatchOperation.COPY,
        ids: [src.id],
        newParentId: dst,
        onConflict: ConflictPolicy.REPLACE,
      });
      expect(res.results.map((r) => [r.ok, r.file?.id])).toEqual([[true, old.id]]);
      expect((await a.listVersions({ fileId: old.id })).versions).toHaveLength(2);
    });
  });
}
