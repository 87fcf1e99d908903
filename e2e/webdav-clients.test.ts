// Real WebDAV clients through the gateway (either mode, FILESTORE_TEST_MODE): rclone (vendors nextcloud
// and other, with an app password obscured as rclone stores it) copies a tree up, checks it by SHA-1,
// syncs a change and copies it back down; cadaver's scripted put/get/mkcol/move, and its lock/unlock
// while another client without the token is refused (423).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, run, type Stack, sha256 } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";
import { type DavUser, davUser, treeOf } from "./webdav-kit.ts";

let stack: Stack;
let user: DavUser;
let appPassword: string;
let dir: string;
/** The large file of the tree (100 MiB + 3 bytes), made once. */
const BIG = randomBytes(100 * 1024 * 1024 + 3);

beforeAll(async () => {
  stack = await sharedStack();
  user = await davUser(stack.gatewayUrl, "rclone");
  appPassword = user.appPassword;
  dir = mkdtempSync(join(tmpdir(), "filestore-dav-clients-"));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function makeTree(root: string) {
  mkdirSync(join(root, "sub dir", "ünï cödé"), { recursive: true });
  mkdirSync(join(root, "deep", "a", "b"), { recursive: true });
  writeFileSync(join(root, "empty"), "");
  // The tree: 200 files in nested folders, UTF-8 and space-containing names, 0-byte and 100 MiB.
  writeFileSync(join(root, "sub dir", "ünï cödé", "big.bin"), BIG);
  for (let i = 0; i < 30; i++) writeFileSync(join(root, "deep", "a", "b", `f ${i}.txt`), `file ${i}\n`);
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(root, "many", `földer ${d}`), { recursive: true });
    for (let i = 0; i < 34; i++)
      writeFileSync(join(root, "many", `földer ${d}`, `ñame ${i}.txt`), `${d}/${i}\n`.repeat(i));
  }
  writeFileSync(join(root, "sub dir", "notes.md"), "# notes\n");
  const past = new Date(Date.UTC(2020, 1, 2, 3, 4, 5));
  utimesSync(join(root, "sub dir", "notes.md"), past, past);
}

async function rclone(args: string[]) {
  const r = await run(["rclone", "--config", "/dev/null", "--retries", "1", ...args]);
  return { ...r, out: `${r.stdout}\n${r.stderr}` };
}

describe("rclone", () => {
  for (const vendor of ["nextcloud", "other"] as const) {
    test(`copy up, check with checksums, sync a change, copy back down (vendor ${vendor})`, async () => {
      const obscured = (await rclone(["obscure", appPassword])).stdout.trim();
      const path = vendor === "nextcloud" ? `/remote.php/dav/files/${user.username}` : "/dav";
      const remote = `:webdav,url='${stack.gatewayUrl}${path}',vendor=${vendor},user=${user.username},pass=${obscured}:rc-${vendor}`;
      const local = join(dir, `up-${vendor}`);
      makeTree(local);
      const up = await rclone(["copy", local, remote]);
      expect(up.out).not.toContain("ERROR");
      expect(up.code).toBe(0);
      // nextcloud's vendor compares SHA-1 (oc:checksums, filled in shortly after an upload); other: sizes.
      const check = async () =>
        rclone(["check", local, remote, ...(vendor === "nextcloud" ? [] : ["--size-only"])]);
      let checked = await check();
      for (let i = 0; i < 20 && checked.code !== 0; i++) {
        await Bun.sleep(250);
        checked = await check();
      }
      expect(checked.out).toContain("0 differences found");
      expect(checked.code).toBe(0);
      if (vendor === "nextcloud") {
        // Modification times survive (X-OC-Mtime, which rclone sends to the nextcloud and owncloud vendors
        // only), to the second. A local time well in the past, so that an upload's own time cannot match.
        const listed = JSON.parse((await rclone(["lsjson", "-R", "--files-only", remote])).stdout) as {
          Path: string;
          ModTime: string;
        }[];
        const notes = listed.find((f) => f.Path === "sub dir/notes.md");
        expect(Date.parse(notes?.ModTime ?? "")).toBe(Date.UTC(2020, 1, 2, 3, 4, 5));
        const sums = await rclone(["hashsum", "sha1", remote]);
        expect(sums.out).toContain("da39a3ee5e6b4b0d3255bfef95601890afd80709  empty");
      }

      writeFileSync(join(local, "sub dir", "notes.md"), "# notes, changed\n");
      rmSync(join(local, "deep", "a", "b", "f 7.txt"));
      writeFileSync(join(local, "new file.txt"), "new\n");
      const synced = await rclone(["sync", local, remote]);
      expect(synced.code).toBe(0);
      const again = await rclone(["check", local, remote]);
      expect(again.out).toContain("0 differences found");

      const down = join(dir, `down-${vendor}`);
      const back = await rclone(["copy", remote, down]);
      expect(back.code).toBe(0);
      expect(treeOf(down)).toEqual(treeOf(local));
    }, 240_000);
  }
});

