// The `filestore` CLI against a running stack, as a user runs it: the npm bin (cli/bin.mjs under Node,
// which runs cli/main.ts with the Bun from node_modules), credentials in a private XDG_CONFIG_HOME.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomFillSync } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { link } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMMANDS } from "../cli/commands.ts";
import { partialPath, statePath } from "../cli/download.ts";
import { sha256File } from "../cli/upload.ts";
import { BIN, ROOT, run, type Stack, signedInUser } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

const MiB = 1024 * 1024;
const BIG = 200 * MiB;

let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;
let work: string;
let config: string;

beforeAll(async () => {
  stack = await sharedStack();
  user = await signedInUser(stack.gatewayUrl);
  work = mkdtempSync(join(tmpdir(), "filestore-cli-e2e-"));
  config = join(work, "config");
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const env = () => ({ ...process.env, XDG_CONFIG_HOME: config, FILESTORE_URL: stack.gatewayUrl });

/** `filestore args…` through the npm bin; resolves with exit code and output. */
const filestore = (args: string[], input?: string) =>
  run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, { env: env(), cwd: work });

/**
 * Runs the CLI process itself (Bun on cli/main.ts) and calls `act` once its progress (plain lines on
 * stderr, as off a terminal) reports at least `atPercent`. Returns the last percentage seen then, and
 * everything the process printed.
 */
async function atProgress(
  args: string[],
  atPercent: number,
  act: (p: Bun.Subprocess) => void,
): Promise<{ seen: number; stderr: string; code: number | null; signal: Bun.Subprocess["signalCode"] }> {
  const p = Bun.spawn([join(BIN, "bun"), join(ROOT, "cli/main.ts"), ...args], {
    env: env(),
    cwd: work,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  let seen = 0;
  const decoder = new TextDecoder();
  for await (const chunk of p.stderr as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk);
    if (seen >= atPercent) continue;
    for (const m of text.matchAll(/: (\d+)% \(/g)) seen = Math.max(seen, Number(m[1]));
    if (seen >= atPercent) act(p);
  }
  await p.exited;
  return { seen, stderr: text, code: p.exitCode, signal: p.signalCode };
}

/** Runs the CLI and SIGKILLs it once its progress reports at least `atPercent`. */
async function killMidway(args: string[], atPercent: number): Promise<{ seen: number; stderr: string }> {
  const r = await atProgress(args, atPercent, (p) => p.kill("SIGKILL"));
  expect(r.signal).toBe("SIGKILL"); // killed mid-way, not finished
  return r;
}

/** A file of random bytes, written in 8 MiB slices (never all in memory). */
async function randomFile(name: string, size: number): Promise<string> {
  const path = join(work, name);
  const out = Bun.file(path).writer();
  for (let done = 0; done < size; done += 8 * MiB)
    out.write(randomFillSync(Buffer.alloc(Math.min(8 * MiB, size - done))));
  await out.end();
  return path;
}

interface Uploaded {
  id: string;
  sha256: string;
  size: number;
  how: string;
  partCount: number;
  partsSent: number;
  partsSkipped: number;
  bytesSent: number;
}

const note = `hello ${Date.now()}\n`;

/** The 200 MiB file uploaded by the first upload test. */
let big: { path: string; id: string; sha256: string } | undefined;

const json = <T>(stdout: string) => JSON.parse(stdout.trim().split("\n").pop() as string) as T;

describe(`filestore CLI (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("--help for every command; usage errors exit 2; not signed in exits 3", async () => {
    const overview = await filestore(["--help"]);
    expect(overview.code).toBe(0);
    for (const c of COMMANDS) {
      expect(overview.stdout).toContain(`  ${c.name} `);
      const r = await filestore([c.name, "--help"]);
      expect([c.name, r.code]).toEqual([c.name, 0]);
      expect(r.stdout).toStartWith(`Usage: filestore ${c.name}`);
    }
    const bad = await filestore(["upload", "--parallel", "0", "x"]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "filestore: --parallel must be a whole number from 1 to 64\n",
    ]);
    expect((await filestore(["frobnicate"])).code).toBe(2);
    const anonymous = await filestore(["whoami"]);
    expect([anonymous.code, anonymous.stderr]).toEqual([
      3,
      `filestore: not signed in to ${stack.gatewayUrl}: run filestore login\n`,
    ]);
  }, 180_000); // two processes per command, one after the other

  test("login: a wrong password exits 3; the right one stores tokens in a 0600 file in a 0700 dir", async () => {
    const wrong = await filestore(["login", user.username, "--password-stdin"], "not the password\n");
    expect(wrong.code).toBe(3);
    expect(existsSync(join(config, "filestore", "credentials.json"))).toBe(false);

    const r = await filestore(["login", user.username, "--password-stdin"], `${user.password}\n`);
    expect([r.code, r.stdout]).toEqual([0, `signed in to ${stack.gatewayUrl} as ${user.username}\n`]);
    const file = join(config, "filestore", "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, "filestore")).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file, "utf8")).servers[stack.gatewayUrl];
    expect(saved).toMatchObject({ username: user.username, userId: user.user.id });
    expect(JSON.stringify(saved)).not.toContain(user.password);
  });

  test("the access token is refreshed automatically, also by several processes at once", async () => {
    const file = join(config, "filestore", "credentials.json");
    const saved = () => JSON.parse(readFileSync(file, "utf8")).servers[stack.gatewayUrl];
    const edit = (change: Record<string, unknown>) => {
      const all = JSON.parse(readFileSync(file, "utf8"));
      Object.assign(all.servers[stack.gatewayUrl], change);
      writeFileSync(file, JSON.stringify(all));
    };
    const whoami = `${user.username} (id ${user.user.id}) on ${stack.gatewayUrl}\n`;
    // About to expire: three processes need a new token at once; one refreshes, the others reuse it
    // (refresh tokens rotate, and presenting a used one would revoke the whole session).
    const before = saved().refreshToken;
    edit({ accessTokenExpiresAt: Date.now() });
    const runs = await Promise.all([1, 2, 3].map(() => filestore(["whoami"])));
    for (const r of runs) expect([r.code, r.stdout, r.stderr]).toEqual([0, whoami, ""]);
    expect(saved().refreshToken).not.toBe(before);
    expect(saved().accessTokenExpiresAt).toBeGreaterThan(Date.now() + 60_000);
    // A token the server refuses although it looks valid here: refreshed, and the call retried.
    const rotated = saved().refreshToken;
    edit({ accessToken: "not.a.token" });
    const r = await filestore(["whoami"]);
    expect([r.code, r.stdout]).toEqual([0, whoami]);
    expect(saved().refreshToken).not.toBe(rotated);
  });

  test("upload 200 MiB in parallel parts; again: instant (proof of possession); the server holds the same bytes", async () => {
    const path = await randomFile("big.bin", BIG);
    const local = await sha256File(path);
    const r = await filestore(["upload", "--json", path]);
    expect(r.code).toBe(0);
    const up = json<Uploaded>(r.stdout);
    // The server hashed what it assembled from the parts.
    expect([up.how, up.size, up.sha256, up.partsSent, up.partsSkipped, up.bytesSent]).toEqual([
      "uploaded",
      BIG,
      local,
      up.partCount,
      0,
      BIG,
    ]);
    expect(up.partCount).toBeGreaterThan(1);
    expect(r.stderr).toContain("big.bin: 100% (200.0 MiB of 200.0 MiB)");

    // One name per folder (issue 16): the same bytes again under another name (a hard link).
    const copy = join(dirname(path), "big-again.bin");
    await link(path, copy);
    const again = await filestore(["upload", "--json", copy]);
    const second = json<Uploaded>(again.stdout);
    expect([again.code, second.how, second.bytesSent, second.sha256]).toEqual([0, "instant", 0, local]);
    expect(second.id).not.toBe(up.id);
    big = { path, id: up.id, sha256: local };
  }, 120_000);

  test("an upload killed (SIGKILL) mid-way resumes: only the missing parts are sent, same content", async () => {
    const path = await randomFile("resume.bin", BIG);
    const local = await sha256File(path);
    const killed = await killMidway(["upload", path], 20);
    expect(killed.seen).toBeLessThan(100);

    const r = await filestore(["upload", "--json", path]);
    expect(r.code).toBe(0);
    const up = json<Uploaded>(r.stdout);
    expect(r.stderr).toMatch(/resume\.bin: resuming: [1-9][0-9]* of [0-9]+ parts already uploaded/);
    expect(up.how).toBe("uploaded");
    expect(up.partsSkipped).toBeGreaterThan(0);
    expect(up.partsSent).toBe(up.partCount - up.partsSkipped);
    expect(up.bytesSent).toBeLessThan(BIG);
    expect([up.size, up.sha256]).toEqual([BIG, local]);
  }, 120_000);

  test("a file that changes during its upload: a clear error, and no file appears", async () => {
    const path = await randomFile("growing.bin", BIG);
    const r = await atProgress(["upload", "--parallel", "1", path], 10, () => appendFileSync(path, "more"));
    expect(r.seen).toBeLessThan(100);
    expect([r.code, r.signal]).toEqual([1, null]);
    expect(r.stderr).toContain("growing.bin changed while it was being uploaded");
    const ls = await filestore(["ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).not.toContain("growing.bin");
  }, 120_000);

  test("download 200 MiB in parallel ranges; killed (SIGKILL) mid-way, it resumes; the bytes match", async () => {
    if (!big) throw new Error("needs the 200 MiB upload above");
    const whole = await filestore(["download", "--json", `id:${big.id}`, "whole.bin"]);
    expect(whole.code).toBe(0);
    expect(json<{ chunksSkipped: number; bytesFetched: number }>(whole.stdout)).toMatchObject({
      chunksSkipped: 0,
      bytesFetched: BIG,
    });
    expect(await sha256File(join(work, "whole.bin"))).toBe(big.sha256);

    const dest = join(work, "resumed.bin");
    const killed = await killMidway(["download", `id:${big.id}`, dest], 20);
    expect(killed.seen).toBeLessThan(100);
    expect([existsSync(dest), existsSync(partialPath(dest)), existsSync(statePath(dest))]).toEqual([
      false,
      true,
      true,
    ]);
    const r = await filestore(["download", "--json", `id:${big.id}`, dest]);
    expect(r.code).toBe(0);
    const down = json<{ chunksSkipped: number; chunkCount: number; bytesFetched: number }>(r.stdout);
    expect(r.stderr).toMatch(/resuming: [1-9][0-9]* of [0-9]+ chunks already here/);
    expect(down.chunksSkipped).toBeGreaterThan(0);
    expect(down.bytesFetched).toBeLessThan(BIG);
    expect(await sha256File(dest)).toBe(big.sha256);
    expect([existsSync(partialPath(dest)), existsSync(statePath(dest))]).toEqual([false, false]);
  }, 120_000);

  test("mkdir, ls, mv (move and rename), rm; missing paths exit 4", async () => {
    await Bun.write(join(work, "note.txt"), note);
    expect((await filestore(["mkdir", "/docs"])).code).toBe(0);
    expect((await filestore(["upload", "note.txt", "--to", "/docs"])).code).toBe(0);
    expect(await filestore(["ls", "/docs"])).toMatchObject({ code: 0, stdout: "note.txt\n" });
    expect((await filestore(["ls", "-l", "/"])).stdout).toMatch(/^d .* docs\/$/m);

    expect((await filestore(["mv", "/docs/note.txt", "/docs/renamed.txt"])).code).toBe(0);
    expect((await filestore(["ls", "/docs"])).stdout).toBe("renamed.txt\n");
    expect((await filestore(["mv", "/docs/renamed.txt", "/"])).code).toBe(0);
    expect((await filestore(["ls", "/docs"])).stdout).toBe("");
    expect((await filestore(["ls", "/"])).stdout.split("\n")).toContain("renamed.txt");
    expect((await filestore(["mv", "/renamed.txt", "/docs/note.txt"])).code).toBe(0); // move + rename
    expect((await filestore(["ls", "/docs"])).stdout).toBe("note.txt\n");

    expect((await filestore(["rm", "/docs/note.txt"])).code).toBe(0);
    expect((await filestore(["ls", "/docs"])).stdout).toBe("");

    const missing = await filestore(["ls", "/nope"]);
    expect([missing.code, missing.stderr]).toEqual([4, "filestore: no such file or folder: /nope\n"]);
    expect((await filestore(["download", "/docs/gone.txt"])).code).toBe(4);
    expect((await filestore(["rm", "/nope"])).code).toBe(4);
  }, 180_000); // some twenty CLI processes one after another: slow to start on a loaded machine

  test("link: a signed URL that needs no login", async () => {
    await Bun.write(join(work, "linked.txt"), note);
    expect((await filestore(["upload", "linked.txt", "--to", "/docs"])).code).toBe(0);
    const link = await filestore(["link", "/docs/linked.txt"]);
    expect(link.code).toBe(0);
    const res = await fetch(link.stdout.trim());
    expect([res.status, await res.text()]).toEqual([200, note]);
  });

  test("logout revokes the session on the server and forgets it locally", async () => {
    const file = join(config, "filestore", "credentials.json");
    const refreshToken = JSON.parse(readFileSync(file, "utf8")).servers[stack.gatewayUrl].refreshToken;
    const r = await filestore(["logout"]);
    expect([r.code, r.stdout]).toEqual([0, `signed out of ${stack.gatewayUrl}\n`]);
    expect(JSON.parse(readFileSync(file, "utf8")).servers[stack.gatewayUrl]).toBeUndefined();
    const res = await fetch(`${stack.gatewayUrl}/filestore.account.v1.AccountService/Refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    });
    expect(res.status).toBe(401);
    expect((await filestore(["whoami"])).code).toBe(3);
    // Signed in again for whatever runs next.
    expect((await filestore(["login", user.username, "--password-stdin"], `${user.password}\n`)).code).toBe(
      0,
    );
  });
});
