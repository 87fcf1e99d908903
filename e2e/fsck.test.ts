// `filestore admin fsck` end to end against a running stack (all-in-one by default), as an administrator
// runs it: a blob's bytes deleted and bytes without a row left behind the server's back; a dry run
// reports both (the missing one with the file it breaks) and changes nothing; --repair deletes the orphan;
// the second run finds only what no repair can bring back. Non-administrators are refused.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  ACCOUNT,
  connectCall,
  MODE,
  ROOT,
  randomBytes,
  run,
  type Stack,
  sha256,
  startStack,
} from "./harness.ts";

setDefaultTimeout(120_000);
const password = "correct horse battery";
let stack: Stack;
let work: string;
let token: string;

beforeAll(async () => {
  // No grace period: every object written before a check is judged.
  stack = await startStack({ FSCK_GRACE_SECONDS: "0", GC_INTERVAL_SECONDS: "0", QUOTA_RECOUNT_SECONDS: "0" });
  work = mkdtempSync(join(tmpdir(), "filestore-fsck-e2e-"));
  expect(
    (await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signup`, { username: "root", password })).status,
  ).toBe(200);
  const r = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signin`, { username: "root", password });
  token = (r.json.tokens as { accessToken: string }).accessToken;
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

const filestore = (args: string[], input?: string, config = "root") =>
  run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
    env: { ...process.env, XDG_CONFIG_HOME: join(work, config), FILESTORE_URL: stack.gatewayUrl },
    cwd: work,
  });
/** The report, with the exit code as `exit` (0: nothing left to fix, 5: problems left). */
const fsck = async (...more: string[]) => {
  const r = await filestore(["admin", "fsck", ...more, "--json"]);
  if (r.code !== 0 && r.code !== 5) throw new Error(`fsck: ${r.code} ${r.stderr}`);
  return { ...JSON.parse(r.stdout), exit: r.code };
};
const upload = (name: string, data: Uint8Array<ArrayBuffer>) =>
  fetch(`${stack.gatewayUrl}/upload/v1/files?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: data,
  });
const onDisk = (sha: string) => [
  ...new Bun.Glob(`**/blobs/*/*/${sha}.*`).scanSync({ cwd: stack.dataDir, absolute: true }),
];

describe(`filestore admin fsck (${MODE})`, () => {
  test("finds missing and orphan bytes; a dry run changes nothing; --repair deletes the orphan; then only the missing one is left", async () => {
    expect((await filestore(["login", "root", "--password-stdin"], `${password}\n`)).code).toBe(0);
    const kept = randomBytes(20_000);
    const lost = randomBytes(30_000);
    expect((await upload("kept.bin", kept)).status).toBe(201);
    expect((await upload("lost.bin", lost)).status).toBe(201);
    expect(await fsck()).toMatchObject({
      exit: 0,
      clean: true,
      blobsChecked: 2,
      objectsListed: 2,
      usersChecked: 1,
    });

    // Behind the server's back: lost.bin's bytes deleted, and bytes no row names beside kept.bin's.
    const [lostPath] = onDisk(sha256(lost));
    unlinkSync(lostPath as string);
    const [keptPath] = onDisk(sha256(kept));
    const orphanSha = "ab".repeat(32);
    const orphanPath = join(
      dirname(dirname(dirname(keptPath as string))),
      "ab",
      "ab",
      `${orphanSha}.0123456789ab`,
    );
    mkdirSync(dirname(orphanPath), { recursive: true });
    writeFileSync(orphanPath, "orphan bytes");
    await Bun.sleep(5); // older than "now" by the time the check runs (grace 0)

    const dry = await fsck();
    expect(dry).toMatchObject({
      exit: 5,
      repair: false,
      clean: false,
      missing: { count: 1, bytes: 30_000 },
      orphans: { count: 1, bytes: 12, deleted: 0 },
      refcountDrifts: { count: 0 },
      usageDrifts: { count: 0 },
    });
    expect(dry.missing.items[0].files).toMatchObject([
      { username: "root", name: "lost.bin", version: false },
    ]);
    expect(dry.orphans.items[0].location).toBe(`blobs/ab/ab/${orphanSha}.0123456789ab`);
    expect(onDisk(orphanSha)).toHaveLength(1);

    // For people: progress, then the report.
    const human = await filestore(["admin", "fsck"]);
    expect(human.code).toBe(5);
    expect(human.stdout).toContain("missing bytes: 1 blobs");
    expect(human.stdout).toContain("root:lost.bin");
    expect(human.stdout).toContain("run again with --repair");

    const repaired = await fsck("--repair");
    // The missing bytes are still missing: problems left, exit code 5.
    expect(repaired).toMatchObject({
      exit: 5,
      repair: true,
      orphans: { count: 1, deleted: 1 },
      missing: { count: 1 },
    });
    expect(onDisk(orphanSha)).toHaveLength(0);
    expect(await fsck()).toMatchObject({ clean: false, missing: { count: 1 }, orphans: { count: 0 } });
  });

  test("--scrub finds content whose bytes changed behind the server's back, with its file", async () => {
    const data = randomBytes(10_000);
    expect((await upload("rot.bin", data)).status).toBe(201);
    const [path] = onDisk(sha256(data));
    const flipped = data.slice();
    flipped[77] = (flipped[77] as number) ^ 1;
    rmSync(path as string);
    writeFileSync(path as string, flipped);
    const r = await fsck("--scrub", "--scrub-rate", "1G");
    expect(r).toMatchObject({ exit: 5, scrub: { corrupt: { count: 1, bytes: 10_000, repaired: 0 } } });
    expect(r.scrub.corrupt.items[0]).toMatchObject({ sha256: sha256(data), foundSha256: sha256(flipped) });
    expect(r.scrub.corrupt.items[0].files).toMatchObject([{ username: "root", name: "rot.bin" }]);
    // Without --scrub the bytes are not read: same size, nothing seen.
    expect((await fsck()).scrub).toBeUndefined();
    const misuse = await filestore(["admin", "fsck", "--scrub-rate", "1G"]);
    expect(misuse.code).toBe(2);
  });

  test("a non-administrator is refused", async () => {
    const name = `u${Date.now().toString(36)}`;
    expect(
      (await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signup`, { username: name, password })).status,
    ).toBe(200);
    expect((await filestore(["login", name, "--password-stdin"], `${password}\n`, "other")).code).toBe(0);
    const r = await filestore(["admin", "fsck"], undefined, "other");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("administrator");
  });
});
