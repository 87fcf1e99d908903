// ShareService over in-memory transports with the real interceptors and call policy, meta on SQLite, and
// the real download data plane (Bun.serve) for minted URLs: unknown ids and wrong passwords answer alike,
// password attempts are limited per link and per client, browsing stays inside the shared folder, exactly
// N of 20 racing mints succeed and ranges are free, revocation and expiry cut a download at its next
// range, edits end old tokens, save-to-drive copies by reference on the saver's quota, preview headers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import type { Identity } from "../../../core/access-token.ts";
import { DROP_PATH, SHARE_TOKEN_HEADER } from "../../../core/data-paths.ts";
import { Reason, reasonOf } from "../../../core/reasons.ts";
import { ItemKind, ShareMode, ShareService } from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import { type DownloadFixture, openDownloadFixture } from "../../download/testing.ts";
import { testBlobStores } from "../../lib/blobstore/testing.ts";
import { clientIpKey } from "../../lib/context.ts";
import { authInterceptor, errorInterceptor } from "../../lib/interceptors.ts";
import { createLogger } from "../../lib/log.ts";
import { createMetrics } from "../../lib/metrics/registry.ts";
import { shareMetrics } from "../../lib/metrics/shares.ts";
import { codeOf } from "../../lib/testing.ts";
import { dropFile } from "../../upload/drop.ts";
import type { ShareDeps } from "./deps.ts";
import { shareRoutes } from "./service.ts";
import { shareTestDeps } from "./testing.ts";

const [local] = testBlobStores();
// argon2id on a loaded 2-core machine: a test that checks a dozen passwords may take several seconds.
setDefaultTimeout(30_000);
const bytes = (text: string) => new TextEncoder().encode(text);

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage, reason: reasonOf(e) };
  }
  throw new Error("expected a failure");
}

