// FileService's copy, batch, search and trash calls over in-memory transports with the real interceptors:
// per-item results of a batch with partial failures (what succeeded stays done), the batch cap, copies
// sharing content, search filters, EmptyTrash and original paths in ListTrash; what WatchFiles reports for
// copies (CREATED, or UPDATED when REPLACE gave a file a new version) and for entries leaving the trash
// (EmptyTrash and the retention purge: DELETED, as PurgeFile).
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
import { memoryBus } from "../lib/bus/memory.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { MAX_BATCH } from "./batch.ts";
import { runGcPass } from "./gc.ts";
import { fileModule } from "./service.ts";
import { publishChanges } from "./watch.ts";

const [local] = testBlobStores();

for (const database of testDatabases()) {
  describe(`FileService copy, batch, search, trash on ${database.dialect}`, () => {
    let f: UploadFixture;
    let alice: Identity;
    let bob: Identity;
    let transport: ReturnType<typeof createRouterTransport>;
    let bus: EventBus;
    const clock = { now: 1_000_000 };
    beforeEach(async () => {
      if (!local) throw new Error("no local blob store");
      f = await openUploadFixture(local, clock, database);
      alice = await f.user("alice");
      bob = await f.user("bob");
      bus = memoryBus({ retain: 10_000 });
      const mod = fileModule({
        meta: f.deps.meta,
        bus,
        watches: new StreamLimit(3),
        onChange: publishChanges(bus),
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

    test("batch copy with REPLACE and partial failures: files gain versions, a folder is refused, the rest stays done", async () => {
      const a = as(alice);
      const dst = (await a.createFolder({ name: "dst" })).folder;
      const p = await upload(alice, "p.txt");
      const q = await upload(alice, "q.txt");
      const dir = (await a.createFolder({ name: "dir" })).folder;
      await a.createFolder({ name: "dir", parentId: dst?.id });
      const pThere = await upload(alice, "p.txt", dst?.id);
      const res = await a.batchFiles({
        operation: BatchOperation.COPY,
        ids: [p.id, dir?.id ?? "", q.id, crypto.randomUUID()],
        newParentId: dst?.id,
        onConflict: ConflictPolicy.REPLACE,
      });
      expect(res.results.map((r) => [r.ok, r.code, r.file?.name ?? ""])).toEqual([
        [true, "", "p.txt"],
        [false, "invalid_argument", ""],
        [true, "", "q.txt"],
        [false, "not_found", ""],
      ]);
      // p.txt there kept its id and gained p's content; its own became a version.
      expect([res.results[0]?.file?.id, res.results[0]?.file?.sha256]).toEqual([pThere.id, p.blobSha256]);
      expect((await a.listVersions({ fileId: pThere.id })).versions.map((v) => v.sha256)).toEqual([
        pThere.blobSha256,
      ]);
      expect(res.results[1]?.message).toContain("folders cannot be replaced");
      const listed = await a.listFiles({ parentId: dst?.id });
      expect(listed.files.map((x) => x.name).sort()).toEqual(["dir", "p.txt", "q.txt"]);
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

    test("WatchFiles: copies CREATED (REPLACE: UPDATED); EmptyTrash and the retention purge report DELETED", async () => {
      const stop = new AbortController();
      const stream = createClient(FileService, transport).watchFiles(
        {},
        { headers: { authorization: `Bearer ${alice.userId}` }, signal: stop.signal },
      );
      const events: [Change, string, string][] = [];
      const reading = (async () => {
        try {
          for await (const e of stream) events.push([e.change, e.file?.name ?? "", e.file?.id ?? ""]);
        } catch {
          // aborted
        }
      })();
      await Bun.sleep(20);
      const a = as(alice);
      const src = await upload(alice, "w.txt");
      const dir = (await a.createFolder({ name: "wd" })).folder;
      const there = await upload(alice, "w.txt", dir?.id);
      const replaced = await a.copyFile({
        id: src.id,
        newParentId: dir?.id,
        onConflict: ConflictPolicy.REPLACE,
      });
      expect(replaced.file?.id).toBe(there.id);
      const copy = (await a.copyFile({ id: src.id, newParentId: "", name: "w2.txt" })).file;
      await a.deleteFile({ id: dir?.id });
      await a.deleteFile({ id: copy?.id });
      await a.emptyTrash({});
      const DAY = 86_400_000;
      await a.deleteFile({ id: src.id });
      await as(bob).deleteFile({ id: (await upload(bob, "bob.txt")).id });
      clock.now += 31 * DAY;
      await runGcPass({
        meta: f.deps.meta,
        storeFor: f.deps.storeFor,
        graceMs: DAY,
        trashRetentionMs: 30 * DAY,
        onChange: publishChanges(bus),
      });
      await Bun.sleep(20);
      stop.abort();
      await reading;
      const byId = (x: [Change, string, string], y: [Change, string, string]) => x[2].localeCompare(y[2]);
      expect(events.slice(0, 5)).toEqual([
        [Change.CREATED, "wd", dir?.id ?? ""],
        [Change.UPDATED, "w.txt", there.id],
        [Change.CREATED, "w2.txt", copy?.id ?? ""],
        [Change.DELETED, "wd", dir?.id ?? ""],
        [Change.DELETED, "w2.txt", copy?.id ?? ""],
      ]);
      // EmptyTrash: each entry that left the trash, once more.
      expect(events.slice(5, 7).sort(byId)).toEqual(
        [
          [Change.DELETED, "wd", dir?.id ?? ""] as [Change, string, string],
          [Change.DELETED, "w2.txt", copy?.id ?? ""] as [Change, string, string],
        ].sort(byId),
      );
      // Deleted, then purged by the retention (bob's entry goes to bob's watchers only).
      expect(events.slice(7)).toEqual([
        [Change.DELETED, "w.txt", src.id],
        [Change.DELETED, "w.txt", src.id],
      ]);
    });
  });
}
