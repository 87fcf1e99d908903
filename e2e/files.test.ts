// File management through the gateway, in either mode: FileService (Connect JSON), garbage collection on
// demand (internal only), and the legacy /file/query and /file/update routes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { connectCall, eventually, randomBytes, type Stack, signedInUser, startStack } from "./harness.ts";

const SECRET = "e2e-internal-secret-0123456789abcdef";
const FILES = "filestore.file.v1.FileService";
type User = Awaited<ReturnType<typeof signedInUser>>;
type File = { id: string; name: string; parentId?: string; kind: string; sha1: string; sha256: string };

let stack: Stack;
let alice: User;
let bob: User;
beforeAll(async () => {
  stack = await startStack({
    INTERNAL_SECRET: SECRET,
    GC_GRACE_SECONDS: "0",
    GC_INTERVAL_SECONDS: "0",
    WATCH_CHECK_SECONDS: "1",
    MAX_FOLDER_DEPTH: "4",
    FILE_MAX_WATCHES_PER_USER: "3",
  });
  alice = await signedInUser(stack.gatewayUrl);
  bob = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

const sha1 = (b: Uint8Array) => new Bun.CryptoHasher("sha1").update(b).digest("hex");
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

const call = (who: User, method: string, body: unknown) =>
  connectCall(stack.gatewayUrl, `${FILES}/${method}`, body, { authorization: `Bearer ${who.accessToken}` });

async function upload(who: User, name: string, data: Uint8Array<ArrayBuffer> | string, parentId = "") {
  const q = new URLSearchParams({ name, parent_id: parentId });
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?${q}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${who.accessToken}` },
    body: data,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}

async function list(who: User, body: Record<string, unknown>) {
  const names: string[] = [];
  let pageToken = "";
  do {
    const r = await call(who, "ListFiles", { ...body, pageToken });
    expect(r.status).toBe(200);
    names.push(...((r.json.files as File[] | undefined) ?? []).map((f) => f.name));
    pageToken = (r.json.nextPageToken as string | undefined) ?? "";
  } while (pageToken);
  return names;
}

describe(`file management through the gateway (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("folders, listing with paging and each sort order", async () => {
    const dir = (await call(alice, "CreateFolder", { name: "listing" })).json.folder as File;
    expect(dir.kind).toBe("FILE_KIND_FOLDER");
    await upload(alice, "b.txt", "bb", dir.id);
    await upload(alice, "a.txt", "aaa", dir.id);
    await upload(alice, "c.txt", "c", dir.id);
    await call(alice, "CreateFolder", { name: "sub", parentId: dir.id });
    const base = { parentId: dir.id, pageSize: 2 };
    expect(await list(alice, base)).toEqual(["sub", "a.txt", "b.txt", "c.txt"]);
    expect(await list(alice, { ...base, sort: "SORT_FIELD_NAME", descending: true })).toEqual([
      "sub",
      "c.txt",
      "b.txt",
      "a.txt",
    ]);
    expect(await list(alice, { ...base, sort: "SORT_FIELD_SIZE" })).toEqual([
      "sub",
      "c.txt",
      "b.txt",
      "a.txt",
    ]);
    expect(await list(alice, { ...base, sort: "SORT_FIELD_UPDATED_AT", descending: true })).toEqual([
      "sub",
      "c.txt",
      "a.txt",
      "b.txt",
    ]);
    const first = await call(alice, "ListFiles", base);
    expect((first.json.files as File[]).length).toBe(2);
    const wrong = await call(alice, "ListFiles", {
      ...base,
      sort: "SORT_FIELD_SIZE",
      pageToken: first.json.nextPageToken,
    });
    expect([wrong.status, wrong.json.code]).toEqual([400, "invalid_argument"]);
  });

  test("rename: bad names are InvalidArgument, a taken name AlreadyExists", async () => {
    const id = await upload(alice, "rename-me.txt", "x");
    await upload(alice, "taken.txt", "y");
    const ok = await call(alice, "RenameFile", { id, name: "renamed 中文.txt" });
    expect([ok.status, (ok.json.file as File).name]).toEqual([200, "renamed 中文.txt"]);
    for (const name of ["a/b", "nul\u0000", "x".repeat(300)]) {
      const r = await call(alice, "RenameFile", { id, name });
      expect([r.status, r.json.code]).toEqual([400, "invalid_argument"]);
    }
    const clash = await call(alice, "RenameFile", { id, name: "taken.txt" });
    expect([clash.status, clash.json.code]).toEqual([409, "already_exists"]);
  });

  test("move, delete to the trash, restore, purge", async () => {
    const dir = (await call(alice, "CreateFolder", { name: "lifecycle" })).json.folder as File;
    const id = await upload(alice, "moving.txt", "moving");
    const moved = await call(alice, "MoveFile", { id, newParentId: dir.id });
    expect((moved.json.file as File).parentId).toBe(dir.id);
    const intoSelf = await call(alice, "MoveFile", { id: dir.id, newParentId: dir.id });
    expect(intoSelf.json.code).toBe("invalid_argument");

    expect((await call(alice, "DeleteFile", { id: dir.id })).status).toBe(200);
    expect((await call(alice, "ListFiles", { parentId: dir.id })).json.code).toBe("not_found");
    const trash = (await call(alice, "ListTrash", {})).json.files as File[];
    expect(trash.map((f) => f.id)).toContain(dir.id);
    expect(trash.map((f) => f.id)).not.toContain(id); // it went with its folder
    expect((await call(alice, "RestoreFile", { id: dir.id })).status).toBe(200);
    expect(await list(alice, { parentId: dir.id })).toEqual(["moving.txt"]);

    const early = await call(alice, "PurgeFile", { id });
    expect([early.status, early.json.code]).toEqual([400, "failed_precondition"]);
    await call(alice, "DeleteFile", { id });
    expect((await call(alice, "PurgeFile", { id })).status).toBe(200);
    expect((await call(alice, "GetFile", { id })).json.code).toBe("not_found");
  });

  test("folders nest at most MAX_FOLDER_DEPTH levels: deeper by create, move or restore is failed_precondition", async () => {
    const dave = await signedInUser(stack.gatewayUrl);
    const mk = async (name: string, parentId = "") =>
      (await call(dave, "CreateFolder", { name, parentId })).json.folder as File;
    const d1 = await mk("d1");
    const d3 = await mk("d3", (await mk("d2", d1.id)).id);
    const d4 = await mk("d4", d3.id);
    const deeper = await call(dave, "CreateFolder", { name: "d5", parentId: d4.id });
    expect([deeper.status, deeper.json.code, deeper.json.message]).toEqual([
      400,
      "failed_precondition",
      "folders can be nested at most 4 levels deep: choose a folder higher up the tree",
    ]);
    await upload(dave, "deepest.txt", "a file adds no level", d4.id);
    expect(await list(dave, { parentId: d4.id })).toEqual(["deepest.txt"]);
    // A subtree 2 levels tall fits under depth 2, not under depth 3.
    const s1 = await mk("s1");
    await mk("s2", s1.id);
    const tooDeep = await call(dave, "MoveFile", { id: s1.id, newParentId: d3.id });
    expect([tooDeep.status, tooDeep.json.code]).toEqual([400, "failed_precondition"]);
    const p1 = await mk("p1");
    const p2 = await mk("p2", p1.id);
    expect((await call(dave, "MoveFile", { id: s1.id, newParentId: p2.id })).status).toBe(200);
    // Deleted, then its former folder moves a level deeper: restoring there would reach depth 5.
    await call(dave, "DeleteFile", { id: s1.id });
    expect((await call(dave, "MoveFile", { id: p1.id, newParentId: (await mk("x")).id })).status).toBe(200);
    const restore = await call(dave, "RestoreFile", { id: s1.id });
    expect([restore.status, restore.json.code]).toEqual([400, "failed_precondition"]);
    const trash = (await call(dave, "ListTrash", {})).json.files as File[];
    expect(trash.map((f) => f.name)).toEqual(["s1"]);
  });

  test("user B cannot read, list, rename, move, delete, restore or purge user A's entries by id", async () => {
    const id = await upload(alice, "private.txt", "alice's secret");
    const trashed = await upload(alice, "private-trashed.txt", "alice's other secret");
    await call(alice, "DeleteFile", { id: trashed });
    const dir = (await call(alice, "CreateFolder", { name: "private-dir" })).json.folder as File;
    for (const target of [id, trashed, dir.id]) {
      for (const [method, body] of [
        ["GetFile", { id: target }],
        ["RenameFile", { id: target, name: "bob was here" }],
        ["MoveFile", { id: target, newParentId: "" }],
        ["DeleteFile", { id: target }],
        ["RestoreFile", { id: target }],
        ["PurgeFile", { id: target }],
      ] as const) {
        const r = await call(bob, method, body);
        expect([method, r.status, r.json.code, r.json.message]).toEqual([
          method,
          404,
          "not_found",
          "no such file or folder",
        ]);
      }
    }
    expect((await call(bob, "ListFiles", { parentId: dir.id })).json.code).toBe("not_found");
    expect((await call(bob, "CreateFolder", { parentId: dir.id, name: "x" })).json.code).toBe("not_found");
    expect(await list(bob, { allFolders: true })).toEqual([]);
    expect(((await call(bob, "ListTrash", {})).json.files as File[] | undefined) ?? []).toEqual([]);
    const still = (await call(alice, "GetFile", { id })).json.file as File;
    expect(still.name).toBe("private.txt");
  });

  test("garbage collection on demand (internal only): purged content goes, shared content stays", async () => {
    const shared = randomBytes(200_000);
    const lone = randomBytes(100_000);
    const a = await upload(alice, "shared.bin", shared);
    const b = await upload(bob, "shared-too.bin", shared);
    const l = await upload(alice, "lone.bin", lone);
    for (const id of [a, l]) {
      await call(alice, "DeleteFile", { id });
      await call(alice, "PurgeFile", { id });
    }
    // Not reachable through the gateway, nor without the secret.
    const gc = "filestore.file.v1.FileAdminService/RunGarbageCollection";
    expect((await connectCall(stack.gatewayUrl, gc, {})).status).toBe(404);
    expect((await connectCall(stack.fileUrl, gc, {})).json.code).toBe("permission_denied");
    const run = await connectCall(stack.fileUrl, gc, {}, { "x-filestore-internal": SECRET });
    expect(run.status).toBe(200);
    expect(run.json.deleted).toBeGreaterThanOrEqual(1);
    const blob = (sha: string) =>
      connectCall(
        stack.metaUrl,
        "filestore.meta.v1.ContentService/GetBlob",
        { sha256: sha },
        { "x-filestore-internal": SECRET },
      );
    expect((await blob(sha256(lone))).json.code).toBe("not_found");
    const kept = (await blob(sha256(shared))).json.blob as { state: string; refcount: number };
    expect([kept.state, kept.refcount]).toEqual(["ready", 1]);
    // The bytes are gone from disk; the content another user still names still downloads.
    const onDisk = (sha: string) => [...new Bun.Glob(`**/${sha}.*`).scanSync(stack.dataDir)];
    expect(onDisk(sha256(lone))).toEqual([]);
    expect(onDisk(sha256(shared))).toHaveLength(1);
    const down = await fetch(`${stack.gatewayUrl}/download/v1/files/${b}`, {
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(down.status).toBe(200);
    expect(sha256(new Uint8Array(await down.arrayBuffer()))).toBe(sha256(shared));
  });
});

test(`WatchFiles streams the caller's changes through the gateway, uploads included (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, async () => {
  const erin = await signedInUser(stack.gatewayUrl);
  const client = createClient(
    FileService,
    createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
  );
  const stop = new AbortController();
  const seen: string[] = [];
  const reading = (async () => {
    try {
      const stream = client.watchFiles(
        {},
        { headers: { authorization: `Bearer ${erin.accessToken}` }, signal: stop.signal },
      );
      for await (const e of stream) seen.push(`${e.change}:${e.file?.name}`);
    } catch {
      // aborted below
    }
  })();
  await Bun.sleep(300);
  const dir = (await call(erin, "CreateFolder", { name: "watched" })).json.folder as File;
  await call(bob, "CreateFolder", { name: "bob's, not erin's" });
  await upload(erin, "uploaded.txt", "from the upload worker");
  await call(erin, "DeleteFile", { id: dir.id });
  const until = Date.now() + 10_000;
  while (seen.length < 3 && Date.now() < until) await Bun.sleep(100);
  stop.abort();
  await reading;
  // 1 created, 3 deleted (the upload is found by the periodic check, so it may come last).
  expect(seen.sort()).toEqual(["1:uploaded.txt", "1:watched", "3:watched"]);
});

test(`WatchFiles: at most FILE_MAX_WATCHES_PER_USER (3) open streams per user, over Connect and gRPC; aborted ones free their places (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, async () => {
  const gus = await signedInUser(stack.gatewayUrl);
  const headers = { authorization: `Bearer ${gus.accessToken}` };
  const viaGateway = createClient(
    FileService,
    createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
  );
  const viaGrpc = createClient(FileService, createGrpcTransport({ baseUrl: stack.fileUrl }));
  type Watch = { stop: AbortController; events: string[]; ended: Promise<ConnectError | undefined> };
  /** A stream of Gus's changes; `ended` resolves with its error (undefined: we aborted it). */
  const open = (client: typeof viaGateway): Watch => {
    const stop = new AbortController();
    const events: string[] = [];
    const ended = (async () => {
      try {
        for await (const e of client.watchFiles({}, { headers, signal: stop.signal }))
          events.push(e.file?.name ?? "");
        return new ConnectError("the stream ended by itself");
      } catch (err) {
        return stop.signal.aborted ? undefined : ConnectError.from(err);
      }
    })();
    return { stop, events, ended };
  };
  let n = 0;
  /**
   * Whether every stream reports a change made after it was opened (so the server holds them all): a
   * new folder every second until all report the same one (a stream registered late misses earlier ones).
   */
  const live = async (watches: Watch[]) => {
    for (let round = 0; round < 10; round++) {
      const name = `w${++n}`;
      await call(gus, "CreateFolder", { name });
      if (await eventually(async () => watches.every((w) => w.events.includes(name)), 1000)) return true;
    }
    return false;
  };
  /** Opens a stream once the server has room for it (it frees places as it notices streams end). */
  const reopen = async (client: typeof viaGateway): Promise<Watch> => {
    for (let i = 0; i < 100; i++) {
      const w = open(client);
      if (await Promise.race([w.ended.then(() => false), live([w])])) return w;
      await Bun.sleep(100);
    }
    throw new Error("no room for a watch");
  };
  const refusal = async (client: typeof viaGateway) => {
    const err = await open(client).ended;
    return [err?.code, err?.rawMessage];
  };
  const exhausted = [Code.ResourceExhausted, "too many open watches: close other tabs or clients (limit 3)"];

  const first = [open(viaGateway), open(viaGrpc), open(viaGateway)];
  expect(await live(first)).toBe(true);
  expect(await refusal(viaGateway)).toEqual(exhausted);
  expect(await refusal(viaGrpc)).toEqual(exhausted);
  // Two clients go away (one of each): two new streams fit, a third does not.
  for (const w of first.slice(0, 2)) w.stop.abort();
  const second = [first[2] as Watch, await reopen(viaGrpc), await reopen(viaGateway)];
  expect(await live(second)).toBe(true);
  expect(await refusal(viaGateway)).toEqual(exhausted);
  // Every stream aborted: nothing stays counted, the whole limit is there again, and no more.
  for (const w of second) w.stop.abort();
  const third = [await reopen(viaGateway), await reopen(viaGrpc), await reopen(viaGateway)];
  expect(await refusal(viaGrpc)).toEqual(exhausted);
  for (const w of third) w.stop.abort();
  await Promise.all([...first, ...second, ...third].map((w) => w.ended));
}, 120_000);

describe(`legacy /file/query and /file/update (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields);
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${stack.gatewayUrl}${path}`, { method: "POST", body: form(fields) });

  test("query: a bare array in the original shape, newest first, trash excluded, limit honoured", async () => {
    const carol = await signedInUser(stack.gatewayUrl);
    const one = randomBytes(1000);
    await upload(carol, "one.txt", one);
    await Bun.sleep(5);
    const gone = await upload(carol, "gone.txt", randomBytes(10));
    await Bun.sleep(5);
    await upload(carol, "two.txt", randomBytes(2000));
    await call(carol, "DeleteFile", { id: gone });
    const query = async () => {
      const res = await post("/file/query", {
        username: carol.username,
        token: carol.accessToken,
        limit: "15",
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>[];
    };
    // These are modern uploads: FileHash is "" until the SHA-1 backfill has run, shortly after.
    expect(await eventually(async () => (await query()).every((r) => r.FileHash !== ""))).toBe(true);
    const rows = await query();
    expect(rows.map((r) => r.FileName)).toEqual(["two.txt", "one.txt"]);
    expect(Object.keys(rows[1] ?? {}).sort()).toEqual([
      "FileHash",
      "FileName",
      "FileSize",
      "LastUpdated",
      "UploadAt",
      "UserName",
    ]);
    expect(rows[1]).toMatchObject({ FileHash: sha1(one), FileSize: 1000 });
    expect(rows[1]?.UploadAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(rows[1]?.LastUpdated).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const limited = await post("/file/query", {
      username: carol.username,
      token: carol.accessToken,
      limit: "1",
    });
    expect(((await limited.json()) as unknown[]).length).toBe(1);
    const noLimit = await post("/file/query", { username: carol.username, token: carol.accessToken });
    expect(await noLimit.json()).toEqual([]);
    const bad = await post("/file/query", {
      username: carol.username,
      token: `${carol.accessToken}x`,
      limit: "5",
    });
    expect(((await bad.json()) as { code: number }).code).toBe(10005);
    // Someone else's token for this username is no good either.
    const other = await post("/file/query", { username: carol.username, token: bob.accessToken, limit: "5" });
    expect(((await other.json()) as { code: number }).code).toBe(10005);
  });

  test("update: op=0 renames the caller's file by hash; other ops and bad names are 403 with an empty body", async () => {
    const dave = await signedInUser(stack.gatewayUrl);
    const data = randomBytes(3000);
    const id = await upload(dave, "before.txt", data);
    const base = { username: dave.username, token: dave.accessToken, filehash: sha1(data) };
    // Found by its SHA-1 once the backfill has computed it (404 until then).
    let ok: Response | undefined;
    const rename = async () => (ok = await post("/file/update", { ...base, op: "0", filename: "after.txt" }));
    expect(await eventually(async () => (await rename()).status !== 404)).toBe(true);
    expect([ok?.status, await ok?.json()]).toEqual([200, []]);
    expect(((await call(dave, "GetFile", { id })).json.file as File).name).toBe("after.txt");

    for (const fields of [
      { op: "1", filename: "x.txt" },
      { op: "0", filename: "" },
      { op: "0", filename: "a/b" },
      { op: "0", filename: "x".repeat(300) },
    ]) {
      const r = await post("/file/update", { ...base, ...fields });
      expect([fields.op, fields.filename.slice(0, 5), r.status, await r.text()]).toEqual([
        fields.op,
        fields.filename.slice(0, 5),
        403,
        "",
      ]);
    }
    await upload(dave, "taken.txt", "other");
    const clash = await post("/file/update", { ...base, op: "0", filename: "taken.txt" });
    expect(((await clash.json()) as { code: number }).code).toBe(10006);

    // Another user cannot rename Dave's file by its hash.
    const theirs = await post("/file/update", {
      username: bob.username,
      token: bob.accessToken,
      filehash: sha1(data),
      op: "0",
      filename: "bob.txt",
    });
    expect(theirs.status).toBe(404);
    expect(((await call(dave, "GetFile", { id })).json.file as File).name).toBe("after.txt");
  });
});