describe("rclone, interrupted", () => {
  test("a large upload killed mid-file leaves no partial file; running it again completes it", async () => {
    const obscured = (await rclone(["obscure", appPassword])).stdout.trim();
    const remote = `:webdav,url='${stack.gatewayUrl}/dav',vendor=other,user=${user.username},pass=${obscured}:rc-interrupted`;
    const local = join(dir, "interrupted");
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, "big.bin"), BIG);
    expect((await rclone(["mkdir", remote])).code).toBe(0);
    // Slowed down so that it is surely mid-file when killed.
    const cut = Bun.spawn(["rclone", "--config", "/dev/null", "--bwlimit", "8M", "copy", local, remote], {
      stdout: "ignore",
      stderr: "ignore",
    });
    await Bun.sleep(3000);
    cut.kill("SIGKILL");
    await cut.exited;
    const listed = JSON.parse((await rclone(["lsjson", remote])).stdout) as { Path: string; Size: number }[];
    // Nothing half-written: the file is absent, never a prefix of itself.
    expect(listed.filter((f) => f.Size !== BIG.length)).toEqual([]);
    const again = await rclone(["copy", local, remote]);
    expect(again.code).toBe(0);
    const down = join(dir, "interrupted-back");
    expect((await rclone(["copy", remote, down])).code).toBe(0);
    expect(sha256(readFileSync(join(down, "big.bin")))).toBe(sha256(BIG));
  }, 240_000);
});

describe("cadaver", () => {
  test("scripted mkcol, put, get, move, ls", async () => {
    const home = join(dir, "cadaver-home");
    mkdirSync(home, { recursive: true });
    const host = new URL(stack.gatewayUrl).hostname;
    writeFileSync(
      join(home, ".netrc"),
      `machine ${host}\nlogin ${user.username}\npassword ${appPassword}\n`,
      {
        mode: 0o600,
      },
    );
    const work = join(dir, "cadaver-work");
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "local.txt"), "through cadaver\n");
    const script = [
      "mkcol cad",
      "put local.txt cad/x.txt",
      "get cad/x.txt out.txt",
      "move cad/x.txt cad/y.txt",
      "ls cad",
      "quit",
    ];
    const r = await run(["cadaver", `${stack.gatewayUrl}/dav/`], `${script.join("\n")}\n`, {
      cwd: work,
      env: { ...process.env, HOME: home },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).not.toContain("failed");
    expect(out.match(/succeeded/g)?.length).toBe(5);
    expect(out).toMatch(/y\.txt\s+16/);
    expect(readFileSync(join(work, "out.txt"), "utf8")).toBe("through cadaver\n");
  }, 60_000);

  test("lock, write with the lock, others refused (423) until unlock", async () => {
    const home = join(dir, "cadaver-home");
    const work = join(dir, "cadaver-work");
    const cadaver = async (script: string[]) => {
      const r = await run(["cadaver", `${stack.gatewayUrl}/dav/`], `${script.join("\n")}\n`, {
        cwd: work,
        env: { ...process.env, HOME: home },
      });
      return `${r.stdout}\n${r.stderr}`;
    };
    const held = await cadaver([
      "mkcol locked",
      "put local.txt locked/l.txt",
      "lock locked/l.txt",
      "put local.txt locked/l.txt",
      "discover locked/l.txt",
      "quit",
    ]);
    expect(held).not.toContain("failed");
    expect(held.match(/succeeded/g)?.length).toBe(4);
    const token = /Lock token <(opaquelocktoken:[0-9a-f-]{36})>/.exec(held)?.[1] ?? "";
    expect(token).not.toBe("");
    expect(held).toContain("Scope: exclusive");

    // Another client of the same user (the account's Bearer token) without the lock token: refused.
    const other = { authorization: `Bearer ${user.accessToken}` };
    const url = `${stack.gatewayUrl}/dav/locked/l.txt`;
    const put = (headers: Record<string, string> = {}) =>
      fetch(url, { method: "PUT", body: "other", headers: { ...other, ...headers } });
    const refused = await put();
    expect(refused.status).toBe(423);
    expect(await refused.text()).toContain("lock-token-submitted");
    expect((await fetch(url, { method: "DELETE", headers: other })).status).toBe(423);
    const move = await fetch(url, {
      method: "MOVE",
      headers: { ...other, destination: `${stack.gatewayUrl}/dav/locked/moved.txt` },
    });
    expect(move.status).toBe(423);
    // A lock token of another resource is not this one's.
    const mine = await fetch(`${stack.gatewayUrl}/dav/locked/mine.txt`, {
      method: "LOCK",
      headers: other,
      body: `<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>`,
    });
    expect(mine.status).toBe(201);
    const otherToken = mine.headers.get("lock-token") ?? "";
    expect((await put({ if: `(${otherToken})` })).status).toBe(412);
    expect((await put({ if: `(${otherToken}) (Not <DAV:no-lock>)` })).status).toBe(423);
    // With the lock's token, any client may write (the token is what is checked).
    expect((await put({ if: `(<${token}>)` })).status).toBe(204);

    const unlocked = await cadaver(["unlock locked/l.txt", token, "quit"]);
    expect(unlocked).toContain("succeeded");
    expect((await put()).status).toBe(204);
  }, 60_000);
});
