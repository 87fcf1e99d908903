// "Download all as ZIP" of a shared folder, on both databases: CreateShareDownloadUrl on a folder of a view
// link (the shared folder or one inside it) mints a ZIP URL counted as ONE download; the archive opens with
// zipfile and holds the folder's tree; the URL is bound to the share (signed in), so a revocation refuses
// its next request and a forged share id fails the signature; folders outside the share answer like
// unknown ids. The share metrics count the opens and the ZIP downloads.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import type { Identity } from "../../../core/access-token.ts";
import { Reason, reasonOf } from "../../../core/reasons.ts";
import { ShareService } from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import { type DownloadFixture, filenameOf, openDownloadFixture } from "../../download/testing.ts";
import { checkZip } from "../../download/zip-check.ts";
import { testBlobStores } from "../../lib/blobstore/testing.ts";
import { authInterceptor, errorInterceptor } from "../../lib/interceptors.ts";
import { createLogger } from "../../lib/log.ts";
import { createMetrics, type Metrics } from "../../lib/metrics/registry.ts";
import { shareMetrics } from "../../lib/metrics/shares.ts";
import { testDatabases } from "../../meta/db/testing.ts";
import type { ShareDeps } from "./deps.ts";
import { shareRoutes } from "./service.ts";
import { shareTestDeps } from "./testing.ts";

const [local] = testBlobStores();
setDefaultTimeout(60_000);
const text = (s: string) => new TextEncoder().encode(s);
const dir = mkdtempSync(join(tmpdir(), "share-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, reason: reasonOf(e), message: e.rawMessage };
  }
  throw new Error("expected a failure");
}

