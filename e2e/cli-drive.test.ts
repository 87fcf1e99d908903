// The `filestore` CLI as a drive (issue 16): --on-conflict on upload (files, folders, resumed sessions),
// mv and trash restore; cp; find/search; versions and download --version; trash empty; and the one line a
// user reads for bad input. Against a running stack, as cli.test.ts runs it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ROOT,
  randomBytes,
  run,
  type Stack,
  sha256,
  signedInUser,
  type UploadSessionJson,
  uploadClient,
} from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
let work: string;

beforeAll(async () => {
  stack = await sharedStack();
  user = await signedInUser(stack.gatewayUrl);
  work = mkdtempSync(join(tmpdir(), "filestore-cli-drive-"));
  const login = await filestore(["login", user.username, "--password-stdin"], `${user.password}\n`);
  if (login.code !== 0) throw new Error(login.stderr);
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

/** Writes a local file (under the work folder) and returns its path relative to it. */
function local(rel: string, content: string | Uint8Array): string {
  mkdirSync(join(work, rel, ".."), { recursive: true });
  writeFileSync(join(work, rel), content);
  return rel;
}

/** The remote file's bytes, as the CLI downloads them. */
async function remoteText(path: string, ...more: string[]): Promise<string> {
  rmSync(join(work, "fetched"), { force: true });
  const r = await filestore(["download", path, "fetched", ...more]);
  expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
  return readFileSync(join(work, "fetched"), "utf8");
}

/** The CLI on a pseudo-terminal (script(1)), `typed` typed into it; stdout and stderr come out together. */
const onTerminal = (args: string[], typed: string) =>
  run(
    [
      "script",
      "-qec",
      ["node", join(ROOT, "cli/bin.mjs"), ...args].map((a) => `'${a}'`).join(" "),
      "/dev/null",
    ],
    typed,
    {
      env: { ...process.env, XDG_CONFIG_HOME: join(work, "config"), FILESTORE_URL: stack.gatewayUrl },
      cwd: work,
    },
  );

/** Each test runs the CLI a dozen times or more (a process each), on a machine that may be busy. */
const SLOW = 180_000;

const ls = async (path: string) => (await filestore(["ls", path])).stdout.split("\n").filter(Boolean);
const TAKEN = "already exists: use --on-conflict rename (keep both) or replace (a new version of the file)";

interface VersionJson {
  number: number;
  id: string;
  current: boolean;
  size: number;
  sha256: string;
  modifiedAt: string;
  archivedAt: string | null;
}
const versionsOf = async (path: string) =>
  JSON.parse((await filestore(["versions", path, "--json"])).stdout) as VersionJson[];

describe(`filestore CLI as a drive (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test(
    "upload --on-conflict: fail names the taken path (no bytes sent), rename keeps both, replace makes a version",
    async () => {
      local("a.txt", "first");
      expect((await filestore(["upload", "a.txt", "--to", "/c"])).code).toBe(0);
      local("a.txt", "second!");
      const refused = await filestore(["upload", "a.txt", "--to", "/c"]);
      expect([refused.code, refused.stdout]).toEqual([1, ""]);
      expect(refused.stderr).toEndWith(`filestore: a.txt: /c/a.txt ${TAKEN}\n`);
      expect(await ls("/c")).toEqual(["a.txt"]);

      const kept = await filestore(["upload", "a.txt", "--to", "/c", "--on-conflict", "rename"]);
      expect([kept.code, kept.stdout]).toEqual([0, expect.stringContaining("uploaded a.txt → /c/a (2).txt")]);
      expect(await ls("/c")).toEqual(["a (2).txt", "a.txt"]);

      const replaced = await filestore([
        "upload",
        "a.txt",
        "--to",
        "/c",
        "--on-conflict",
        "replace",
        "--json",
      ]);
      expect(replaced.code).toBe(0);
      const [before] = JSON.parse((await filestore(["ls", "--json", "/c"])).stdout).filter(
        (f: { name: string }) => f.name === "a.txt",
      );
      expect(JSON.parse(replaced.stdout)).toMatchObject({ id: before.id, name: "a.txt", size: 7 });
      expect(await remoteText("/c/a.txt")).toBe("second!");
      const versions = await versionsOf("/c/a.txt");
      expect(versions.map((v) => [v.number, v.current, v.size])).toEqual([
        [1, true, 7],
        [2, false, 5],
      ]);
      expect(versions[1]?.sha256).toBe(sha256(new TextEncoder().encode("first")));

      // Content the server already holds goes by instant upload, under the policy too.
      local("same-as-first.txt", "first");
      const instant = await filestore([
        "upload",
        "same-as-first.txt",
        "--to",
        "/c",
        "--json",
        "--on-conflict",
        "replace",
      ]);
      expect([instant.code, JSON.parse(instant.stdout).how]).toEqual([0, "instant"]);
      const up = await filestore(["upload", "same-as-first.txt", "--to", "/c"]);
      expect(up.stderr).toEndWith(`/c/same-as-first.txt ${TAKEN}\n`);
      expect((await filestore(["upload", "a.txt", "--on-conflict", "keep"])).code).toBe(2);
    },
    SLOW,
  );

  test(
    "a session opened under another policy (an earlier run) resumes and completes under this run's",
    async () => {
      const bytes = randomBytes(64 * 1024);
      local("resumed.bin", bytes);
      local("old.bin", "old content");
      expect((await filestore(["upload", "old.bin", "--to", "/r"])).code).toBe(0);
      expect((await filestore(["mv", "/r/old.bin", "/r/resumed.bin"])).code).toBe(0);
      // An earlier run under "fail" sent the part and stopped before completing.
      const client = uploadClient(stack.gatewayUrl, user.accessToken);
      const opened = await client.rpc("CreateUploadSession", {
        name: "resumed.bin",
        size: bytes.length,
        sha256: sha256(bytes),
        onConflict: "CONFLICT_POLICY_FAIL",
      });
      const session = opened.json as unknown as UploadSessionJson;
      expect((await client.put(session.sessionId, 1, bytes)).status).toBe(200);

      const r = await filestore([
        "upload",
        "resumed.bin",
        "--to",
        "/r",
        "--on-conflict",
        "replace",
        "--no-instant",
      ]);
      expect([r.code, r.stderr]).toEqual([
        0,
        expect.stringContaining("resuming: 1 of 1 parts already uploaded"),
      ]);
      expect(await ls("/r")).toEqual(["resumed.bin"]); // no stand-in left behind
      expect((await versionsOf("/r/resumed.bin")).map((v) => v.size)).toEqual([bytes.length, 11]);
      expect(JSON.parse((await filestore(["trash", "ls", "--json"])).stdout)).toEqual([]);
    },
    SLOW,
  );

  test(
    "upload DIR --on-conflict: identical files skipped, changed ones refused, then replaced",
    async () => {
      local("proj/one.txt", "one");
      local("proj/sub/two.txt", "two");
      expect((await filestore(["upload", "proj", "--to", "/p"])).code).toBe(0);
      local("proj/sub/two.txt", "two, edited");
      const refused = await filestore(["upload", "proj", "--to", "/p", "--json"]);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        files: 0,
        skipped: 1,
        failed: 1,
        failures: [{ path: "sub/two.txt", error: `/p/proj/sub/two.txt ${TAKEN}` }],
      });
      const replaced = await filestore(["upload", "proj", "--to", "/p", "--on-conflict", "replace"]);
      expect([replaced.code, replaced.stdout]).toEqual([
        0,
        "uploaded proj → /p/proj: 1 file (11 B), 1 skipped, 0 failed\n",
      ]);
      expect((await versionsOf("/p/proj/sub/two.txt")).map((v) => v.size)).toEqual([11, 3]);
    },
    SLOW,
  );

  test(
    "cp: a file into a folder and to a new name, a folder tree; --on-conflict",
    async () => {
      expect((await filestore(["mkdir", "/dst"])).code).toBe(0);
      expect(await filestore(["cp", "/c/a.txt", "/dst"])).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^copied \/c\/a\.txt → \/dst\/a\.txt \(id [\w-]+\)\n$/),
      });
      expect((await filestore(["cp", "/c/a.txt", "/dst/b.txt"])).code).toBe(0);
      const taken = await filestore(["cp", "/c/a (2).txt", "/dst/a.txt"]);
      expect([taken.code, taken.stderr]).toEqual([1, `filestore: /dst/a.txt ${TAKEN}\n`]);
      expect(
        (await filestore(["cp", "/c/a (2).txt", "/dst/a.txt", "--on-conflict", "rename"])).stdout,
      ).toStartWith("copied /c/a (2).txt → /dst/a (2).txt (id ");
      // Replace: the file there keeps its place and gets the copied content as a new version.
      const replace = await filestore(["cp", "/c/a (2).txt", "/dst/a.txt", "--on-conflict", "replace"]);
      expect([replace.code, replace.stderr]).toEqual([0, ""]);
      expect(await remoteText("/dst/a.txt")).toBe(await remoteText("/c/a (2).txt"));
      // A folder is never replaced: one line, nothing changed.
      const folder = await filestore(["cp", "/p/proj", "/dst/a.txt", "--on-conflict", "replace"]);
      expect(folder.code).not.toBe(0);
      expect(folder.stderr).toMatch(/^filestore: [^\n]+\n$/);
      expect(await ls("/dst")).toEqual(["a (2).txt", "a.txt", "b.txt"]);

      const tree = await filestore(["cp", "/p/proj", "/dst/"]);
      expect([tree.code, tree.stdout]).toEqual([
        0,
        expect.stringContaining("copied /p/proj → /dst/proj/ (id "),
      ]);
      expect(await remoteText("/dst/proj/sub/two.txt")).toBe("two, edited");
      const into = await filestore(["cp", "/p", "/p/proj"]);
      expect(into.code).toBe(1);
      expect((await filestore(["cp", "/nope", "/dst"])).code).toBe(4);
    },
    SLOW,
  );

  test(
    "mv --on-conflict: across folders, and a rename in place that replaces",
    async () => {
      local("m.txt", "moving");
      expect((await filestore(["upload", "m.txt", "--to", "/m1"])).code).toBe(0);
      expect((await filestore(["upload", "m.txt", "--to", "/m2"])).code).toBe(0);
      const refused = await filestore(["mv", "/m1/m.txt", "/m2/"]);
      expect([refused.code, refused.stderr]).toEqual([1, `filestore: /m2/m.txt ${TAKEN}\n`]);
      expect(await ls("/m1")).toEqual(["m.txt"]);
      // Renamed on its way into a folder where the new name is taken: refused, and its name is given back.
      expect((await filestore(["cp", "/m2/m.txt", "/m2/n.txt"])).code).toBe(0);
      const renamed = await filestore(["mv", "/m1/m.txt", "/m2/n.txt"]);
      expect([renamed.code, renamed.stderr]).toEqual([1, `filestore: /m2/n.txt ${TAKEN}\n`]);
      expect(await ls("/m1")).toEqual(["m.txt"]);
      expect(await filestore(["mv", "/m1/m.txt", "/m2/", "--on-conflict", "rename"])).toMatchObject({
        code: 0,
        stdout: "/m1/m.txt → /m2/m (2).txt\n",
      });
      expect((await filestore(["mv", "/m2/m (2).txt", "/m2/n.txt"])).stderr).toBe(
        `filestore: /m2/n.txt ${TAKEN}\n`,
      );
      expect(await filestore(["mv", "/m2/m (2).txt", "/m2/n.txt", "--on-conflict", "replace"])).toMatchObject(
        {
          code: 0,
          stdout: "/m2/m (2).txt → /m2/n.txt\n",
        },
      );
      expect(await ls("/m2")).toEqual(["m.txt", "n.txt"]);
      expect((await versionsOf("/m2/n.txt")).length).toBe(2);
    },
    SLOW,
  );

  test(
    "find / search: full paths, accents and case ignored, --in, --kind, --json",
    async () => {
      local("Café Menu.PDF", "menu");
      local("cafe.jpg", "not really a jpeg");
      expect((await filestore(["upload", "Café Menu.PDF", "cafe.jpg", "--to", "/food/2026"])).code).toBe(0);
      expect((await filestore(["mkdir", "/food/cafés"])).code).toBe(0);
      const all = await filestore(["find", "CAFE"]);
      expect([all.code, all.stdout]).toEqual([
        0,
        "/food/2026/Café Menu.PDF\n/food/2026/cafe.jpg\n/food/cafés/\n",
      ]);
      expect((await filestore(["search", "cafe", "--kind", "image"])).stdout).toBe("/food/2026/cafe.jpg\n");
      expect((await filestore(["find", "cafe", "--kind", "folder"])).stdout).toBe("/food/cafés/\n");
      expect((await filestore(["find", "menu", "--in", "/food/2026"])).stdout).toBe(
        "/food/2026/Café Menu.PDF\n",
      );
      expect((await filestore(["find", "menu", "--in", "/c"])).stdout).toBe("");
      const json = JSON.parse((await filestore(["find", "menu", "--json"])).stdout);
      expect(json).toEqual([
        expect.objectContaining({ name: "Café Menu.PDF", kind: "file", path: "/food/2026/Café Menu.PDF" }),
      ]);
      expect((await filestore(["find", "x", "--kind", "spreadsheet"])).code).toBe(2);
      expect((await filestore(["find", "x", "--in", "/nope"])).code).toBe(4);
    },
    SLOW,
  );

  test(
    "versions: list, restore N (and back), download --version N; bad input is one line",
    async () => {
      const [current, earlier] = await versionsOf("/c/a.txt");
      const list = await filestore(["versions", "/c/a.txt"]);
      expect(list.stdout.split("\n")[0]).toMatch(
        /^\* 1 {2}-\s+7 B {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}current$/,
      );
      expect(list.stdout.split("\n")[1]).toContain(`  2  ${earlier?.id}  5 B  `);
      expect(await remoteText("/c/a.txt", "--version", "2")).toBe("first");
      expect(await remoteText("/c/a.txt", "--version", "1")).toBe("second!");

      const restored = await filestore(["versions", "/c/a.txt", "restore", "2"]);
      expect([restored.code, restored.stdout]).toEqual([
        0,
        expect.stringContaining("restored version 2 of /c/a.txt"),
      ]);
      expect(await remoteText("/c/a.txt")).toBe("first");
      const after = await versionsOf("/c/a.txt");
      expect(after.map((v) => v.sha256)).toEqual([earlier?.sha256 ?? "", current?.sha256 ?? ""]);
      expect((await filestore(["versions", "/c/a.txt", "restore", "2"])).code).toBe(0);
      expect(await remoteText("/c/a.txt")).toBe("second!");

      const cases: [string[], number, string][] = [
        [["versions", "/c/nope.txt"], 4, "filestore: no such file or folder: /c/nope.txt\n"],
        [["versions", "/c"], 1, "filestore: /c is a folder: only files have versions\n"],
        [
          ["versions", "/c/a.txt", "restore", "9"],
          4,
          "filestore: no version 9 of /c/a.txt: it has 1 (current) to 2 (see filestore versions /c/a.txt)\n",
        ],
        [["download", "/c/a.txt", "--version", "0"], 4, expect.stringContaining("no version 0 of /c/a.txt")],
        [["download", "/c", "--version", "1"], 1, "filestore: /c is a folder: only files have versions\n"],
        [["versions", "/c/a.txt", "restore", "1"], 2, expect.stringContaining("is the current content")],
        [["versions", "/c/a.txt", "restore"], 2, expect.stringContaining("usage: filestore versions")],
      ];
      for (const [args, code, stderr] of cases) {
        const r = await filestore(args);
        expect([args, r.code, r.stderr]).toEqual([args, code, stderr]);
      }
    },
    SLOW,
  );

  test(
    "trash restore --on-conflict; trash empty asks on a terminal, needs --yes off one, then purges everything",
    async () => {
      local("t.txt", "trashed");
      expect((await filestore(["upload", "t.txt", "--to", "/t"])).code).toBe(0);
      expect((await filestore(["rm", "/t/t.txt"])).code).toBe(0);
      expect((await filestore(["upload", "t.txt", "--to", "/t"])).code).toBe(0);
      const taken = await filestore(["trash", "restore", "/t/t.txt"]);
      expect([taken.code, taken.stderr]).toEqual([1, `filestore: /t/t.txt ${TAKEN}\n`]);
      const kept = await filestore(["trash", "restore", "/t/t.txt", "--on-conflict", "rename"]);
      expect([kept.code, kept.stdout]).toEqual([0, "restored /t/t.txt → /t/t (2).txt\n"]);

      expect((await filestore(["rm", "/t", "/dst/b.txt"])).code).toBe(0);
      const asked = await filestore(["trash", "empty"]);
      expect([asked.code, asked.stderr]).toEqual([
        2,
        "filestore: trash empty deletes the 2 entries of the trash for good: confirm with --yes (no terminal to ask on)\n",
      ]);
      // On a terminal (script(1) gives it one) it asks; anything but yes leaves the trash alone.
      const no = await onTerminal(["trash", "empty"], "n\n");
      expect([no.code, no.stdout]).toEqual([1, expect.stringContaining("the trash is left as it was")]);
      expect(no.stdout).toContain(
        "Delete the 2 entries of the trash (with everything in them) for good? [y/N]",
      );
      expect(JSON.parse((await filestore(["trash", "ls", "--json"])).stdout)).toHaveLength(2);
      const yes = await onTerminal(["trash", "empty"], "y\n");
      expect([yes.code, yes.stdout]).toEqual([
        0,
        expect.stringContaining("emptied the trash: 2 entries deleted for good"),
      ]);
      expect(JSON.parse((await filestore(["trash", "ls", "--json"])).stdout)).toEqual([]);

      expect((await filestore(["rm", "/dst/a.txt"])).code).toBe(0);
      expect(await filestore(["trash", "empty", "--yes"])).toMatchObject({
        code: 0,
        stdout: "emptied the trash: 1 entry deleted for good\n",
      });
      expect((await filestore(["trash", "empty", "-y"])).stdout).toBe("the trash is already empty\n");
    },
    SLOW,
  );
});
