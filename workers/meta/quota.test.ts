// Quotas in the database, on SQLite and MariaDB: parallel sessions and instant uploads of one user against
// a quota (exactly the ones that fit succeed), reservations turned into usage or released (abort, expiry,
// failed completion), data-plane holds, copies, purge and version trimming giving usage back, the
// recount fixing drift, and bad input.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import * as content from "./content.ts";
import { copyFile } from "./copy.ts";
import type { Db } from "./db/database.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import * as quota from "./quota.ts";
import { metaTestClient, sessionRows } from "./testing.ts";
import * as trash from "./trash.ts";
import * as uploads from "./uploads.ts";
import { createUser } from "./users.ts";
import { restoreVersion } from "./versions.ts";

const MiB = 1024 * 1024;
const RULES: quota.QuotaRules = { defaultBytes: 100 * MiB };

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) =>
      `${ConnectError.from(e).code === Code.ResourceExhausted ? "exhausted" : "other"}:${reasonOf(e) ?? ""}`,
  );

for (const target of testDatabases()) {
  describe(`quotas on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
    });
    afterAll(() => drop());

    let n = 0;
    const newUser = async () => (await createUser(db, `u${++n}`, "x", 0)).id;
    const counters = (id: string) =>
      db
        .selectFrom("users")
        .select(["used_bytes", "reserved_bytes", "pending_bytes"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow()
        .then((r) => ({
          used: Number(r.used_bytes),
          reserved: Number(r.reserved_bytes),
          pending: Number(r.pending_bytes),
        }));
    const blob = (c: string, size: number) => ({
      sha256: c.repeat(64),
      sha1: "",
      size,
      backend: "local",
      location: `blobs/${c}-${crypto.randomUUID()}`,
    });
    const session = sessionRows("quota");
    const refcount = async (c: string) =>
      Number(
        (
          await db
            .selectFrom("blobs")
            .select("refcount")
            .where("sha256", "=", c.repeat(64))
            .executeTakeFirstOrThrow()
        ).refcount,
      );

    test("20 parallel sessions: exactly the ones that fit are reserved; completion, abort and expiry settle them", async () => {
      const alice = await newUser();
      const sizes = Array.from({ length: 20 }, (_, i) => (3 + (i % 7)) * MiB); // 3..9 MiB, 120 MiB in all
      const rows = sizes.map((size, i) => session(alice, { size, name: `f${i}.bin`, expires_at: 1000 }));
      const results = await Promise.all(
        rows.map((r) =>
          uploads.openSession(db, r, { quota: RULES }).then(
            () => "ok",
            (e: unknown) => e,
          ),
        ),
      );
      const ok = rows.filter((_, i) => results[i] === "ok");
      const refused = rows.filter((_, i) => results[i] !== "ok");
      const reserved = ok.reduce((s, r) => s + r.size, 0);
      expect(reserved).toBeLessThanOrEqual(100 * MiB);
      expect(refused.length).toBeGreaterThan(0);
      // Nothing refused would have fitted beside what was reserved (usage only grew meanwhile).
      for (const r of refused) expect(reserved + r.size).toBeGreaterThan(100 * MiB);
      for (const e of results.filter((r) => r !== "ok")) {
        expect(reasonOf(e)).toBe(Reason.QUOTA_EXCEEDED);
        expect((e as ConnectError).rawMessage).toMatch(
          /^quota exceeded: .* of 100 MiB used, this upload needs \d+ MiB/,
        );
      }
      // Refused sessions were never recorded.
      const recorded = await db
        .selectFrom("upload_sessions")
        .select("id")
        .where("owner_id", "=", alice)
        .execute();
      expect(recorded.length).toBe(ok.length);
      expect(await counters(alice)).toEqual({ used: 0, reserved, pending: 0 });

      // A third completes (in parallel), a third is aborted, the rest expire and are swept.
      const [done, aborted] = [0, 1].map((k) => ok.filter((_, i) => i % 3 === k)) as [typeof ok, typeof ok];
      await Promise.all(
        done.map(async (s, i) => {
          expect(await uploads.takeCompletion(db, s.id, `a${i}`, 60_000, 10)).toEqual({ done: true });
          await content.addFileWithContent(
            db,
            { ownerId: alice, parentId: "", name: s.name, quota: RULES, held: { reserved: s.size } },
            blob(String(i % 10), s.size),
            10,
            { within: (tx, f) => uploads.completeWithin(tx, s.id, `a${i}`, f.id) },
          );
        }),
      );
      await Promise.all(aborted.map((s) => uploads.abortSession(db, s.id)));
      // The sweeper: expired sessions are aborted, then deleted; an abort twice releases once.
      const swept = await uploads.expiredSessions(db, 2000, 100);
      for (const s of swept) if (await uploads.abortSession(db, s.id)) await uploads.deleteSession(db, s.id);
      expect(await uploads.abortSession(db, aborted[0]?.id ?? "")).toBe(false);
      const used = done.reduce((s, r) => s + r.size, 0);
      expect(await counters(alice)).toEqual({ used, reserved: 0, pending: 0 });
      const usage = await quota.usageOf(db, RULES, alice);
      expect([usage.used, usage.files, usage.quota]).toEqual([used, done.length, 100 * MiB]);
      expect((await quota.recountUsage(db, 5000)).drifts).toEqual([]);
    });

    test("parallel instant uploads: exactly the ones that fit are linked and charged in full", async () => {
      const bob = await newUser();
      await quota.setQuota(db, bob, 50 * MiB);
      const known = blob("e", 12 * MiB);
      await content.addFileWithContent(db, { ownerId: await newUser(), parentId: "", name: "src" }, known, 1);
      const tries = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          codeOf(
            content.addFileForExistingBlob(
              db,
              { ownerId: bob, parentId: "", name: `i${i}`, quota: RULES },
              known.sha256,
              2,
            ),
          ),
        ),
      );
      expect(tries.filter((t) => t === "ok").length).toBe(4);
      expect(tries.filter((t) => t === `exhausted:${Reason.QUOTA_EXCEEDED}`).length).toBe(16);
      expect(await counters(bob)).toEqual({ used: 48 * MiB, reserved: 0, pending: 0 });
      const rows = await db.selectFrom("files").select("id").where("owner_id", "=", bob).execute();
      expect(rows.length).toBe(4);
      const b = await content.findBlob(db, known.sha256);
      expect(b?.refcount).toBe(5);
    });

    test("data-plane holds: refused past the quota, taken over by the file or given back", async () => {
      const carol = await newUser();
      await quota.setQuota(db, carol, 10 * MiB);
      await quota.reservePending(db, RULES, carol, 6 * MiB, 1);
      const over = await codeOf(quota.reservePending(db, RULES, carol, 5 * MiB, 1));
      expect(over).toBe(`exhausted:${Reason.QUOTA_EXCEEDED}`);
      await content.addFileWithContent(
        db,
        { ownerId: carol, parentId: "", name: "put.bin", quota: RULES, held: { pending: 6 * MiB } },
        blob("c", 6 * MiB),
        1,
      );
      expect(await counters(carol)).toEqual({ used: 6 * MiB, reserved: 0, pending: 0 });
      await quota.reservePending(db, RULES, carol, 4 * MiB, 1);
      await quota.releasePending(db, carol, 4 * MiB);
      // A file larger than its hold is charged the rest under the quota: refused, nothing written.
      await quota.reservePending(db, RULES, carol, 1 * MiB, 1);
      const bigger = content.addFileWithContent(
        db,
        { ownerId: carol, parentId: "", name: "more.bin", quota: RULES, held: { pending: 1 * MiB } },
        blob("d", 5 * MiB),
        1,
      );
      expect(await codeOf(bigger)).toBe(`exhausted:${Reason.QUOTA_EXCEEDED}`);
      expect(await counters(carol)).toEqual({ used: 6 * MiB, reserved: 0, pending: 1 * MiB });
      expect(await db.selectFrom("files").select("id").where("name", "=", "more.bin").execute()).toEqual([]);
    });

    test("trash counts until purged; copies are charged; versions count and trimming gives back", async () => {
      const dave = await newUser();
      await quota.setQuota(db, dave, 30 * MiB);
      let clock = 1;
      const add = (name: string, c: string, size: number, onConflict?: files.ConflictPolicy) =>
        content.addFileWithContent(
          db,
          { ownerId: dave, parentId: "", name, quota: RULES, onConflict, versionsKeep: 1 },
          blob(c, size),
          clock++,
        );
      const a = (await add("a", "1", 8 * MiB)).file;
      await trash.trashFile(db, dave, a.id, 2);
      expect((await counters(dave)).used).toBe(8 * MiB);
      // A replace keeps the old content as a version (charged); the oldest version past keep=1 goes.
      const b = (await add("b", "2", 4 * MiB)).file;
      await add("b", "3", 5 * MiB, files.ConflictPolicy.REPLACE);
      expect((await counters(dave)).used).toBe(17 * MiB);
      await add("b", "4", 6 * MiB, files.ConflictPolicy.REPLACE); // version "2" (4 MiB) trimmed
      expect((await counters(dave)).used).toBe(19 * MiB);
      const [v] = await db.selectFrom("file_versions").select("id").where("file_id", "=", b.id).execute();
      await restoreVersion(db, dave, b.id, v?.id ?? "", 3, 1); // 5 MiB current, 6 MiB version: net 0
      expect((await counters(dave)).used).toBe(19 * MiB);
      // Copying b (5 MiB) fits (24 MiB); a second copy too (29); a third does not: nothing written.
      await copyFile(db, { ownerId: dave, id: b.id, newParentId: "", name: "c1" }, 4, undefined, RULES);
      await copyFile(db, { ownerId: dave, id: b.id, newParentId: "", name: "c2" }, 4, undefined, RULES);
      const third = copyFile(
        db,
        { ownerId: dave, id: b.id, newParentId: "", name: "c3" },
        4,
        undefined,
        RULES,
      );
      expect(await codeOf(third)).toBe(`exhausted:${Reason.QUOTA_EXCEEDED}`);
      expect(await db.selectFrom("files").select("id").where("name", "=", "c3").execute()).toEqual([]);
      expect((await counters(dave)).used).toBe(29 * MiB);
      // Purging the trashed file and the replaced one (with its version) gives their bytes back.
      await trash.purgeTrashed(db, dave, a.id, 5);
      await trash.trashFile(db, dave, b.id, 5);
      await trash.purgeTrashed(db, dave, b.id, 5);
      expect((await counters(dave)).used).toBe(10 * MiB);
      const usage = await quota.usageOf(db, RULES, dave);
      expect([usage.used, usage.files, usage.trashBytes, usage.versionBytes]).toEqual([10 * MiB, 2, 0, 0]);
    });

    test("copy with REPLACE charges the new version like a replacing upload; over quota nothing changes", async () => {
      const erin = await newUser();
      await quota.setQuota(db, erin, 20 * MiB);
      const add = (name: string, c: string, size: number) =>
        content.addFileWithContent(db, { ownerId: erin, parentId: "", name, quota: RULES }, blob(c, size), 1);
      const src = (await add("src", "5", 6 * MiB)).file;
      const dst = (await add("dst", "6", 2 * MiB)).file;
      const replaceCopy = (versionsKeep: number) =>
        copyFile(
          db,
          {
            ownerId: erin,
            id: src.id,
            newParentId: "",
            name: "dst",
            policy: files.ConflictPolicy.REPLACE,
            versionsKeep,
          },
          2,
          undefined,
          RULES,
        );
      // dst now holds src's 6 MiB, its old 2 MiB kept as a version: 6 + 6 + 2.
      const replaced = await replaceCopy(5);
      expect([replaced.replaced, replaced.file.id, Number(replaced.file.size)]).toEqual([
        true,
        dst.id,
        6 * MiB,
      ]);
      expect(await counters(erin)).toEqual({ used: 14 * MiB, reserved: 0, pending: 0 });
      const sha = (id: string) =>
        db.selectFrom("files").select("blob_sha256").where("id", "=", id).executeTakeFirstOrThrow();
      expect((await sha(dst.id)).blob_sha256).toBe("5".repeat(64));
      // Another replace needs 6 MiB more: 14 + 6 = 20 does not fit a quota of 19.
      await quota.setQuota(db, erin, 19 * MiB);
      const versions = () =>
        db.selectFrom("file_versions").select("id").where("file_id", "=", dst.id).execute();
      const before = { versions: (await versions()).length, refs: await refcount("5") };
      expect(await codeOf(replaceCopy(5))).toBe(`exhausted:${Reason.QUOTA_EXCEEDED}`);
      expect(await counters(erin)).toEqual({ used: 14 * MiB, reserved: 0, pending: 0 });
      expect({ versions: (await versions()).length, refs: await refcount("5") }).toEqual(before);
      expect((await quota.usageOf(db, RULES, erin)).used).toBe(14 * MiB);
    });

    test("quota 0 is unlimited; a user's own quota wins over the default; bad quotas are refused", async () => {
      const erin = await newUser();
      await quota.setQuota(db, erin, 0);
      await uploads.openSession(db, session(erin, { size: 2 ** 40 }), { quota: RULES });
      expect((await counters(erin)).reserved).toBe(2 ** 40);
      await quota.setQuota(db, erin, null);
      expect((await quota.usageOf(db, RULES, erin)).defaultQuota).toBe(true);
      expect(await codeOf(uploads.openSession(db, session(erin, { size: MiB }), { quota: RULES }))).toBe(
        `exhausted:${Reason.QUOTA_EXCEEDED}`,
      );
      await uploads.openSession(db, session(erin, { size: MiB }), { quota: quota.UNLIMITED });
      expect(quota.setQuota(db, erin, -1)).rejects.toBeInstanceOf(quota.InvalidQuotaError);
      expect(quota.setQuota(db, erin, 1.5)).rejects.toBeInstanceOf(quota.InvalidQuotaError);
      expect(quota.setQuota(db, "no-such-user", 5)).rejects.toBeInstanceOf(quota.UnknownUserError);
      // Through the service: InvalidArgument, NotFound.
      const meta = metaTestClient(db);
      const bad = await meta.setQuota({ userId: erin, quotaBytes: -5n }).catch((e) => ConnectError.from(e));
      expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
      const unknown = await meta.getUsage({ ownerId: "nobody" }).catch((e) => ConnectError.from(e));
      expect((unknown as ConnectError).code).toBe(Code.NotFound);
      const set = await meta.setQuota({ userId: erin, quotaBytes: 5n * BigInt(MiB) });
      expect(set.usage?.quotaBytes).toBe(5n * BigInt(MiB));
    });

    test("the recount fixes counters that drifted, drops a dead upload's hold, and reports each", async () => {
      const frank = await newUser();
      await content.addFileWithContent(
        db,
        { ownerId: frank, parentId: "", name: "x" },
        blob("f", 3 * MiB),
        1,
      );
      await uploads.openSession(db, session(frank, { size: 2 * MiB }), { quota: RULES });
      await quota.reservePending(db, RULES, frank, MiB, 10);
      await db
        .updateTable("users")
        .set({ used_bytes: 999, reserved_bytes: 7 })
        .where("id", "=", frank)
        .execute();
      const first = await quota.recountUsage(db, 20, { pendingStaleMs: 100 });
      const mine = first.drifts.filter((d) => d.userId === frank);
      expect(mine).toEqual([
        {
          userId: frank,
          usedBefore: 999,
          usedAfter: 3 * MiB,
          reservedBefore: 7 + MiB,
          reservedAfter: 2 * MiB + MiB,
        },
      ]);
      expect(await counters(frank)).toEqual({ used: 3 * MiB, reserved: 2 * MiB, pending: MiB });
      // Once the hold is older than the stale limit, it goes too.
      const later = await quota.recountUsage(db, 1000, { pendingStaleMs: 100 });
      expect(later.drifts.filter((d) => d.userId === frank).length).toBe(1);
      expect(await counters(frank)).toEqual({ used: 3 * MiB, reserved: 2 * MiB, pending: 0 });
      expect((await quota.recountUsage(db, 2000, { pendingStaleMs: 100 })).drifts).toEqual([]);
    });
  });
}

test("sizes read as people read them", () => {
  expect([quota.humanBytes(512), quota.humanBytes(1536), quota.humanBytes(10 * 1024 ** 3)]).toEqual([
    "512 B",
    "1.5 KiB",
    "10 GiB",
  ]);
  expect(quota.quotaExceeded(9 * MiB, 10 * MiB, 2 * MiB).rawMessage).toStartWith(
    "quota exceeded: 9 MiB of 10 MiB used, this upload needs 2 MiB",
  );
});