for (const database of testDatabases()) {
  describe(`share folder ZIPs on ${database.dialect}`, () => {
    let d: DownloadFixture;
    let alice: Identity;
    let deps: ShareDeps;
    let root = "";
    let sub = "";
    let outside = "";
    let metrics: Metrics;

    beforeAll(async () => {
      if (!local) throw new Error("no local blob store");
      d = await openDownloadFixture(local, { database, bunServeRanges: false });
      alice = (await d.user("zip-owner")).who;
      const meta = d.upload.deps.meta;
      const folder = async (parentId: string, name: string) =>
        (await meta.createFolder({ ownerId: alice.userId, parentId, name })).folder?.id ?? "";
      root = await folder("", "Shared ✓");
      sub = await folder(root, "inner");
      outside = await folder("", "private");
      await d.put(alice, "a.txt", text("alpha"), undefined, root);
      await d.put(alice, "b.txt", text("beta beta"), undefined, sub);
      await d.put(alice, "secret.txt", text("no"), undefined, outside);
      metrics = createMetrics("file");
      deps = shareTestDeps(d, { metrics: shareMetrics(metrics) });
    });
    afterAll(() => d.close());

    const client = () => {
      const verifier = { verify: async (t: string) => ({ userId: t, username: t, exp: 0 }) };
      const transport = createRouterTransport((r) => shareRoutes(r, deps), {
        router: {
          interceptors: [
            errorInterceptor(createLogger("test")),
            authInterceptor({ verifier, internalSecret: "i".repeat(32) }),
          ],
        },
      });
      return createClient(ShareService, transport);
    };
    const ownerOf = () => ({ headers: { authorization: `Bearer ${alice.userId}` } });

    const save = async (url: string, name: string) => {
      const res = await d.get(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/zip");
      const path = join(dir, `${database.dialect}-${name}.zip`);
      await Bun.write(path, res);
      return { res, members: await checkZip(path) };
    };

    test("the shared folder and a folder inside it as ZIPs, one download each", async () => {
      const c = client();
      const link = (await c.createShare({ targetId: root, maxDownloads: 2n }, ownerOf())).share;
      const { shareToken } = await c.openShare({ id: link?.id ?? "" });
      const whole = await c.createShareDownloadUrl({ shareToken });
      expect(whole.url).toStartWith("/download/v1/zip/");
      expect(whole.url).toContain(`share=${link?.id}`);
      expect(whole.downloadsLeft).toBe(1n);
      const a = await save(whole.url, "whole");
      expect(filenameOf(a.res.headers.get("content-disposition") ?? "")).toBe("Shared ✓.zip");
      expect(a.members.map((m) => m.name).sort()).toEqual(["a.txt", "inner/", "inner/b.txt"]);
      // Fetching the same URL again (a resumed or repeated GET) is free.
      expect((await d.get(whole.url)).status).toBe(200);
      const inner = await c.createShareDownloadUrl({ shareToken, fileId: sub });
      expect(inner.downloadsLeft).toBe(0n);
      const b = await save(inner.url, "inner");
      expect(b.members.map((m) => [m.name, m.size])).toEqual([["b.txt", 9]]);
      // The limit holds for folders as for files.
      expect((await failure(c.createShareDownloadUrl({ shareToken }))).reason).toBe(
        Reason.SHARE_LIMIT_REACHED,
      );
      const listed = (await c.listShares({}, ownerOf())).shares.find((s) => s.id === link?.id);
      expect(listed?.downloadCount).toBe(2n);
      const text = await metrics.text();
      expect(text).toContain('filestore_share_opens_total{service="file",result="ok"} 1');
      expect(text).toContain('filestore_share_downloads_total{service="file",kind="zip",result="ok"} 2');
      expect(text).toContain(
        'filestore_share_downloads_total{service="file",kind="zip",result="limit_reached"} 1',
      );
    });

    test("a folder outside the share answers like an unknown id and counts nothing", async () => {
      const c = client();
      const id = (await c.createShare({ targetId: sub }, ownerOf())).share?.id ?? "";
      const { shareToken } = await c.openShare({ id });
      for (const fileId of [outside, root, crypto.randomUUID()])
        expect((await failure(c.createShareDownloadUrl({ shareToken, fileId }))).code).toBe(Code.NotFound);
      const listed = (await c.listShares({}, ownerOf())).shares.find((s) => s.id === id);
      expect(listed?.downloadCount).toBe(0n);
    });

    test("revocation refuses the minted ZIP URL at its next request; the share id cannot be swapped", async () => {
      const c = client();
      const id = (await c.createShare({ targetId: root }, ownerOf())).share?.id ?? "";
      const other = (await c.createShare({ targetId: root }, ownerOf())).share?.id ?? "";
      const { shareToken } = await c.openShare({ id });
      const { url } = await c.createShareDownloadUrl({ shareToken });
      expect((await d.get(url, {}, "HEAD")).status).toBe(200);
      // Dropping or swapping the signed share id breaks the signature.
      expect((await d.get(url.replace(`share=${id}`, `share=${other}`))).status).toBe(403);
      expect((await d.get(url.replace(`&share=${id}`, ""))).status).toBe(403);
      await c.revokeShare({ id }, ownerOf());
      const refused = await d.get(url);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain("revoked");
    });

    test("a folder past ZIP_MAX_ENTRIES gets no URL and uses up no download; at the limit it zips", async () => {
      const c = client();
      const id = (await c.createShare({ targetId: root, maxDownloads: 2n }, ownerOf())).share?.id ?? "";
      const { shareToken } = await c.openShare({ id });
      // One setting, read by both workers (the file worker loads the download worker's section).
      const cap = (n: number) => {
        deps.zipMaxEntries = n;
        d.deps.zipMaxEntries = n;
      };
      const downloadCount = async () =>
        (await c.listShares({}, ownerOf())).shares.find((s) => s.id === id)?.downloadCount;
      try {
        // The shared tree holds 3 entries: a.txt, inner/, inner/b.txt.
        cap(2);
        const refused = await failure(c.createShareDownloadUrl({ shareToken }));
        expect([refused.code, refused.reason]).toEqual([Code.ResourceExhausted, Reason.ZIP_TOO_LARGE]);
        expect(refused.message).toContain("more than 2 entries");
        expect(await downloadCount()).toBe(0n);
        // Both downloads are left: a folder inside it under the cap zips (1 entry) ...
        cap(1);
        const inner = await c.createShareDownloadUrl({ shareToken, fileId: sub });
        expect(inner.downloadsLeft).toBe(1n);
        expect((await save(inner.url, "under-the-cap")).members.map((m) => m.name)).toEqual(["b.txt"]);
        // ... and at the limit the whole folder does.
        cap(3);
        const whole = await c.createShareDownloadUrl({ shareToken });
        expect(whole.downloadsLeft).toBe(0n);
        const { members } = await save(whole.url, "at-the-cap");
        expect(members.map((m) => m.name).sort()).toEqual(["a.txt", "inner/", "inner/b.txt"]);
        expect(await downloadCount()).toBe(2n);
      } finally {
        cap(1000);
      }
    });

    test("a drop link's folder gives no ZIP", async () => {
      const c = client();
      const id = (await c.createShare({ targetId: outside, mode: 2 }, ownerOf())).share?.id ?? "";
      const { shareToken } = await c.openShare({ id });
      expect((await failure(c.createShareDownloadUrl({ shareToken }))).code).toBe(Code.PermissionDenied);
    });
  });
}
