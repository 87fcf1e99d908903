// Multipart completion killed (SIGKILL) at each of its steps, then completed again: before, during and
// after assembly; with the bytes in place but no row; in meta while it holds the owner's lock with the row
// written but not committed; and right after the row. Each time the next CompleteUploadSession (once the
// lease of the dead attempt ran out) answers the right SHA-256, the folder holds exactly one such file, and
// nothing is left over (one copy of the bytes, no parts). The crash points are the test-only failpoints
// (workers/lib/failpoint.ts). Services mode: MariaDB, Redis, two upload replicas, the killed process
// restarted; all-in-one: the one process killed and started again on its data.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CrashStack, startCrashStack } from "./crash-stack.ts";
import {
  connectCall,
  FILES,
  MiB,
  MODE,
  partOf,
  randomBytes,
  sha256,
  signedInUser,
  UPLOAD,
  type UploadSessionJson,
  uploadClient,
} from "./harness.ts";

/** Every file name under dir, recursively. */
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; isFile(): boolean }[])
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];

const POINTS = [
  ["upload.complete.begun", "before assembly"],
  ["upload.complete.assembling", "during assembly"],
  ["upload.complete.assembled", "after assembly, before the bytes are in place"],
  ["upload.complete.committed", "with the bytes in place, before the row"],
  ["meta.complete.row", "in meta, holding the owner's lock, the row written but not committed"],
  ["upload.complete.recorded", "after the row"],
] as const;

describe(`multipart completion killed at every step, completed again (${MODE})`, () => {
  const failpoints = mkdtempSync(join(tmpdir(), "filestore-failpoints-"));
  let stack: CrashStack;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    stack = await startCrashStack({
      FILESTORE_TEST_FAILPOINTS_DIR: failpoints,
      UPLOAD_COMPLETION_LEASE_SECONDS: "2",
    });
    user = await signedInUser(stack.url());
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(failpoints, { recursive: true, force: true });
  });

  const rpc = (service: string, method: string, body: unknown) =>
    connectCall(stack.url(), `${service}/${method}`, body, { authorization: `Bearer ${user.accessToken}` });

  /** The PID a failpoint froze (it writes it once it has the point). */
  async function frozenAt(point: string): Promise<number> {
    const hit = join(failpoints, `${point}.hit`);
    for (const end = Date.now() + 30_000; Date.now() < end; await Bun.sleep(25)) {
      const pid = existsSync(hit) ? readFileSync(hit, "utf8").trim() : "";
      if (pid) return Number(pid);
    }
    throw new Error(`nothing reached the failpoint ${point}`);
  }

  test.each(POINTS)(
    "killed at %s (%s)",
    async (point) => {
      const folder = (await rpc(FILES, "CreateFolder", { name: point })).json.folder as { id: string };
      const data = randomBytes(6 * MiB + Math.floor(Math.random() * 1000));
      const name = `${point}.bin`;
      const created = await rpc(UPLOAD, "CreateUploadSession", {
        name,
        parentId: folder.id,
        size: String(data.length),
        sha256: sha256(data),
        partSize: String(5 * MiB),
      });
      expect(created.status).toBe(200);
      const { sessionId } = created.json as unknown as UploadSessionJson;
      const parts = uploadClient(stack.url(), user.accessToken);
      for (const n of [1, 2]) {
        const res = await parts.put(sessionId, n, partOf(data, 5 * MiB, n));
        expect(res.status).toBe(200);
      }

      writeFileSync(join(failpoints, `${point}.arm`), "");
      const first = rpc(UPLOAD, "CompleteUploadSession", { sessionId }).catch(() => undefined);
      await stack.crash(await frozenAt(point));
      await first; // whatever it answered: the process died under it

      // Completing again: "being completed" while the dead attempt's lease runs, then the file.
      let done = await rpc(UPLOAD, "CompleteUploadSession", { sessionId }).catch(() => undefined);
      for (const end = Date.now() + 30_000; done?.status !== 200 && Date.now() < end; ) {
        if (done) expect([point, done.json.code]).toEqual([point, "failed_precondition"]);
        await Bun.sleep(250);
        done = await rpc(UPLOAD, "CompleteUploadSession", { sessionId }).catch(() => undefined);
      }
      expect([point, done?.status]).toEqual([point, 200]);
      const file = done?.json.file as { sha256: string; size: string; parentId: string; name: string };
      expect([file.sha256, file.size, file.parentId, file.name]).toEqual([
        sha256(data),
        String(data.length),
        folder.id,
        name,
      ]);
      const listed = await rpc(FILES, "ListFiles", { parentId: folder.id });
      expect((listed.json.files as { name: string }[]).map((f) => f.name)).toEqual([name]);
      // No orphan: one stored copy of these bytes, and the session's parts are gone.
      expect(
        filesUnder(join(stack.blobRoot, "blobs")).filter((f) => f.startsWith(sha256(data))),
      ).toHaveLength(1);
      expect(existsSync(join(stack.blobRoot, "parts", sessionId))).toBe(false);
    },
    90_000,
  );
});
