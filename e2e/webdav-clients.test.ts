// Real WebDAV clients through the gateway (either mode, FILESTORE_TEST_MODE): rclone (vendors nextcloud
// and other, with an app password obscured as rclone stores it) copies a tree up, checks it by SHA-1,
// syncs a change and copies it back down; cadaver's scripted put/get/mkcol/move.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, run, type Stack, startStack } from "./harness.ts";
import { type DavUser, davUser, treeOf } from "./webdav-kit.ts";

let stack: Stack;
let user: DavUser;
let appPassword: string;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
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
  writeFileSync(join(root, "sub dir", "ünï cödé", "big.bin"), randomBytes(5 * 1024 * 1024 + 3));
  for (let i = 0; i < 30; i++) writeFileSync(join(root, "deep", "a", "b", `f ${i}.txt`), `file ${i}\n`);
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
});
