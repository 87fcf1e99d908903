// FileService and FileAdminService over in-memory transports with the real interceptors: the codes a
// client sees, ownership, and WatchFiles.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { Reason, reasonOf } from "../../core/reasons.ts";
import {
  WatchFilesResponse_Change as Change,
  ConflictPolicy,
  FileAdminService,
  FileKind,
  FileService,
  SortField,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { publishers } from "../lib/bus/events.ts";
import { memoryBus } from "../lib/bus/memory.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { authInterceptor, errorInterceptor, internalCallerInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { codeOf } from "../lib/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { collectGarbage } from "./gc.ts";
import { fileModule } from "./service.ts";
import { publishChanges } from "./watch.ts";

const [local] = testBlobStores();
const body = (text: string) => new Blob([text]).stream();

describe("FileService", () => {
  let f: UploadFixture;
  let alice: Identity;
  let bob: Identity;
  let bus: EventBus;
  let watches: StreamLimit;
  let transport: ReturnType<typeof createRouterTransport>;
  let interceptors: ReturnType<typeof authInterceptor>[];
  const clock = { now: 1_000_000 };

  beforeEach(async () => {
    if (!local) throw new Error("no local blob store");
    f = await openUploadFixture(local, clock);
    alice = await f.user("alice");
    bob = await f.user("bob");
    bus = memoryBus({ retain: 10_000 });
    // Uploads (another service) publish on the same bus.
    f.deps.events = publishers(bus);
    watches = new StreamLimit(3);
    const mod = fileModule({
      meta: f.deps.meta,
      bus,
      watches,
      onChange: publishChanges(bus),
      collectGarbage: () =>
        collectGarbage({ meta: f.deps.meta, storeFor: storeForAll(f.opened.store), graceMs: 0 }),
    });
    // The real interceptors; the test verifier takes the bearer token for the user's id.
    const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
    interceptors = [
      errorInterceptor(createLogger("test")),
      authInterceptor({ verifier, internalSecret: f.secret }),
    ];
    transport = createRouterTransport((r) => mod.routes(r), { router: { interceptors } });
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
    storeUpload(f.deps, who, { name, parentId }, body(`${name} by ${who.username}`));

  test("folders, listing with paging and sort, rename, move, trash, restore, purge", async () => {
    const a = as(alice);
    const docs = (await a.createFolder({ name: "docs" })).folder;
    expect(docs?.kind).toBe(FileKind.FOLDER);
    for (const n of ["b.txt", "a.txt", "c.txt"]) await upload(alice, n, docs?.id);
    const page1 = await a.listFiles({ parentId: docs?.id, pageSize: 2, sort: SortField.NAME });
    expect(page1.files.map((x) => x.name)).toEqual(["a.txt", "b.txt"]);
    const page2 = await a.listFiles({
      parentId: docs?.id,
      pageSize: 2,
      sort: SortField.NAME,
      pageToken: page1.nextPageToken,
    });
    expect(page2.files.map((x) => x.name)).toEqual(["c.txt"]);
    expect(page2.nextPageToken).toBe("");
    // Modern uploads: the legacy SHA-1 is "" until the backfill has computed it.
    expect(page1.files[0]?.sha1).toBe("");
    await f.sha1Backfill.sweep();
    const sha1 = new Bun.CryptoHasher("sha1").update(`a.txt by ${alice.username}`).digest("hex");
    expect(
      (await a.listFiles({ parentId: docs?.id, pageSize: 1, sort: SortField.NAME })).files[0]?.sha1,
    ).toBe(sha1);

    const file = page1.files[0];
    expect((await a.renameFile({ id: file?.id, name: "renamed.txt" })).file?.name).toBe("renamed.txt");
    expect(await codeOf(a.renameFile({ id: file?.id, name: "b.txt" }))).toBe(Code.AlreadyExists);
    for (const bad of ["a/b", "nul\u0000byte", "x".repeat(300)]) {
      expect(await codeOf(a.renameFile({ id: file?.id, name: bad }))).toBe(Code.InvalidArgument);
    }
    expect((await a.moveFile({ id: file?.id, newParentId: "" })).file?.parentId).toBe("");
    expect(await codeOf(a.moveFile({ id: docs?.id, newParentId: docs?.id }))).toBe(Code.InvalidArgument);

    await a.deleteFile({ id: docs?.id });
    expect(await codeOf(a.listFiles({ parentId: docs?.id }))).toBe(Code.NotFound);
    const trash = await a.listTrash({});
    expect(trash.files.map((x) => x.id)).toEqual([docs?.id ?? ""]);
    expect(trash.files[0]?.deletedAt).toBeDefined();
    expect((await a.getFile({ id: docs?.id })).file?.deletedAt).toBeDefined();
    expect((await a.restoreFile({ id: docs?.id })).file?.deletedAt).toBeUndefined();
    expect((await a.listFiles({ parentId: docs?.id })).files).toHaveLength(2);

    expect(await codeOf(a.purgeFile({ id: docs?.id }))).toBe(Code.FailedPrecondition);
    await a.deleteFile({ id: docs?.id });
    await a.purgeFile({ id: docs?.id });
    expect(await codeOf(a.getFile({ id: docs?.id }))).toBe(Code.NotFound);
    expect((await a.listFiles({})).files.map((x) => x.name)).toEqual(["renamed.txt"]);
  });

  test("restore into a folder that now holds the same name: AlreadyExists with what to do", async () => {
    const a = as(alice);
    const first = await upload(alice, "same.txt");
    await a.deleteFile({ id: first.id });
    await upload(alice, "same.txt");
    const err = await a.restoreFile({ id: first.id }).catch((e) => e);
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.rawMessage).toContain(
      'rename or move that entry, or restore with on_conflict "rename" or "replace"',
    );
    expect(reasonOf(err)).toBe(Reason.NAME_TAKEN);
    // Keep both, or make the trashed content a version of the file now there.
    expect((await a.restoreFile({ id: first.id, onConflict: ConflictPolicy.RENAME })).file?.name).toBe(
      "same (2).txt",
    );
  });

  test("versions through FileService: replaced by a move and by an upload; list, restore, delete", async () => {
    const a = as(alice);
    // Each step a second later, so versions order by the time they were archived.
    const put = (text: string, parentId = "", onConflict = ConflictPolicy.UNSPECIFIED) => {
      clock.now += 1000;
      return storeUpload(f.deps, alice, { name: "doc.txt", parentId, onConflict }, body(text));
    };
    const doc = await put("v1");
    const dir = (await a.createFolder({ name: "d" })).folder;
    const other = await put("v2", dir?.id);
    expect(await codeOf(a.moveFile({ id: other.id, newParentId: "" }))).toBe(Code.AlreadyExists);
    const replaced = await a.moveFile({ id: other.id, newParentId: "", onConflict: ConflictPolicy.REPLACE });
    expect([replaced.file?.id, replaced.file?.sha256]).toEqual([doc.id, other.blobSha256]);
    expect(await codeOf(a.getFile({ id: other.id }))).toBe(Code.NotFound);
    const v3 = await put("v3", "", ConflictPolicy.REPLACE);
    expect(v3.id).toBe(doc.id);
    const { versions } = await a.listVersions({ fileId: doc.id });
    expect(versions.map((v) => v.sha256)).toEqual([other.blobSha256, doc.blobSha256]);
    clock.now += 1000;
    const back = await a.restoreVersion({ fileId: doc.id, versionId: versions[1]?.id });
    expect([back.file?.id, back.file?.sha256, back.file?.name]).toEqual([doc.id, doc.blobSha256, "doc.txt"]);
    const now = (await a.listVersions({ fileId: doc.id })).versions;
    expect(now.map((v) => v.sha256)).toEqual([v3.blobSha256, other.blobSha256]);
    await a.deleteVersion({ fileId: doc.id, versionId: now[0]?.id });
    expect((await a.listVersions({ fileId: doc.id })).versions).toHaveLength(1);
    expect(await codeOf(a.deleteVersion({ fileId: doc.id, versionId: now[0]?.id }))).toBe(Code.NotFound);
    expect(await codeOf(as(bob).listVersions({ fileId: doc.id }))).toBe(Code.NotFound);
  });

  test("another user's id fails exactly like an unknown one, for every call", async () => {
    const mine = await upload(alice, "mine.txt");
    const folder = (await as(alice).createFolder({ name: "private" })).folder;
    const trashed = await upload(alice, "trashed.txt");
    await as(alice).deleteFile({ id: trashed.id });
    const b = as(bob);
    const unknown = crypto.randomUUID();
    for (const id of [mine.id, trashed.id, unknown]) {
      const calls = [
        () => b.getFile({ id }),
        () => b.renameFile({ id, name: "x" }),
        () => b.moveFile({ id, newParentId: "" }),
        () => b.deleteFile({ id }),
        () => b.restoreFile({ id }),
        () => b.purgeFile({ id }),
      ];
      for (const call of calls) {
        const err = await call().catch((e) => e);
        expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "no such file or folder"]);
      }
    }
    for (const parentId of [folder?.id, unknown]) {
      const err = await b.listFiles({ parentId }).catch((e) => e);
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, "no such folder (or it is in the trash)"]);
      expect(await codeOf(b.createFolder({ parentId, name: "x" }))).toBe(Code.NotFound);
    }
    expect(await codeOf(b.moveFile({ id: (await upload(bob, "bob.txt")).id, newParentId: folder?.id }))).toBe(
      Code.NotFound,
    );
    expect((await b.listTrash({})).files).toHaveLength(0);
    expect((await as(alice).getFile({ id: mine.id })).file?.name).toBe("mine.txt");
  });

  test("no identity: Unauthenticated; the admin service wants the internal secret", async () => {
    expect(await codeOf(createClient(FileService, transport).listFiles({}))).toBe(Code.Unauthenticated);
    const admin = createClient(FileAdminService, transport);
    expect(
      await codeOf(admin.runGarbageCollection({}, { headers: { authorization: `Bearer ${alice.userId}` } })),
    ).toBe(Code.PermissionDenied);
    const doc = await upload(alice, "gone.txt");
    await as(alice).deleteFile({ id: doc.id });
    await as(alice).purgeFile({ id: doc.id });
    const internal = createClient(
      FileAdminService,
      createRouterTransport(
        (r) =>
          fileModule({
            meta: f.deps.meta,
            bus,
            watches,
            collectGarbage: async () => ({ deleted: 7, failed: 0 }),
          }).routes(r),
        {
          router: { interceptors },
          transport: { interceptors: [internalCallerInterceptor(f.secret)] },
        },
      ),
    );
    expect((await internal.runGarbageCollection({})).deleted).toBe(7);
    // The real pass, on demand: the purged content goes.
    const real = createClient(
      FileAdminService,
      createRouterTransport(
        (r) =>
          fileModule({
            meta: f.deps.meta,
            bus,
            watches,
            collectGarbage: () =>
              collectGarbage({ meta: f.deps.meta, storeFor: storeForAll(f.opened.store), graceMs: 0 }),
          }).routes(r),
        {
          router: { interceptors },
          transport: { interceptors: [internalCallerInterceptor(f.secret)] },
        },
      ),
    );
    expect(await real.runGarbageCollection({})).toMatchObject({ deleted: 1, failed: 0 });
    expect(await f.stored()).toHaveLength(0);
  });

  test("WatchFiles: the caller's changes as they happen, uploads (another service) included; resume after an event id", async () => {
    const stop = new AbortController();
    const stream = createClient(FileService, transport).watchFiles(
      {},
      { headers: { authorization: `Bearer ${alice.userId}` }, signal: stop.signal },
    );
    const events: { change: Change; name: string }[] = [];
    const ids: string[] = [];
    const reading = (async () => {
      try {
        for await (const e of stream) {
          events.push({ change: e.change, name: e.file?.name ?? "" });
          ids.push(e.eventId);
        }
      } catch {
        // aborted
      }
    })();
    await Bun.sleep(20);
    const folder = (await as(alice).createFolder({ name: "watched" })).folder;
    await as(alice).renameFile({ id: folder?.id, name: "watched2" });
    await as(bob).createFolder({ name: "not alice's" });
    clock.now += 1000;
    await upload(alice, "from-upload.txt"); // another service
    await as(alice).deleteFile({ id: folder?.id });
    await Bun.sleep(20);
    stop.abort();
    await reading;
    expect(events).toEqual([
      { change: Change.CREATED, name: "watched" },
      { change: Change.UPDATED, name: "watched2" },
      { change: Change.CREATED, name: "from-upload.txt" },
      { change: Change.DELETED, name: "watched2" },
    ]);
    // A client that comes back with the id of the second event gets the rest again, in order.
    const again = new AbortController();
    const resumed: string[] = [];
    for await (const e of createClient(FileService, transport).watchFiles(
      { afterEventId: ids[1] },
      { headers: { authorization: `Bearer ${alice.userId}` }, signal: again.signal },
    )) {
      resumed.push(`${e.change}:${e.file?.name}`);
      if (resumed.length === 2) break;
    }
    expect(resumed).toEqual([`${Change.CREATED}:from-upload.txt`, `${Change.DELETED}:watched2`]);
    // A cursor the bus never gave out: one reload, then what follows.
    const stale = createClient(FileService, transport).watchFiles(
      { afterEventId: "1-1" },
      { headers: { authorization: `Bearer ${alice.userId}` } },
    );
    for await (const e of stale) {
      expect([e.reload, e.file]).toEqual([true, undefined]);
      break;
    }
    expect(
      await codeOf(
        (async () => {
          for await (const _ of createClient(FileService, transport).watchFiles(
            { afterEventId: "not-an-id" },
            { headers: { authorization: `Bearer ${alice.userId}` } },
          ));
        })(),
      ),
    ).toBe(Code.InvalidArgument);
  });

  test("WatchFiles: at most 3 open streams per user; ending one (any way) makes room; nothing leaks", async () => {
    /** Opens a stream for `who`; resolves `ended` with the code it ended with (0: aborted by us). */
    const open = (who: Identity) => {
      const stop = new AbortController();
      const events: string[] = [];
      const ended = (async () => {
        try {
          const stream = createClient(FileService, transport).watchFiles(
            {},
            { headers: { authorization: `Bearer ${who.userId}` }, signal: stop.signal },
          );
          for await (const e of stream) events.push(e.file?.name ?? "");
          return -1;
        } catch (err) {
          return stop.signal.aborted ? 0 : ConnectError.from(err);
        }
      })();
      return { stop, events, ended };
    };
    const seenBy = async (streams: { events: string[] }[], name: string) => {
      await as(alice).createFolder({ name });
      for (let i = 0; i < 100 && !streams.every((s) => s.events.includes(name)); i++) await Bun.sleep(10);
      return streams.every((s) => s.events.includes(name));
    };

    const first = [open(alice), open(alice), open(alice)];
    expect(await seenBy(first, "one")).toBe(true);
    expect(watches.count(alice.userId)).toBe(3);
    const refused = await open(alice).ended;
    expect(refused).toBeInstanceOf(ConnectError);
    expect([(refused as ConnectError).code, (refused as ConnectError).rawMessage]).toEqual([
      Code.ResourceExhausted,
      "too many open watches: close other tabs or clients (limit 3)",
    ]);
    const other = open(bob); // per user: Bob is not refused for Alice's streams
    // A stream the client aborts frees its place at once.
    first[0]?.stop.abort();
    await first[0]?.ended;
    expect(watches.count(alice.userId)).toBe(2);
    const second = [first[1], first[2], open(alice)] as typeof first;
    expect(await seenBy(second, "two")).toBe(true);
    expect(watches.count(alice.userId)).toBe(3);
    // However a stream ends, its place is freed: here its client goes away.
    for (const s of second) s.stop.abort();
    expect(await Promise.all(second.map((s) => s.ended))).toEqual([0, 0, 0]);
    expect(watches.count(alice.userId)).toBe(0);
    // Aborted ones too: nothing left counted, and the full limit opens again.
    expect(watches.count(bob.userId)).toBe(1);
    other.stop.abort();
    expect(await other.ended).toBe(0);
    expect([watches.count(alice.userId), watches.count(bob.userId), watches.users()]).toEqual([0, 0, 0]);
    const again = [open(alice), open(alice), open(alice)];
    expect(await seenBy(again, "three")).toBe(true);
    expect(((await open(alice).ended) as ConnectError).code).toBe(Code.ResourceExhausted);
    for (const s of again) s.stop.abort();
    await Promise.all(again.map((s) => s.ended));
    expect(watches.users()).toBe(0);
  });
});