describe("ShareService", () => {
  let d: DownloadFixture;
  let alice: { who: Identity; token: string };
  let bob: { who: Identity; token: string };
  let deps: ShareDeps;
  let transport: ReturnType<typeof createRouterTransport>;

  beforeAll(async () => {
    if (!local) throw new Error("no local blob store");
    d = await openDownloadFixture(local);
    alice = await d.user("alice");
    bob = await d.user("bob");
    deps = shareTestDeps(d);
    const verifier = {
      verify: async (token: string) => ({ userId: token, username: token, exp: 0 }),
    };
    // The client address, as the host sets it from the connection.
    const address: Interceptor = (next) => (req) => {
      req.contextValues.set(clientIpKey, req.header.get("x-test-ip") ?? "192.0.2.1");
      return next(req);
    };
    transport = createRouterTransport((r) => shareRoutes(r, deps), {
      router: {
        interceptors: [
          errorInterceptor(createLogger("test")),
          address,
          authInterceptor({ verifier, internalSecret: "i".repeat(32) }),
        ],
      },
    });
  });
  afterAll(() => d.close());

  const client = () => createClient(ShareService, transport);
  const owner = (who: Identity) => ({ headers: { authorization: `Bearer ${who.userId}` } });
  const from = (ip: string) => ({ headers: { "x-test-ip": ip } });
  const folder = async (who: Identity, parentId: string, name: string) =>
    (await deps.meta.createFolder({ ownerId: who.userId, parentId, name })).folder?.id ?? "";
  const fileIn = async (who: Identity, parentId: string, name: string, text: string) => {
    const f = await d.put(who, name, bytes(text));
    if (parentId) await deps.meta.moveFile({ ownerId: who.userId, id: f.id, newParentId: parentId });
    return f.id;
  };

  test("owner calls need a login; public calls do not", async () => {
    expect(await codeOf(client().listShares({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(client().createShare({ targetId: "x" }))).toBe(Code.Unauthenticated);
    expect((await failure(client().openShare({ id: "A".repeat(24) }))).code).toBe(Code.NotFound);
  });

  test("create checks its options; a password link opens with its password only, like an unknown id otherwise", async () => {
    const c = client();
    const f = await fileIn(alice.who, "", "secret.txt", "top secret");
    expect(await codeOf(c.createShare({ targetId: f }, owner(bob.who)))).toBe(Code.NotFound);
    expect(await codeOf(c.createShare({ targetId: f, maxDownloads: -1n }, owner(alice.who)))).toBe(
      Code.InvalidArgument,
    );
    const past = timestampFromMs(d.clock.now - 1);
    expect(await codeOf(c.createShare({ targetId: f, expiresAt: past }, owner(alice.who)))).toBe(
      Code.InvalidArgument,
    );
    const tooLong = timestampFromMs(d.clock.now + 31 * 86_400_000);
    expect(await codeOf(c.createShare({ targetId: f, expiresAt: tooLong }, owner(alice.who)))).toBe(
      Code.InvalidArgument,
    );
    // Drop links take uploads into a folder.
    expect(await codeOf(c.createShare({ targetId: f, mode: ShareMode.DROP }, owner(alice.who)))).toBe(
      Code.InvalidArgument,
    );
    const { share } = await c.createShare({ targetId: f, password: "hunter2" }, owner(alice.who));
    expect(share?.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect([share?.hasPassword, share?.targetName, share?.path]).toEqual([
      true,
      "secret.txt",
      `/s/${share?.id}`,
    ]);
    // SHARE_MAX_TTL_DAYS gives links without an expiry one.
    expect(Number(share?.expiresAt?.seconds)).toBe(Math.floor((d.clock.now + 30 * 86_400_000) / 1000));
    const id = share?.id ?? "";
    const wrong = await failure(c.openShare({ id, password: "nope" }, from("198.51.100.1")));
    const none = await failure(c.openShare({ id }, from("198.51.100.1")));
    const unknown = await failure(
      c.openShare({ id: `${id.slice(0, -1)}x`, password: "nope" }, from("198.51.100.1")),
    );
    expect(wrong).toEqual({ code: Code.NotFound, message: unknown.message, reason: Reason.SHARE_NOT_FOUND });
    expect(none).toEqual(wrong);
    expect(unknown).toEqual(wrong);
    const opened = await c.openShare({ id, password: "hunter2" }, from("198.51.100.1"));
    expect(opened.shareToken).not.toBe("");
    expect([
      opened.ownerDisplayName,
      opened.item?.name,
      opened.item?.kind,
      opened.item?.size,
      opened.hasPassword,
    ]).toEqual(["alice", "secret.txt", ItemKind.FILE, 10n, true]);
    const listed = await c.listShares({ targetId: f }, owner(alice.who));
    expect(listed.shares.map((s) => [s.id, s.viewCount])).toEqual([[id, 1n]]);
  });

  test("password attempts are limited per link and per client address", async () => {
    const c = client();
    const f = await fileIn(alice.who, "", "guarded.txt", "x");
    const id = (await c.createShare({ targetId: f, password: "right" }, owner(alice.who))).share?.id ?? "";
    // Per link: 5 failures from 5 addresses, then even the right password from a sixth waits.
    for (let i = 0; i < 5; i++) await failure(c.openShare({ id, password: "wrong" }, from(`203.0.113.${i}`)));
    const limited = await failure(c.openShare({ id, password: "right" }, from("203.0.113.99")));
    expect([limited.code, limited.reason]).toEqual([Code.ResourceExhausted, Reason.TOO_MANY_ATTEMPTS]);
    // Per client: 8 failures at unknown ids from one address, then that address waits for any link.
    const other = (await c.createShare({ targetId: f }, owner(alice.who))).share?.id ?? "";
    for (let i = 0; i < 8; i++)
      await failure(c.openShare({ id: `${"Z".repeat(23)}${i}` }, from("192.0.2.77")));
    expect((await failure(c.openShare({ id: other }, from("192.0.2.77")))).reason).toBe(
      Reason.TOO_MANY_ATTEMPTS,
    );
    expect((await c.openShare({ id: other }, from("192.0.2.78"))).item?.name).toBe("guarded.txt");
    // The window ends.
    d.clock.now += 601_000;
    expect((await c.openShare({ id, password: "right" }, from("203.0.113.99"))).item?.name).toBe(
      "guarded.txt",
    );
  });

  test("browsing: paged, sorted, into subfolders; ids outside the share answer like unknown ids", async () => {
    const c = client();
    const top = await folder(alice.who, "", "trip");
    const sub = await folder(alice.who, top, "day1");
    await fileIn(alice.who, top, "b.txt", "bb");
    await fileIn(alice.who, top, "a.txt", "aaaa");
    const inner = await fileIn(alice.who, sub, "photo.jpg", "jpeg");
    const outside = await fileIn(alice.who, "", "private.txt", "mine");
    const id = (await c.createShare({ targetId: top }, owner(alice.who))).share?.id ?? "";
    const { shareToken } = await c.openShare({ id });
    const page1 = await c.listShareItems({ shareToken, pageSize: 2 });
    expect(page1.items.map((i) => i.name)).toEqual(["day1", "a.txt"]);
    const page2 = await c.listShareItems({ shareToken, pageSize: 2, pageToken: page1.nextPageToken });
    expect(page2.items.map((i) => i.name)).toEqual(["b.txt"]);
    const bySize = await c.listShareItems({ shareToken, sort: 2, descending: true });
    expect(bySize.items.filter((i) => i.kind === ItemKind.FILE).map((i) => i.name)).toEqual([
      "a.txt",
      "b.txt",
    ]);
    const down = await c.listShareItems({ shareToken, folderId: sub });
    expect([down.items.map((i) => i.id), down.path.map((p) => p.name)]).toEqual([[inner], ["trip", "day1"]]);
    const unknown = await failure(c.listShareItems({ shareToken, folderId: "no-such-folder" }));
    expect(unknown.code).toBe(Code.NotFound);
    expect(await failure(c.listShareItems({ shareToken, folderId: outside }))).toEqual(unknown);
    expect(await failure(c.createShareDownloadUrl({ shareToken, fileId: outside }))).toEqual(unknown);
    expect(await failure(c.saveShareToDrive({ shareToken, itemId: outside }, owner(bob.who)))).toEqual(
      unknown,
    );
    // A token of another link or a forged one.
    const forged = await failure(c.listShareItems({ shareToken: `${shareToken}x` }));
    expect([forged.code, forged.reason]).toEqual([Code.Unauthenticated, Reason.SHARE_TOKEN_INVALID]);
  });

  test("exactly N of 20 racing mints succeed; the URL's ranges are free and each re-checks the link", async () => {
    const c = client();
    const text = "0123456789".repeat(100);
    const f = await fileIn(alice.who, "", "movie.bin", text);
    const id = (await c.createShare({ targetId: f, maxDownloads: 4n }, owner(alice.who))).share?.id ?? "";
    const { shareToken } = await c.openShare({ id });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        c.createShareDownloadUrl({ shareToken }).then(
          (r) => r,
          (e) => ConnectError.from(e),
        ),
      ),
    );
    const urls = results.flatMap((r) => (r instanceof ConnectError ? [] : [r.url]));
    const refused = results.filter((r) => r instanceof ConnectError);
    expect(urls.length).toBe(4);
    expect(refused.map((e) => [e.code, reasonOf(e)])).toEqual(
      Array(16).fill([Code.ResourceExhausted, Reason.SHARE_LIMIT_REACHED]),
    );
    const url = urls[0] ?? "";
    expect(url).toContain(`share=${id}`);
    for (let i = 0; i < 5; i++) {
      const part = await d.get(url, { range: `bytes=${i * 100}-${i * 100 + 99}` });
      expect(part.status).toBe(206);
      expect(await part.text()).toBe(text.slice(i * 100, i * 100 + 100));
    }
    expect((await d.get(url, { range: "bytes=0-" })).status).toBe(206);
    const after = (await c.listShares({ targetId: f }, owner(alice.who))).shares[0];
    expect(after?.downloadCount).toBe(4n);
    // The share id is signed: removing or changing it breaks the URL.
    expect((await d.get(url.replace(`&share=${id}`, ""))).status).toBe(403);
    // Revoked mid-download: the next range stops, and the token with it.
    await c.revokeShare({ id }, owner(alice.who));
    const cut = await d.get(url, { range: "bytes=500-599" });
    expect(cut.status).toBe(403);
    expect(await cut.text()).toContain("SHARE_NOT_FOUND");
    expect((await failure(c.listShareItems({ shareToken }))).reason).toBe(Reason.SHARE_NOT_FOUND);
  });

  test("a minted URL stops when its file leaves the shared folder or goes to the trash", async () => {
    const c = client();
    const top = await folder(alice.who, "", "moving");
    const f = await fileIn(alice.who, top, "leaving.txt", "bye bye");
    const g = await fileIn(alice.who, top, "trashed.txt", "gone");
    const id = (await c.createShare({ targetId: top }, owner(alice.who))).share?.id ?? "";
    const { shareToken } = await c.openShare({ id });
    const leaving = (await c.createShareDownloadUrl({ shareToken, fileId: f })).url;
    const trashed = (await c.createShareDownloadUrl({ shareToken, fileId: g })).url;
    expect((await d.get(leaving, { range: "bytes=0-2" })).status).toBe(206);
    await deps.meta.moveFile({ ownerId: alice.who.userId, id: f, newParentId: "" });
    expect((await d.get(leaving, { range: "bytes=3-5" })).status).toBe(403);
    await deps.meta.trashFile({ ownerId: alice.who.userId, id: g });
    expect((await d.get(trashed)).status).toBe(403);
    // The owner's own access is untouched.
    expect((await d.get(`/download/v1/files/${f}`, { authorization: `Bearer ${alice.token}` })).status).toBe(
      200,
    );
  });

  test("expiry at the boundary stops tokens and minted URLs; edits end earlier tokens", async () => {
    const c = client();
    const f = await fileIn(alice.who, "", "soon.txt", "soon gone");
    const expiry = d.clock.now + 120_000;
    const id =
      (await c.createShare({ targetId: f, expiresAt: timestampFromMs(expiry) }, owner(alice.who))).share
        ?.id ?? "";
    const opened = await c.openShare({ id });
    // A token never outlives its link.
    expect(Number(opened.tokenExpiresAt?.seconds)).toBe(Math.floor(expiry / 1000));
    const { url } = await c.createShareDownloadUrl({ shareToken: opened.shareToken });
    d.clock.now = expiry - 1;
    expect((await d.get(url, { range: "bytes=0-3" })).status).toBe(206);
    d.clock.now = expiry;
    expect((await d.get(url, { range: "bytes=4-7" })).status).toBe(403);
    expect((await failure(c.openShare({ id }))).reason).toBe(Reason.SHARE_NOT_FOUND);
    // Edits: a new password (and expiry) ends the tokens issued before.
    const g = await fileIn(alice.who, "", "edited.txt", "e");
    const gid = (await c.createShare({ targetId: g }, owner(alice.who))).share?.id ?? "";
    const before = (await c.openShare({ id: gid })).shareToken;
    const edited = await c.updateShare({ id: gid, password: "new", maxDownloads: 2n }, owner(alice.who));
    expect([edited.share?.hasPassword, edited.share?.maxDownloads]).toEqual([true, 2n]);
    expect((await failure(c.listShareItems({ shareToken: before }))).reason).toBe(Reason.SHARE_TOKEN_INVALID);
    expect((await failure(c.openShare({ id: gid }))).reason).toBe(Reason.SHARE_NOT_FOUND);
    expect((await c.openShare({ id: gid, password: "new" })).downloadsLeft).toBe(2n);
    await c.updateShare({ id: gid, clearPassword: true }, owner(alice.who));
    expect((await c.openShare({ id: gid })).hasPassword).toBe(false);
    expect(await codeOf(c.updateShare({ id: gid, clearExpiry: true }, owner(alice.who)))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(c.updateShare({ id: gid, maxDownloads: 1n }, owner(bob.who)))).toBe(Code.NotFound);
  });

  test("save to drive: a copy by reference in the saver's tree, on the saver's quota, counted as a download (not when refused)", async () => {
    const c = client();
    const top = await folder(alice.who, "", "album");
    await fileIn(alice.who, top, "one.jpg", "1111111111");
    const id = (await c.createShare({ targetId: top, maxDownloads: 2n }, owner(alice.who))).share?.id ?? "";
    const { shareToken } = await c.openShare({ id });
    expect(await codeOf(c.saveShareToDrive({ shareToken }))).toBe(Code.Unauthenticated);
    const saved = await c.saveShareToDrive({ shareToken }, owner(bob.who));
    expect(saved.name).toBe("album");
    const mine = await deps.meta.listFiles({ ownerId: bob.who.userId, parentId: saved.fileId });
    expect(mine.files.map((x) => [x.name, x.ownerId])).toEqual([["one.jpg", bob.who.userId]]);
    const usage = (await deps.meta.getUsage({ ownerId: bob.who.userId })).usage;
    await deps.meta.setQuota({ userId: bob.who.userId, quotaBytes: (usage?.usedBytes ?? 0n) + 5n });
    const full = await failure(c.saveShareToDrive({ shareToken }, owner(bob.who)));
    expect([full.code, full.reason]).toEqual([Code.ResourceExhausted, Reason.QUOTA_EXCEEDED]);
    // The refused copy used no download up: the second of two is still there.
    await deps.meta.setQuota({ userId: bob.who.userId, quotaBytes: 0n });
    expect((await c.saveShareToDrive({ shareToken }, owner(bob.who))).name).toMatch(/^album \(\d\)$/);
    expect((await failure(c.saveShareToDrive({ shareToken }, owner(bob.who)))).reason).toBe(
      Reason.SHARE_LIMIT_REACHED,
    );
  });

  test("shared HTML and SVG never run on the origin: the owner previews' headers (nosniff, sandbox CSP)", async () => {
    const c = client();
    const inlineTypes: Record<string, string> = { "page.html": "text/plain", "image.svg": "image/svg+xml" };
    for (const [name, type] of Object.entries(inlineTypes)) {
      const f = await fileIn(alice.who, "", name, "<script>alert(1)</script>");
      const id = (await c.createShare({ targetId: f }, owner(alice.who))).share?.id ?? "";
      const { shareToken } = await c.openShare({ id });
      for (const inline of [false, true]) {
        const { url } = await c.createShareDownloadUrl({ shareToken, inline });
        const res = await d.get(url);
        expect(res.status).toBe(200);
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        expect(res.headers.get("content-security-policy")).toContain("sandbox");
        const disposition = res.headers.get("content-disposition") ?? "";
        // A download is an attachment; a preview shows HTML as its source, SVG only ever as an attachment
        // (an <img> still shows it; opening the URL only saves it).
        if (!inline || name.endsWith(".svg")) expect(disposition).toStartWith("attachment");
        expect(res.headers.get("content-type")).toStartWith(type);
        expect(res.headers.get("content-type")).not.toContain("text/html");
      }
    }
  });

  test("drop links: uploads land in the owner's folder under free names, capped, on the owner's quota; nothing shows", async () => {
    const c = client();
    const inbox = await folder(alice.who, "", "inbox");
    await fileIn(alice.who, inbox, "report.txt", "the owner's own");
    const { share } = await c.createShare(
      { targetId: inbox, mode: ShareMode.DROP, maxFileBytes: 20n, password: "drop" },
      owner(alice.who),
    );
    const id = share?.id ?? "";
    const opened = await c.openShare({ id, password: "drop" });
    expect([opened.mode, opened.maxFileBytes]).toEqual([ShareMode.DROP, 20n]);
    const metrics = createMetrics("upload");
    const drops = {
      ...d.upload.deps,
      shareTokenKey: deps.tokenKey,
      now: () => d.clock.now,
      shareMetrics: shareMetrics(metrics),
    };
    const put = (body: string, token = opened.shareToken, shareId = id, name = "report.txt") => {
      const url = new URL(`http://x${DROP_PATH}${shareId}?name=${encodeURIComponent(name)}`);
      const req = new Request(url, {
        method: "PUT",
        body,
        headers: { [SHARE_TOKEN_HEADER]: token, "content-length": String(body.length) },
      });
      return dropFile(drops, req, url, shareId).catch((e) => ConnectError.from(e));
    };
    const usage = async () =>
      (await deps.meta.getUsage({ ownerId: alice.who.userId })).usage?.usedBytes ?? 0n;
    const before = await usage();
    const first = await put("from a visitor");
    expect(first instanceof Response && first.status).toBe(201);
    const body = first instanceof Response ? await first.json() : {};
    // The answer names the upload only (its new name and size), nothing of the folder.
    expect(body).toEqual({ file: { name: "report (2).txt", size: "14" } });
    expect(await usage()).toBe(before + 14n);
    const names = (await deps.meta.listFiles({ ownerId: alice.who.userId, parentId: inbox })).files.map(
      (f) => f.name,
    );
    expect(names.sort()).toEqual(["report (2).txt", "report.txt"]);
    const big = await put("x".repeat(21));
    expect(big instanceof Response && big.status).toBe(413);
    // Nothing of the folder is shown, nothing can be downloaded or saved.
    expect(await codeOf(c.listShareItems({ shareToken: opened.shareToken }))).toBe(Code.PermissionDenied);
    expect(await codeOf(c.createShareDownloadUrl({ shareToken: opened.shareToken, fileId: "" }))).toBe(
      Code.PermissionDenied,
    );
    // A view link's token, a forged one, or a revoked link take no upload.
    const f = await fileIn(alice.who, "", "viewable.txt", "v");
    const viewId = (await c.createShare({ targetId: f }, owner(alice.who))).share?.id ?? "";
    const viewToken = (await c.openShare({ id: viewId })).shareToken;
    const viewPut = await put("a", viewToken, viewId);
    expect(viewPut instanceof ConnectError && viewPut.code).toBe(Code.InvalidArgument);
    expect(reasonOf(await put("a", `${opened.shareToken}x`))).toBe(Reason.SHARE_TOKEN_INVALID);
    expect(reasonOf(await put("a", opened.shareToken, viewId))).toBe(Reason.SHARE_TOKEN_INVALID);
    await c.revokeShare({ id }, owner(alice.who));
    expect(reasonOf(await put("a"))).toBe(Reason.SHARE_NOT_FOUND);
    // Counted by result: one stored (with its bytes), one too large, four refused.
    const text = await metrics.text();
    expect(text).toContain('filestore_share_drops_total{service="upload",result="ok"} 1');
    expect(text).toContain('filestore_share_drops_total{service="upload",result="too_large"} 1');
    expect(text).toContain('filestore_share_drops_total{service="upload",result="refused"} 4');
    expect(text).toContain('filestore_share_drop_bytes_total{service="upload"} 14');
  });
});
