// Copy, batch, search and trash through the gateway, in either mode (Connect JSON, as the web UI and
// `buf curl` send it): the new FileService calls pass through and answer with their per-item codes; copy
// with REPLACE makes a version, and a watcher sees the entries EmptyTrash takes leave.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { WatchFilesResponse_Change as Change, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { connectCall, FILES, type Stack, signedInUser, startStack } from "./harness.ts";

type User = Awaited<ReturnType<typeof signedInUser>>;
type File = { id: string; name: string; parentId?: string; sha256?: string; deletedAt?: string };

let stack: Stack;
let alice: User;
let bob: User;
beforeAll(async () => {
  stack = await startStack({ GC_INTERVAL_SECONDS: "0", TRASH_RETENTION_DAYS: "30" });
  alice = await signedInUser(stack.gatewayUrl);
  bob = await signedInUser(stack.gatewayUrl);
}, 60_000);
afterAll(() => stack?.stop());

const call = (who: User, method: string, body: unknown) =>
  connectCall(stack.gatewayUrl, `${FILES}/${method}`, body, { authorization: `Bearer ${who.accessToken}` });

async function upload(who: User, name: string, data: string, parentId = "") {
  const q = new URLSearchParams({ name, parent_id: parentId });
  const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?${q}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${who.accessToken}` },
    body: data,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: File }).file;
}

describe(`copy, batch, search, trash through the gateway (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("search by name: accents and case ignored, below a folder, by category", async () => {
    const trip = (await call(alice, "CreateFolder", { name: "Trip" })).json.folder as File;
    await upload(alice, "Café.JPG", "jpeg", trip.id);
    await upload(alice, "cafe-notes.txt", "notes");
    const all = await call(alice, "SearchFiles", { query: "CAFE" });
    expect(all.status).toBe(200);
    expect((all.json.files as File[]).map((f) => f.name)).toEqual(["Café.JPG", "cafe-notes.txt"]);
    const images = await call(alice, "SearchFiles", { query: "café", category: "FILE_CATEGORY_IMAGE" });
    expect((images.json.files as File[]).map((f) => f.name)).toEqual(["Café.JPG"]);
    const below = await call(alice, "SearchFiles", { query: "cafe", folderId: trip.id });
    expect((below.json.files as File[]).map((f) => f.name)).toEqual(["Café.JPG"]);
    expect((await call(bob, "SearchFiles", { query: "cafe" })).json.files ?? []).toEqual([]);
    const empty = await call(alice, "SearchFiles", { query: " " });
    expect([empty.status, empty.json.code]).toEqual([400, "invalid_argument"]);
  });

  test("copy by content; a batch answers per item; trash shows origins and empties", async () => {
    const box = (await call(alice, "CreateFolder", { name: "box" })).json.folder as File;
    const a = await upload(alice, "a.txt", "aaa", box.id);
    const b = await upload(alice, "b.txt", "bbb", box.id);
    const copy = await call(alice, "CopyFile", { id: box.id, newParentId: "", name: "box copy" });
    expect(copy.status).toBe(200);
    const conflict = await call(alice, "CopyFile", { id: a.id, newParentId: box.id });
    expect([conflict.status, conflict.json.code]).toEqual([409, "already_exists"]);
    const renamed = await call(alice, "CopyFile", {
      id: a.id,
      newParentId: box.id,
      onConflict: "CONFLICT_POLICY_RENAME",
    });
    expect((renamed.json.file as File).name).toBe("a (2).txt");
    expect((renamed.json.file as File).sha256).toBe(a.sha256);
    const theirs = await upload(bob, "theirs.txt", "t");
    const batch = await call(alice, "BatchFiles", {
      operation: "BATCH_OPERATION_DELETE",
      ids: [a.id, theirs.id, b.id],
    });
    expect(batch.status).toBe(200);
    const results = batch.json.results as { id: string; ok?: boolean; code?: string; file?: File }[];
    expect(results.map((r) => [r.id, r.ok ?? false, r.code ?? ""])).toEqual([
      [a.id, true, ""],
      [theirs.id, false, "not_found"],
      [b.id, true, ""],
    ]);
    const tooMany = await call(alice, "BatchFiles", {
      operation: "BATCH_OPERATION_PURGE",
      ids: Array(1001).fill(a.id),
    });
    expect([tooMany.status, tooMany.json.code]).toEqual([400, "invalid_argument"]);
    const trash = await call(alice, "ListTrash", {});
    const entries = trash.json.entries as { file: File; originalPath: string }[];
    expect(entries.map((e) => [e.file.name, e.originalPath]).sort()).toEqual([
      ["a.txt", "/box"],
      ["b.txt", "/box"],
    ]);
    expect((await call(alice, "EmptyTrash", {})).json.count).toBe(2);
    expect((await call(alice, "ListTrash", {})).json.files ?? []).toEqual([]);
    // The copy still holds the content the purged originals named.
    const copied = (copy.json.file as File).id;
    const listed = await call(alice, "ListFiles", { parentId: copied });
    expect((listed.json.files as File[]).map((f) => f.name)).toEqual(["a.txt", "b.txt"]);
  });

  test("copy with REPLACE: the file there keeps its id and gains a version; a watcher sees EmptyTrash's entries go", async () => {
    const dora = await signedInUser(stack.gatewayUrl);
    const client = createClient(
      FileService,
      createConnectTransport({ baseUrl: stack.gatewayUrl, httpVersion: "1.1" }),
    );
    const stop = new AbortController();
    const seen: [Change, string][] = [];
    const reading = (async () => {
      try {
        const headers = { authorization: `Bearer ${dora.accessToken}` };
        for await (const e of client.watchFiles({}, { headers, signal: stop.signal }))
          seen.push([e.change, e.file?.id ?? ""]);
      } catch {
        // aborted below
      }
    })();
    await Bun.sleep(300);
    const src = await upload(dora, "r.txt", "new content");
    const dir = (await call(dora, "CreateFolder", { name: "rdir" })).json.folder as File;
    const there = await upload(dora, "r.txt", "old content", dir.id);
    const replaced = await call(dora, "CopyFile", {
      id: src.id,
      newParentId: dir.id,
      onConflict: "CONFLICT_POLICY_REPLACE",
    });
    expect(replaced.status).toBe(200);
    expect([(replaced.json.file as File).id, (replaced.json.file as File).sha256]).toEqual([
      there.id,
      src.sha256,
    ]);
    const versions = await call(dora, "ListVersions", { fileId: there.id });
    expect((versions.json.versions as { sha256: string }[]).map((v) => v.sha256)).toEqual([
      there.sha256 as string,
    ]);
    const folder = await call(dora, "CopyFile", {
      id: dir.id,
      newParentId: "",
      onConflict: "CONFLICT_POLICY_REPLACE",
    });
    expect([folder.status, folder.json.code]).toEqual([400, "invalid_argument"]);
    await call(dora, "DeleteFile", { id: src.id });
    expect((await call(dora, "EmptyTrash", {})).json.count).toBe(1);
    const deleted = () => seen.filter(([c, id]) => c === Change.DELETED && id === src.id).length;
    const until = Date.now() + 10_000;
    while (deleted() < 2 && Date.now() < until) await Bun.sleep(100);
    stop.abort();
    await reading;
    // Deleted (to the trash), then deleted again as EmptyTrash purged it; the replaced file was updated.
    expect(deleted()).toBe(2);
    expect(seen).toContainEqual([Change.UPDATED, there.id]);
  });
});
