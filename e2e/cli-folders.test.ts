// The `filestore` CLI on folders, the trash, --json outputs and failures a user meets (server down, a
// destination that does not exist yet), against a running stack, as cli.test.ts runs it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomFillSync } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  freePorts,
  MODE,
  ROOT,
  restartService,
  run,
  type Stack,
  servicePid,
  signedInUser,
  startStack,
} from "./harness.ts";

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
let work: string;

beforeAll(async () => {
  stack = await startStack();
  user = await signedInUser(stack.gatewayUrl);
  work = mkdtempSync(join(tmpdir(), "filestore-cli-folders-"));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const filestore = (args: string[], input?: string) =>
  run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
    env: { ...process.env, XDG_CONFIG_HOME: join(work, "config"), FILESTORE_URL: stack.gatewayUrl },
    cwd: work,
  });

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** Every regular file under `dir`, relative path → SHA-256. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of new Bun.Glob("**/*").scanSync({
    cwd: dir,
    dot: true,
    onlyFiles: true,
    followSymlinks: false,
  })) {
    out[rel] = sha(readFileSync(join(dir, rel)));
  }
  return out;
}

/** 48 files in three levels of folders (one empty file, sizes up to 300 KiB), plus what must not go up. */
function makeTree(top: string): void {
  let n = 0;
  for (const dir of ["", "a", "a/b", "a/b/c", "d", "d/e", "café"]) {
    mkdirSync(join(top, dir), { recursive: true });
    for (let i = 0; i < (dir === "café" ? 6 : 7); i++) {
      const size = n === 0 ? 0 : (n * 7919) % (300 * 1024);
      writeFileSync(join(top, dir, `file-${n++}.bin`), randomFillSync(Buffer.alloc(size)));
    }
  }
  writeFileSync(join(top, "a/scratch.tmp"), "left out");
  mkdirSync(join(top, "d/node_modules/x"), { recursive: true });
  writeFileSync(join(top, "d/node_modules/x/index.js"), "left out");
  symlinkSync(join(top, "a"), join(top, "link-to-a"));
}

interface Summary {
  files: number;
  bytes: number;
  skipped: number;
  failed: number;
  failures: { path: string; error: string }[];
}
const summary = (stdout: string) => JSON.parse(stdout) as Summary;

