// A WebDAV mount with Debian's davfs2 (a FUSE file system, the way Linux desktops and servers mount a
// drive) through the gateway, in either mode (FILESTORE_TEST_MODE): files written, renamed and deleted in
// the mount arrive in the drive (checked over HTTP after unmounting, which waits for davfs2's uploads);
// mounted again, the tree reads back byte for byte; davfs2 locks the files it writes (use_locks, now that
// the server has class 2) and leaves no lock behind. Needs root (mount) and davfs2 (.ci/run installs it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, type Stack, sha256, startStack } from "./harness.ts";
import { type DavUser, davUser } from "./webdav-kit.ts";

let stack: Stack;
let user: DavUser;
let dir: string;
let mnt: string;
let url: string;

/** mount.davfs with a configuration of our own (credentials in a 0600 secrets file, uploads at once). */
function mount() {
  const conf = join(dir, "davfs2.conf");
  const r = Bun.spawnSync(["mount.davfs", url, mnt, "-o", `conf=${conf}`], { stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`mount.davfs failed: ${r.stderr.toString()}`);
}

/** Unmounting waits until davfs2 has uploaded every changed file. */
function unmount() {
  const r = Bun.spawnSync(["umount", mnt]);
  if (r.exitCode !== 0) throw new Error(`umount failed: ${r.stderr.toString()}`);
}

const dav = (path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: user.basic, ...(init.headers as Record<string, string>) },
  });

beforeAll(async () => {
  // Access lines show which methods davfs2 sent (LOCK/UNLOCK among them).
  stack = await startStack({ ACCESS_LOG: "1" });
  user = await davUser(stack.gatewayUrl, "davfs2");
  url = `${stack.gatewayUrl}/dav/`;
  dir = mkdtempSync(join(tmpdir(), "filestore-davfs-"));
  mnt = join(dir, "mnt");
  mkdirSync(mnt);
  const secrets = join(dir, "secrets");
  writeFileSync(secrets, `${url} ${user.username} ${user.appPassword}\n`);
  chmodSync(secrets, 0o600);
  writeFileSync(join(dir, "davfs2.conf"), `secrets ${secrets}\ndelay_upload 0\nuse_locks 1\n`);
}, 120_000);

afterAll(async () => {
  if (mnt) Bun.spawnSync(["umount", mnt]); // a failed test may leave it mounted
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe(`davfs2 mount (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  const big = randomBytes(5 * 1024 * 1024 + 17);
  const note = "grüße aus dem mount\n";

  test("files written, renamed and deleted in the mount arrive in the drive", async () => {
    mount();
    mkdirSync(join(mnt, "ünï dir"));
    writeFileSync(join(mnt, "ünï dir", "big.bin"), big);
    writeFileSync(join(mnt, "note.txt"), note);
    writeFileSync(join(mnt, "draft.txt"), "first draft\n");
    renameSync(join(mnt, "draft.txt"), join(mnt, "final.txt"));
    writeFileSync(join(mnt, "gone.txt"), "short-lived\n");
    unlinkSync(join(mnt, "gone.txt"));
    unmount();

    const got = await dav(`${encodeURIComponent("ünï dir")}/big.bin`);
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(big));
    expect(await (await dav("note.txt")).text()).toBe(note);
    expect(await (await dav("final.txt")).text()).toBe("first draft\n");
    expect((await dav("draft.txt")).status).toBe(404);
    expect((await dav("gone.txt")).status).toBe(404);
    // No lock outlives the mount: another client (a Bearer token, no lock token) may write at once.
    const put = await fetch(`${url}note.txt`, {
      method: "PUT",
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: `${note}edited over HTTP\n`,
    });
    expect(put.status).toBeLessThan(300);
    const methods = new Set(
      stack
        .logs()
        .split("\n")
        .filter((l) => l.includes('"access"') || l.includes('"method"'))
        .map((l) => /"method":"([A-Z]+)"/.exec(l)?.[1]),
    );
    for (const m of ["PROPFIND", "PUT", "MKCOL", "MOVE", "DELETE", "LOCK", "UNLOCK"])
      expect(methods).toContain(m);
  }, 180_000);

  test("mounted again, the tree and its bytes read back (including the change made over HTTP)", () => {
    mount();
    try {
      const names = readdirSync(mnt).filter((n) => n !== "lost+found");
      expect(names.sort()).toEqual(["final.txt", "note.txt", "ünï dir"].sort());
      expect(sha256(readFileSync(join(mnt, "ünï dir", "big.bin")))).toBe(sha256(big));
      expect(readFileSync(join(mnt, "note.txt"), "utf8")).toBe(`${note}edited over HTTP\n`);
      expect(existsSync(join(mnt, "gone.txt"))).toBe(false);
    } finally {
      unmount();
    }
  }, 180_000);
});
