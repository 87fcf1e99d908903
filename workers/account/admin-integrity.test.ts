// AdminService.CheckIntegrity through the real file worker's FileAdminService.CheckIntegrity (over the
// internal secret, as in every mode) on a local store: progress messages then the report; a dry run
// reports the orphan bytes and keeps them; a repair deletes them and is audited; non-administrators and a
// missing checker are refused.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IntegrityReport } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { fileModule } from "../file/service.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { createLocalBlobStore } from "../lib/blobstore/local/index.ts";
import { memoryBus } from "../lib/bus/memory.ts";
import { memoryTransport } from "../lib/clients.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import type { CheckIntegrity } from "./account.ts";
import { setupAccount, testSecret } from "./testing.ts";
import { fileIntegrityCheck } from "./wire.ts";

const password = "correct horse";
const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => Code[ConnectError.from(e).code],
  );
const root = await mkdtemp(join(tmpdir(), "filestore-admin-fsck-"));
afterAll(() => rm(root, { recursive: true, force: true }));

describe("AdminService.CheckIntegrity", () => {
  test("streams progress then the report; a dry run keeps orphans, a repair deletes them (audited)", async () => {
    let check: CheckIntegrity | undefined;
    const s = await setupAccount({ checkIntegrity: (req, signal) => (check as CheckIntegrity)(req, signal) });
    const store = await createLocalBlobStore(root);
    const file = fileModule({
      meta: s.deps.meta,
      bus: memoryBus({ retain: 100 }),
      watches: new StreamLimit(1),
      collectGarbage: async () => ({ deleted: 0, failed: 0 }),
      fsck: { meta: s.deps.meta, storeFor: storeForAll(store), backends: ["local"], graceMs: 0 },
    });
    check = fileIntegrityCheck(memoryTransport(file, s.interceptors, testSecret));

    await s.client.signup({ username: "root", password });
    await s.client.signup({ username: "bob", password });
    const token = async (username: string) =>
      (await s.client.signin({ username, password })).tokens?.accessToken ?? "";
    const h = auth(await token("root"));
    const orphan = await (await store.stage(new Blob(["no row names me"]).stream())).commit();
    await Bun.sleep(5); // older than the check's "now" (no grace period here)

    const run = async (repair: boolean) => {
      const phases: string[] = [];
      let report: IntegrityReport | undefined;
      for await (const m of s.admin.checkIntegrity({ repair }, h)) {
        if (m.event.case === "progress") phases.push(m.event.value.phase);
        if (m.event.case === "report") report = m.event.value;
      }
      return { phases, report };
    };

    const dry = await run(false);
    expect(dry.phases).toEqual(["blobs", "stuck", "objects", "usage", "done"]);
    expect([dry.report?.orphanCount, dry.report?.orphanBytes, dry.report?.orphans[0]?.location]).toEqual([
      1n,
      15n,
      orphan,
    ]);
    expect(await store.stat(orphan)).toEqual({ size: 15 });

    const fixed = await run(true);
    expect([fixed.report?.repair, fixed.report?.orphansDeleted]).toEqual([true, 1n]);
    expect(await store.stat(orphan)).toBeUndefined();
    expect((await run(false)).report?.orphanCount).toBe(0n);
    const { events } = await s.admin.listAuditEvents({ pageSize: 10 }, h);
    expect(events.filter((e) => e.action === "integrity.repair")).toHaveLength(1);

    const bob = auth(await token("bob"));
    expect(await code(s.admin.checkIntegrity({}, bob)[Symbol.asyncIterator]().next())).toBe(
      "PermissionDenied",
    );
    store.close();
  });

  test("without a checker: Unavailable", async () => {
    const s = await setupAccount();
    await s.client.signup({ username: "root", password });
    const t = (await s.client.signin({ username: "root", password })).tokens?.accessToken ?? "";
    const stream = s.admin.checkIntegrity({}, auth(t));
    expect(await code(stream[Symbol.asyncIterator]().next())).toBe("Unavailable");
  });
});
