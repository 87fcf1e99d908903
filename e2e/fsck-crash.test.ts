// fsck after a crash: an upload killed (kill -9, at the test-only failpoint upload.put.committed) after its
// bytes were committed and before the file row was written leaves bytes no row names. After the restart
// `filestore admin fsck` reports them as an orphan (exit 5), `--repair` deletes them (exit 0: nothing is
// left), and the next check is clean. All-in-one kills the whole process; services mode the upload worker.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import { MODE, ROOT, randomBytes, run, signedInUser } from "./harness.ts";

setDefaultTimeout(300_000); // a restart and four checks on a busy machine
const POINT = "upload.put.committed";

describe(`fsck finds the bytes of an upload killed before its row (${MODE})`, () => {
  const failpoints = mkdtempSync(join(tmpdir(), "filestore-fsck-failpoints-"));
  const work = mkdtempSync(join(tmpdir(), "filestore-fsck-crash-e2e-"));
  let stack: CrashStack;
  let admin: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    stack = await startCrashStack({
      FILESTORE_TEST_FAILPOINTS_DIR: failpoints,
      // Every object written before a check is judged; no timer collects or recounts meanwhile.
      FSCK_GRACE_SECONDS: "0",
      GC_INTERVAL_SECONDS: "0",
      QUOTA_RECOUNT_SECONDS: "0",
    });
    admin = await signedInUser(stack.url()); // the first user: an administrator
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(failpoints, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const filestore = (args: string[], input?: string) =>
    run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
      env: { ...process.env, XDG_CONFIG_HOME: work, FILESTORE_URL: stack.url() },
      cwd: work,
    });
  const fsck = async (...more: string[]) => {
    const r = await filestore(["admin", "fsck", ...more, "--json"]);
    if (r.code !== 0 && r.code !== 5) throw new Error(`fsck: ${r.code} ${r.stderr}`);
    return { ...JSON.parse(r.stdout), exit: r.code };
  };

  async function frozenAt(point: string): Promise<number> {
    const hit = join(failpoints, `${point}.hit`);
    for (const end = Date.now() + 30_000; Date.now() < end; await Bun.sleep(25)) {
      const pid = existsSync(hit) ? readFileSync(hit, "utf8").trim() : "";
      if (pid) return Number(pid);
    }
    throw new Error(`nothing reached the failpoint ${point}`);
  }

  /** Signs the CLI in (again after a restart: all-in-one comes back on another port). */
  const login = async () =>
    expect((await filestore(["login", admin.username, "--password-stdin"], `${admin.password}\n`)).code).toBe(
      0,
    );

  test("reported as an orphan, deleted by --repair, then clean", async () => {
    await login();
    expect(await fsck()).toMatchObject({ exit: 0, clean: true, blobsChecked: 0 });

    writeFileSync(join(failpoints, `${POINT}.arm`), "");
    const data = randomBytes(40_000);
    const upload = fetch(`${stack.url()}/upload/v1/files?name=crash.bin`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin.accessToken}` },
      body: data,
    }).catch(() => undefined); // the process dies under it
    await stack.crash(await frozenAt(POINT));
    // Services mode: the gateway may send the PUT again to the other upload replica, which stores it
    // (a blob with its row, beside the killed replica's orphan).
    const stored = (await upload)?.status === 201 ? 1 : 0;
    await login();
    await Bun.sleep(5); // the bytes older than "now" by the time the check runs (grace 0)

    const dry = await fsck();
    expect(dry).toMatchObject({
      exit: 5,
      clean: false,
      blobsChecked: stored,
      orphans: { count: 1, bytes: 40_000, deleted: 0 },
      missing: { count: 0 },
    });
    const repaired = await fsck("--repair");
    expect(repaired).toMatchObject({ exit: 0, repair: true, orphans: { count: 1, deleted: 1 } });
    expect(await fsck()).toMatchObject({ exit: 0, clean: true, objectsListed: stored });
  });
});
