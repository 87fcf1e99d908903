// Folder downloads as ZIP through the gateway, in either mode, on local disk and (when TEST_S3_* is set)
// on S3: a tree with nested and empty folders and non-ASCII names minted with CreateFolderZipUrl, fetched
// without a login, read back by Python's zipfile and `unzip -t`, bytes equal, length exact; unknown
// folders, a file's id, another user's folder, expired and forged links refused with clear errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkZip } from "../workers/download/zip-check.ts";
import { connectCall, ROOT, randomBytes, run, type Stack, signedInUser, startStack } from "./harness.ts";
import { dropBucket, S3, s3Admin, s3PolicyEnv } from "./s3.ts";

const MODE = process.env.FILESTORE_TEST_MODE ?? "allinone";
const DOWNLOAD = "filestore.download.v1.DownloadService";
const FILE = "filestore.file.v1.FileService";
const sha256 = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const dir = mkdtempSync(join(tmpdir(), "e2e-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends = S3.endPoint ? ["local", "s3"] : ["local"];

for (const backend of backends) {
  describe(`folder ZIPs through the gateway (${MODE}, ${backend})`, () => {
    let stack: Stack;
    let alice: Awaited<ReturnType<typeof signedInUser>>;
    let bob: Awaited<ReturnType<typeof signedInUser>>;
    const bucket = `fs-e2e-zip-${crypto.randomUUID().slice(0, 8)}`;
    const big = randomBytes(2 * 1024 * 1024 + 3);
    let root = "";
    let fileId = "";

    const rpc = (service: string, method: string, body: unknown, user = alice) =>
      connectCall(stack.gatewayUrl, `${service}/${method}`, body, {
        authorization: `Bearer ${user.accessToken}`,
      });
    const folder = async (parentId: string, name: string) => {
      const r = await rpc(FILE, "CreateFolder", { parentId, name });
      if (r.status !== 200) throw new Error(`CreateFolder: ${JSON.stringify(r.json)}`);
      return (r.json as { folder: { id: string } }).folder.id;
    };
    const upload = async (parentId: string, name: string, body: Uint8Array<ArrayBuffer>) => {
      const q = `name=${encodeURIComponent(name)}&parent_id=${encodeURIComponent(parentId)}`;
      const res = await fetch(`${stack.gatewayUrl}/upload/v1/files?${q}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${alice.accessToken}` },
        body,
      });
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { file: { id: string } }).file.id;
    };
    const mint = (folderId: string, user = alice, ttlSeconds = 0) =>
      rpc(DOWNLOAD, "CreateFolderZipUrl", { folderId, ttlSeconds }, user);

    beforeAll(async () => {
      stack = await startStack(backend === "s3" ? s3PolicyEnv(bucket) : {});
      [alice, bob] = [await signedInUser(stack.gatewayUrl), await signedInUser(stack.gatewayUrl)];
      root = await folder("", "Projekt – Ünïcode ✓");
      fileId = await upload(root, "big.bin", big);
      await upload(root, "readme.txt", new TextEncoder().encode("read me\n"));
      const sub = await folder(root, "日本語");
      await upload(sub, "naïve.md", new TextEncoder().encode("# naïve\n"));
      await folder(sub, "empty");
      await folder(root, "also empty");
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
      if (backend === "s3") await dropBucket(s3Admin(S3.endPoint), bucket);
    }, 60_000);

    test("the tree as a ZIP, without a login: zipfile and unzip -t read it, bytes match, length exact", async () => {
      const minted = await mint(root);
      expect(minted.status).toBe(200);
      const url = (minted.json as { url: string }).url;
      expect(url.startsWith("/download/v1/zip/")).toBe(true);
      const head = await fetch(`${stack.gatewayUrl}${url}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      const length = head.headers.get("content-length");
      expect(Number(length)).toBeGreaterThan(big.length);
      const res = await fetch(`${stack.gatewayUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/zip");
      expect(res.headers.get("content-disposition")).toContain(
        `filename*=UTF-8''${encodeURIComponent("Projekt – Ünïcode ✓.zip").replace(/'/g, "%27")}`,
      );
      // A streamed GET goes out chunked where Bun.serve writes it (oven-sh/bun#10507); when a length is
      // sent it is the predicted one, and the bytes are always exactly that many.
      const sent = res.headers.get("content-length");
      if (sent !== null) expect(sent).toBe(length ?? "");
      const path = join(dir, `${MODE}-${backend}.zip`);
      await Bun.write(path, await res.arrayBuffer());
      expect(String(statSync(path).size)).toBe(length ?? "");
      const members = await checkZip(path);
      expect(members.map((m) => [m.name, m.size, m.sha256])).toEqual([
        ["big.bin", big.length, sha256(big)],
        ["readme.txt", 8, sha256("read me\n")],
        ["also empty/", 0, sha256("")],
        ["日本語/", 0, sha256("")],
        ["日本語/naïve.md", 9, sha256("# naïve\n")],
        ["日本語/empty/", 0, sha256("")],
      ]);
      expect(members.every((m) => m.method === 0 && m.utf8)).toBe(true);
    }, 60_000);

    test("the CLI: filestore download FOLDER --zip writes the same archive", async () => {
      if (backend !== "local") return; // the server's archive is the same on every backend (tested above)
      const cli = (args: string[], input?: string) =>
        run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
          env: { ...process.env, XDG_CONFIG_HOME: join(dir, "config"), FILESTORE_URL: stack.gatewayUrl },
          cwd: dir,
        });
      const login = await cli(["login", alice.username, "--password-stdin"], `${alice.password}\n`);
      expect(login.code).toBe(0);
      const dest = join(dir, `cli-${MODE}.zip`);
      const r = await cli(["download", "/Projekt – Ünïcode ✓", dest, "--zip"]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toContain("as a ZIP");
      const members = await checkZip(dest);
      expect(members.map((m) => m.name)).toContain("日本語/naïve.md");
      const notFolder = await cli(["download", "/Projekt – Ünïcode ✓/big.bin", "--zip"]);
      expect(notFolder.code).not.toBe(0);
      expect(notFolder.stderr).toContain("--zip takes a folder");
    }, 60_000);

    test("bad input: unknown folder, a file's id, another user's folder, a bad TTL", async () => {
      const unknown = await mint(crypto.randomUUID());
      expect([unknown.status, (unknown.json as { code: string }).code]).toEqual([404, "not_found"]);
      const file = await mint(fileId);
      expect((file.json as { code: string; message: string }).code).toBe("failed_precondition");
      expect((file.json as { message: string }).message).toContain("not a folder");
      const others = await mint(root, bob);
      expect((others.json as { code: string }).code).toBe("not_found");
      const ttl = await mint(root, alice, 99_999_999);
      expect((ttl.json as { code: string }).code).toBe("invalid_argument");
    }, 60_000);

    test("links: forged, another folder's, expired: 403 with the reason", async () => {
      const url = ((await mint(root)).json as { url: string }).url;
      const forged = url.replace(/sig=(.)/, (_, c) => `sig=${c === "A" ? "B" : "A"}`);
      const other = await folder("", `other-${crypto.randomUUID().slice(0, 6)}`);
      for (const u of [forged, url.replace(root, other)]) {
        const r = await fetch(`${stack.gatewayUrl}${u}`);
        expect(r.status).toBe(403);
        expect(((await r.json()) as { message: string }).message).toContain("not valid");
      }
      const short = ((await mint(root, alice, 1)).json as { url: string }).url;
      await Bun.sleep(2100);
      const expired = await fetch(`${stack.gatewayUrl}${short}`);
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as { message: string }).message).toContain("expired");
    }, 60_000);
  });
}
