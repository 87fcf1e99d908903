// Share links end to end through the gateway (both modes: FILESTORE_TEST_MODE): create, open, a wrong
// password answering like an unknown id, the password rate limit (Redis in services mode), browsing and
// ids outside the share, exactly N of 20 parallel mints, free ranges, revocation cutting a download at its
// next range on every download replica, and save-to-drive on the saver's quota with exact refcounts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectCall, FILES, ROOT, run, type Stack, signedInUser, startStack } from "./harness.ts";

const SHARES = "filestore.share.v1.ShareService";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ SHARE_OPEN_LIMIT_PER_LINK: "4", SHARE_OPEN_LIMIT_PER_CLIENT: "1000" });
}, 90_000);
afterAll(() => stack?.stop(), 60_000);

type User = Awaited<ReturnType<typeof signedInUser>>;
const bearer = (u: User) => ({ authorization: `Bearer ${u.accessToken}` });
const call = (method: string, body: unknown, u?: User) =>
  connectCall(stack.gatewayUrl, `${SHARES}/${method}`, body, u ? bearer(u) : {});

async function upload(u: User, name: string, body: string, parentId = ""): Promise<string> {
  const res = await fetch(
    `${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}&parent_id=${parentId}`,
    { method: "PUT", headers: bearer(u), body },
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}

async function folder(u: User, name: string, parentId = ""): Promise<string> {
  const r = await connectCall(stack.gatewayUrl, `${FILES}/CreateFolder`, { name, parentId }, bearer(u));
  return (r.json.folder as { id: string }).id;
}

/** Every download replica straight at its port (services mode), or the gateway. */
const downloadBases = () =>
  stack.services
    ? (stack.services.env.DOWNLOAD_PORTS ?? "").split(",").map((p) => `http://127.0.0.1:${p}`)
    : [stack.gatewayUrl];

describe("share links", () => {
  let alice: User;
  let bob: User;
  beforeAll(async () => {
    alice = await signedInUser(stack.gatewayUrl);
    bob = await signedInUser(stack.gatewayUrl);
  }, 60_000);

  test("open: the password, and a wrong one answering like an unknown id; then the rate limit", async () => {
    const f = await upload(alice, "note.txt", "hello share");
    const created = await call("CreateShare", { targetId: f, password: "s3cret" }, alice);
    expect(created.status).toBe(200);
    const id = (created.json.share as { id: string }).id;
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await call("CreateShare", { targetId: f })).status).toBe(401);
    const wrong = await call("OpenShare", { id, password: "guess" });
    const unknown = await call("OpenShare", { id: `${id.slice(0, -2)}zz`, password: "guess" });
    expect(wrong.status).toBe(404);
    expect(wrong.json).toEqual(unknown.json);
    const ok = await call("OpenShare", { id, password: "s3cret" });
    expect(ok.status).toBe(200);
    expect([ok.json.ownerDisplayName, (ok.json.item as { name: string }).name]).toEqual([
      alice.username,
      "note.txt",
    ]);
    for (let i = 0; i < 3; i++) expect((await call("OpenShare", { id, password: "guess" })).status).toBe(404);
    const limited = await call("OpenShare", { id, password: "s3cret" });
    expect(limited.status).toBe(429);
    expect(JSON.stringify(limited.json)).toContain("TOO_MANY_ATTEMPTS");
  }, 60_000);

  test("browse inside the shared folder only; 20 parallel mints give exactly N URLs; ranges are free", async () => {
    const top = await folder(alice, "holiday");
    const sub = await folder(alice, "beach", top);
    const text = "abcdefghij".repeat(50);
    const f = await upload(alice, "clip.bin", text, sub);
    const outside = await upload(alice, "diary.txt", "private");
    const id = (
      (await call("CreateShare", { targetId: top, maxDownloads: "3" }, alice)).json.share as { id: string }
    ).id;
    const token = (await call("OpenShare", { id })).json.shareToken as string;
    const root = await call("ListShareItems", { shareToken: token });
    expect((root.json.items as { name: string }[]).map((i) => i.name)).toEqual(["beach"]);
    const down = await call("ListShareItems", { shareToken: token, folderId: sub });
    expect((down.json.items as { id: string }[]).map((i) => i.id)).toEqual([f]);
    const out = await call("ListShareItems", { shareToken: token, folderId: outside });
    const none = await call("ListShareItems", { shareToken: token, folderId: "no-such-id" });
    expect([out.status, out.json.code]).toEqual([404, none.json.code]);
    expect(out.json.message).toBe(none.json.message);
    const mints = await Promise.all(
      Array.from({ length: 20 }, () => call("CreateShareDownloadUrl", { shareToken: token, fileId: f })),
    );
    const urls = mints.filter((m) => m.status === 200).map((m) => m.json.url as string);
    expect(urls.length).toBe(3);
    expect(mints.filter((m) => m.status === 429).length).toBe(17);
    const url = urls[0] ?? "";
    for (const base of downloadBases()) {
      const part = await fetch(`${base}${url}`, { headers: { range: "bytes=0-9" } });
      expect([part.status, await part.text()]).toEqual([206, "abcdefghij"]);
    }
    const listed = await call("ListShares", { targetId: top }, alice);
    expect((listed.json.shares as { downloadCount: string }[])[0]?.downloadCount).toBe("3");
    // Revoked while a download is under way: its next range fails on every replica and through the gateway.
    expect((await call("RevokeShare", { id }, alice)).status).toBe(200);
    for (const base of [...downloadBases(), stack.gatewayUrl]) {
      const next = await fetch(`${base}${url}`, { headers: { range: "bytes=10-19" } });
      expect(next.status).toBe(403);
    }
    expect((await call("ListShareItems", { shareToken: token })).status).toBe(404);
  }, 120_000);

  test("save to drive: the saver's copy by reference, charged to the saver", async () => {
    const top = await folder(alice, "library");
    await upload(alice, "book.txt", "x".repeat(1000), top);
    const id = ((await call("CreateShare", { targetId: top }, alice)).json.share as { id: string }).id;
    const token = (await call("OpenShare", { id })).json.shareToken as string;
    expect((await call("SaveShareToDrive", { shareToken: token })).status).toBe(401);
    const usage = async () =>
      Number((await connectCall(stack.gatewayUrl, `${FILES}/GetUsage`, {}, bearer(bob))).json.usedBytes ?? 0);
    const before = await usage();
    const saved = await call("SaveShareToDrive", { shareToken: token }, bob);
    expect(saved.status).toBe(200);
    expect(saved.json.name).toBe("library");
    expect(await usage()).toBe(before + 1000);
    const listing = await connectCall(
      stack.gatewayUrl,
      `${FILES}/ListFiles`,
      { parentId: saved.json.fileId },
      bearer(bob),
    );
    expect((listing.json.files as { name: string }[]).map((x) => x.name)).toEqual(["book.txt"]);
  }, 60_000);

  test("drop link: an anonymous upload through the gateway lands in the owner's folder, suffixed", async () => {
    const inbox = await folder(alice, "dropbox");
    await upload(alice, "scan.pdf", "owner", inbox);
    const made = await call(
      "CreateShare",
      { targetId: inbox, mode: "SHARE_MODE_DROP", maxFileBytes: "100" },
      alice,
    );
    expect(made.status).toBe(200);
    const id = (made.json.share as { id: string }).id;
    const token = (await call("OpenShare", { id })).json.shareToken as string;
    const put = (body: string) =>
      fetch(`${stack.gatewayUrl}/upload/v1/drop/${id}?name=scan.pdf`, {
        method: "PUT",
        headers: { "x-share-token": token },
        body,
      });
    const res = await put("visitor's scan");
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ file: { name: "scan (2).pdf", size: "14" } });
    expect((await put("x".repeat(101))).status).toBe(413);
    const listing = await connectCall(
      stack.gatewayUrl,
      `${FILES}/ListFiles`,
      { parentId: inbox },
      bearer(alice),
    );
    expect((listing.json.files as { name: string }[]).map((f) => f.name).sort()).toEqual([
      "scan (2).pdf",
      "scan.pdf",
    ]);
    expect((await call("ListShareItems", { shareToken: token })).status).toBe(403);
  }, 60_000);

  test("CLI: share, shares ls, download <share URL> with its password, shares rm", async () => {
    const work = mkdtempSync(join(tmpdir(), "filestore-share-cli-"));
    const env = { ...process.env, XDG_CONFIG_HOME: join(work, "config"), FILESTORE_URL: stack.gatewayUrl };
    const filestore = (args: string[], input?: string) =>
      run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, { env, cwd: work });
    try {
      await upload(alice, "cli-doc.txt", "shared by the CLI");
      expect(
        (await filestore(["login", alice.username, "--password-stdin"], `${alice.password}\n`)).code,
      ).toBe(0);
      const made = await filestore(
        ["share", "/cli-doc.txt", "--password-stdin", "--max-downloads", "2", "--expires", "1d"],
        "pw1\n",
      );
      expect(made.code).toBe(0);
      const url = made.stdout.trim();
      expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{24}$/);
      const id = url.slice(url.lastIndexOf("/") + 1);
      const listed = await filestore(["shares"]);
      expect(listed.stdout).toContain(id);
      expect(listed.stdout).toMatch(new RegExp(`${id}\\s+0/2 dl`));
      const got = await filestore(["download", url, "out.txt", "--password-stdin"], "pw1\n");
      expect(got.code).toBe(0);
      expect(readFileSync(join(work, "out.txt"), "utf8")).toBe("shared by the CLI");
      const wrong = await filestore(["download", url, "bad.txt", "--password-stdin"], "nope\n");
      expect(wrong.code).toBe(4);
      expect((await filestore(["shares", "rm", id])).code).toBe(0);
      expect((await filestore(["download", url, "gone.txt", "--password-stdin"], "pw1\n")).code).toBe(4);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
