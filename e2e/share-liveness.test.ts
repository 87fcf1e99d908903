// A share link's rule on two download replicas (issue 18: a revoked or expired link stops at once, on
// every replica, including downloads in progress at their next range). Services mode, two download
// replicas, the event bus on a private Redis, and a 60 s lookup cache: each replica has served a range of
// the share's URL, then the link is revoked, edited to expire, loses its target, or its owner is disabled,
// and the very next range on each replica is refused. In services mode the share liveness cache is off
// (workers/download/wire.ts: an event through Redis arrives a round trip after the change's answer; this
// test caught a 206 on the other replica right after a trash), so every range asks meta; the test keeps
// any future cache there to the same rule.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connectCall, FILES, freePorts, MODE, type Stack, signedInUser, startStack } from "./harness.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

const SHARES = "filestore.share.v1.ShareService";
const ACCOUNT = "filestore.account.v1.AccountService";
const ADMIN = "filestore.admin.v1.AdminService";
setDefaultTimeout(120_000);

describe.skipIf(MODE !== "services")(
  "share liveness on two download replicas (Redis bus, 60 s cache)",
  () => {
    let stack: Stack;
    let redis: RedisServer;
    let adminToken: string;
    beforeAll(async () => {
      const [port] = (await freePorts(1)) as [number];
      redis = await startRedisServer(port, { persist: true });
      stack = await startStack({ REDIS_URL: redis.url, DOWNLOAD_LOOKUP_CACHE_MS: "60000" });
      // The first user of the empty instance is its administrator (to disable an owner below).
      const password = "correct horse battery";
      await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signup`, { username: "root", password });
      const r = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signin`, { username: "root", password });
      adminToken = (r.json.tokens as { accessToken: string }).accessToken;
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
      await redis?.stop();
    });

    type User = Awaited<ReturnType<typeof signedInUser>>;
    const bearer = (u: User) => ({ authorization: `Bearer ${u.accessToken}` });
    const call = (method: string, body: unknown, u?: User) =>
      connectCall(stack.gatewayUrl, `${SHARES}/${method}`, body, u ? bearer(u) : {});
    const replicas = () =>
      (stack.services?.env.DOWNLOAD_PORTS ?? "").split(",").map((p) => `http://127.0.0.1:${p}`);

    /** A shared file with a minted URL whose range every replica has served (and so keeps the link's answer). */
    async function sharedDownload(options: Record<string, unknown> = {}) {
      const owner = await signedInUser(stack.gatewayUrl);
      const put = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=movie.bin`, {
        method: "PUT",
        headers: bearer(owner),
        body: "0123456789".repeat(100),
      });
      const fileId = ((await put.json()) as { file: { id: string } }).file.id;
      const created = await call("CreateShare", { targetId: fileId, ...options }, owner);
      expect(created.status).toBe(200);
      const id = (created.json.share as { id: string }).id;
      const shareToken = (await call("OpenShare", { id })).json.shareToken as string;
      const url = (await call("CreateShareDownloadUrl", { shareToken, fileId })).json.url as string;
      expect(replicas()).toHaveLength(2);
      for (const base of replicas())
        for (let i = 0; i < 2; i++) expect((await range(base, url)).status).toBe(206);
      return { owner, fileId, id, url };
    }
    const range = (base: string, url: string) =>
      fetch(`${base}${url}`, { headers: { range: "bytes=10-19" } });
    const nextRanges = async (url: string) =>
      Promise.all(replicas().map(async (b) => (await range(b, url)).status));

    test("revoked: the next range on each replica is refused", async () => {
      const { owner, id, url } = await sharedDownload();
      expect((await call("RevokeShare", { id }, owner)).status).toBe(200);
      expect(await nextRanges(url)).toEqual([403, 403]);
    });

    test("edited to expire sooner: refused from the new expiry on, although cached without one", async () => {
      const { owner, id, url } = await sharedDownload();
      const soon = Date.now() + 3000;
      const edited = await call("UpdateShare", { id, expiresAt: new Date(soon).toISOString() }, owner);
      expect(edited.status).toBe(200);
      expect(await nextRanges(url)).toEqual([206, 206]); // the edit itself ends nothing yet
      await Bun.sleep(Math.max(0, soon - Date.now()) + 200);
      expect(await nextRanges(url)).toEqual([403, 403]);
    });

    test("its target in the trash: the next range on each replica is refused", async () => {
      const { owner, fileId, url } = await sharedDownload();
      const deleted = await connectCall(
        stack.gatewayUrl,
        `${FILES}/DeleteFile`,
        { id: fileId },
        bearer(owner),
      );
      expect(deleted.status).toBe(200);
      expect(await nextRanges(url)).toEqual([403, 403]);
    });

    test("its owner disabled: the next range on each replica is refused", async () => {
      const { owner, url } = await sharedDownload();
      const off = await connectCall(
        stack.gatewayUrl,
        `${ADMIN}/DisableUser`,
        { userId: owner.user.id },
        { authorization: `Bearer ${adminToken}` },
      );
      expect(off.status).toBe(200);
      expect(await nextRanges(url)).toEqual([403, 403]);
    });

    test("the file's download links revoked by its owner: the share's URL (of the old generation) stops too", async () => {
      const { owner, fileId, url } = await sharedDownload();
      const revoked = await connectCall(
        stack.gatewayUrl,
        "filestore.download.v1.DownloadService/RevokeDownloadUrls",
        { fileId },
        bearer(owner),
      );
      expect(revoked.status).toBe(200);
      expect(await nextRanges(url)).toEqual([403, 403]);
    });
  },
);