describe(`filestore CLI: folders, trash, --json, failures (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("a server that is down: retried, then one line and exit 1", async () => {
    const [port] = await freePorts(1);
    const started = Date.now();
    const r = await filestore(
      ["--server", `http://127.0.0.1:${port}`, "login", "x", "--password-stdin"],
      "pw\n",
    );
    expect([r.code, r.stderr]).toEqual([
      1,
      `filestore: cannot reach http://127.0.0.1:${port}: connection refused\n`,
    ]);
    expect(Date.now() - started).toBeGreaterThan(300); // it retried (with backoff) before giving up
  });

  test("login; whoami --json and ls --json print the documented fields", async () => {
    const login = await filestore(["login", user.username, "--password-stdin"], `${user.password}\n`);
    expect(login.code).toBe(0);
    const me = await filestore(["whoami", "--json"]);
    expect(me.code).toBe(0);
    const who = JSON.parse(me.stdout);
    expect(who).toMatchObject({ id: user.user.id, username: user.username, server: stack.gatewayUrl });
    expect(Date.parse(who.createdAt)).toBeGreaterThan(0);

    writeFileSync(join(work, "one.txt"), "one");
    expect((await filestore(["upload", "one.txt", "--to", "/json"])).code).toBe(0); // /json created
    const ls = await filestore(["ls", "--json", "/"]);
    const [folder] = JSON.parse(ls.stdout);
    expect(folder).toMatchObject({ name: "json", kind: "folder", size: 0, sha256: "", parentId: "" });
    const [file] = JSON.parse((await filestore(["ls", "--json", "/json"])).stdout);
    expect(file).toEqual({
      id: expect.any(String),
      name: "one.txt",
      kind: "file",
      size: 3,
      sha256: sha(new TextEncoder().encode("one")),
      parentId: folder.id,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  test("a folder up (into missing remote folders) and down (into missing local ones), byte-identical; again: all skipped", async () => {
    const top = join(work, "tree");
    makeTree(top);
    const local = hashes(top);
    const sent = Object.fromEntries(
      Object.entries(local).filter(
        ([rel]) => !rel.endsWith(".tmp") && !rel.includes("node_modules/") && !rel.startsWith("link-to-a"),
      ),
    );
    expect(Object.keys(sent)).toHaveLength(48);

    const up = await filestore([
      "upload",
      "tree",
      "--to",
      "/backup/2026/dec",
      "--exclude",
      "*.tmp",
      "--exclude",
      "node_modules",
      "-j",
      "4",
      "--json",
    ]);
    expect(up.code).toBe(0);
    const total = Object.keys(sent).reduce((n, rel) => n + readFileSync(join(top, rel)).length, 0);
    expect(summary(up.stdout)).toMatchObject({ files: 48, bytes: total, skipped: 3, failed: 0 });
    expect(up.stderr).toContain("skipped tree/link-to-a: a symbolic link (not followed)");
    expect(up.stderr).toMatch(/tree: 48\/48 files/); // the progress line, off a terminal

    const down = await filestore(["download", "/backup/2026/dec/tree", "x/y", "--json"]);
    expect(down.code).toBe(0);
    expect(summary(down.stdout)).toMatchObject({ files: 48, bytes: total, skipped: 0, failed: 0 });
    expect(hashes(join(work, "x/y"))).toEqual(sent);

    const again = await filestore([
      "upload",
      "tree",
      "--to",
      "/backup/2026/dec",
      "--exclude",
      "*.tmp",
      "--exclude",
      "node_modules",
    ]);
    expect([again.code, again.stdout]).toEqual([
      0,
      `uploaded tree → /backup/2026/dec/tree: 0 files (0 B), 51 skipped, 0 failed\n`,
    ]);
    const down2 = await filestore(["download", "/backup/2026/dec/tree", "x/y", "--json"]);
    expect(summary(down2.stdout)).toMatchObject({ files: 0, skipped: 48, failed: 0 });

    // --exclude on the way down; a path pattern leaves a whole folder out.
    const some = await filestore([
      "download",
      "/backup/2026/dec/tree",
      "z/",
      "--exclude",
      "a/**",
      "--exclude",
      "*-4*.bin",
      "--json",
    ]);
    expect(some.code).toBe(0);
    const got = Object.keys(hashes(join(work, "z/tree")));
    expect(got.some((rel) => rel.startsWith("a/") || /-4\d*\.bin$/.test(rel))).toBe(false);
    const expected = Object.keys(sent).filter((rel) => !rel.startsWith("a/") && !/-4\d*\.bin$/.test(rel));
    expect(got.sort()).toEqual(expected.sort());
  }, 120_000);

  test("a file the server refuses is counted as failed and the exit code is 1; the others go up", async () => {
    const top = join(work, "mixed");
    mkdirSync(join(top, "sub"), { recursive: true });
    writeFileSync(join(top, "good.txt"), "good");
    writeFileSync(join(top, "sub/also-good.txt"), "good too");
    writeFileSync(join(top, "sub/bad\u0001name.txt"), "refused: a control character in its name");
    const r = await filestore(["upload", "mixed"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("uploaded mixed → /mixed: 2 files (12 B), 0 skipped, 1 failed\n");
    expect(r.stderr).toContain(
      "filestore: sub/bad\u0001name.txt: a name cannot contain control characters\n",
    );
    expect((await filestore(["ls", "/mixed/sub"])).stdout).toBe("also-good.txt\n");
  });

  test("a local destination that cannot be made: one clear line, no raw error", async () => {
    writeFileSync(join(work, "plain-file"), "not a folder");
    const r = await filestore(["download", "/json/one.txt", "plain-file/sub/"]);
    expect([r.code, r.stderr]).toEqual([
      1,
      "filestore: cannot create plain-file/sub: a part of the path is not a folder\n",
    ]);
    const single = await filestore(["download", "/json/one.txt", "new/dir/copy.txt"]);
    expect(single.code).toBe(0);
    expect(readFileSync(join(work, "new/dir/copy.txt"), "utf8")).toBe("one");
  });

  test("trash: ls shows where entries were; restore by path; purge by id", async () => {
    expect((await filestore(["rm", "/backup/2026/dec/tree/d/e"])).code).toBe(0);
    expect((await filestore(["rm", "/json/one.txt"])).code).toBe(0);
    const ls = await filestore(["trash", "ls", "--json"]);
    expect(ls.code).toBe(0);
    const items = JSON.parse(ls.stdout) as { id: string; path: string; kind: string; deletedAt: string }[];
    expect(items.map((i) => [i.path, i.kind])).toEqual([
      ["/json/one.txt", "file"],
      ["/backup/2026/dec/tree/d/e", "folder"],
    ]);
    expect(Date.parse(items[0]?.deletedAt as string)).toBeGreaterThan(0);
    expect((await filestore(["trash", "ls"])).stdout).toContain("  /backup/2026/dec/tree/d/e/\n");

    const restored = await filestore(["trash", "restore", "/backup/2026/dec/tree/d/e"]);
    expect([restored.code, restored.stdout]).toEqual([
      0,
      "restored /backup/2026/dec/tree/d/e → /backup/2026/dec/tree/d/e/\n",
    ]);
    expect((await filestore(["ls", "/backup/2026/dec/tree/d/e"])).stdout.split("\n")).toHaveLength(8);

    const id = items[0]?.id as string;
    expect(await filestore(["trash", "purge", `id:${id}`])).toMatchObject({
      code: 0,
      stdout: `purged id:${id} for good\n`,
    });
    expect(JSON.parse((await filestore(["trash", "ls", "--json"])).stdout)).toEqual([]);
    const gone = await filestore(["trash", "restore", "/json/one.txt"]);
    expect([gone.code, gone.stderr]).toEqual([
      4,
      "filestore: not in the trash: /json/one.txt (see filestore trash ls)\n",
    ]);
    expect((await filestore(["trash", "frobnicate"])).code).toBe(2);
  });

  test.if(MODE === "services")(
    "a service down behind the gateway: retried, then its message and request id",
    async () => {
      process.kill(servicePid(stack.runDir as string, "file"), "SIGKILL");
      try {
        const r = await filestore(["ls", "/"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `^filestore: ${stack.gatewayUrl}: the file service is unavailable, retry in a moment \\(request id [\\w.-]+\\)\n$`,
          ),
        );
      } finally {
        await restartService(stack, "file");
      }
      expect((await filestore(["ls", "/json"])).code).toBe(0);
    },
    60_000,
  );

  test("a missing local folder to upload, and a missing remote folder to download: clear, exit 2 and 4", async () => {
    expect(await filestore(["upload", "no-such-dir"])).toMatchObject({
      code: 2,
      stderr: "filestore: no such file or folder: no-such-dir\n",
    });
    const r = await filestore(["download", "/nope", "q"]);
    expect([r.code, r.stderr, existsSync(join(work, "q"))]).toEqual([
      4,
      "filestore: no such file or folder: /nope\n",
      false,
    ]);
    expect(relative(work, work)).toBe("");
  });
});
