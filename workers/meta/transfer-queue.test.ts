// The operators' view of the transfer queue on both dialects: pages of jobs by last change in either
// direction, of one state or all, return every job once in order — each page one in-order range of an
// index of migration 0020, as the database's own plan (EXPLAIN) says — and the queue's figures (oldest
// queued job, bytes waiting, jobs done lately) count what they say.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { Db } from "./db/database.ts";
import { orderedSelects, planOf } from "./db/plans.ts";
import type { BlobsTable, TransferJobsTable, TransferState } from "./db/schema.ts";
import { testDatabases } from "./db/testing.ts";
import { InvalidCursorError } from "./files.ts";
import { type JobListOptions, listJobs, queueFigures, STATES } from "./transfer-queue.ts";

const JOBS = 20_000;
const sha = (i: number) => i.toString(16).padStart(64, "0");
/** State by position; update times repeat (ties are broken by SHA-256). */
const stateOf = (i: number): TransferState =>
  i % 10 === 0 ? "queued" : i % 10 === 1 ? "failed" : i % 25 === 2 ? "running" : "done";
const job = (i: number): TransferJobsTable => ({
  blob_sha256: sha(i),
  state: stateOf(i),
  attempts: i % 4,
  last_error: i % 10 === 1 ? `error ${i}` : null,
  target_location: null,
  published_at: null,
  cleanup_location: null,
  cleanup_after: null,
  created_at: 1000 + i,
  updated_at: 5000 + (i % 4000),
  traceparent: null,
});
/** Every job but the last 100 has its content (size = position). */
const blob = (i: number): BlobsTable => ({
  sha256: sha(i),
  sha1: "",
  size: i,
  backend: "local",
  location: `blobs/${i}`,
  state: "ready",
  refcount: 1,
  created_at: 1,
  unreferenced_at: null,
});

const all = Array.from({ length: JOBS }, (_, i) => job(i));

/** The documented order: by update time, ties by SHA-256, both in the direction asked for. */
function expected(state: string, oldestFirst: boolean): string[] {
  return all
    .filter((j) => !state || j.state === state)
    .sort((a, b) => a.updated_at - b.updated_at || (a.blob_sha256 < b.blob_sha256 ? -1 : 1))
    .map((j) => j.blob_sha256)
    [oldestFirst ? "slice" : "reverse"]();
}

for (const target of testDatabases()) {
  describe(`transfer queue views on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      for (let i = 0; i < JOBS; i += 500) {
        await db
          .insertInto("transfer_jobs")
          .values(all.slice(i, i + 500))
          .execute();
        const blobs = all.slice(i, Math.min(i + 500, JOBS - 100)).map((_, k) => blob(i + k));
        if (blobs.length) await db.insertInto("blobs").values(blobs).execute();
      }
      if (target.dialect === "mysql") await sql`ANALYZE TABLE transfer_jobs, blobs`.execute(db);
      else await sql`ANALYZE`.execute(db);
    }, 60_000);
    afterAll(() => drop());

    const pages = async (o: Omit<JobListOptions, "pageToken">) => {
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await listJobs(db, { ...o, pageToken });
        seen.push(...page.jobs.map((j) => j.blob_sha256));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return seen;
    };

    for (const state of ["", ...STATES])
      for (const oldestFirst of [false, true])
        test(`${state || "every state"}, ${oldestFirst ? "oldest" : "newest"} first: every job once, in order, from one index`, async () => {
          expect(await pages({ state, oldestFirst, pageSize: 900 })).toEqual(expected(state, oldestFirst));
          const index = state ? "transfer_jobs_state_changed" : "transfer_jobs_changed";
          const first = await listJobs(db, { state, oldestFirst, pageSize: 100, pageToken: "" });
          await expectIndexOrder({ state, oldestFirst, pageSize: 100, pageToken: "" }, index);
          await expectIndexOrder(
            { state, oldestFirst, pageSize: 100, pageToken: first.nextPageToken },
            index,
          );
        });

    /** Every listing query of the call reads `index` in order: no sort step. */
    async function expectIndexOrder(o: JobListOptions, index: string) {
      const rec = orderedSelects(db);
      await listJobs(rec.db, o);
      expect(rec.seen.length).toBeGreaterThan(0);
      for (const q of rec.seen) {
        const { text, rows } = await planOf(db, target.dialect, q);
        if (target.dialect === "mysql") {
          const jobs = rows.find((r) => r.table === "transfer_jobs");
          const extras = rows.map((r) => String(r.Extra ?? ""));
          const shown = { sql: text, key: jobs?.key, extras };
          // With the update time fixed (the rest of the cursor's millisecond), MariaDB may read the same
          // order from the index without the state: one in-order range too.
          const alike = text.includes("`updated_at` = ?") ? ["transfer_jobs_changed"] : [];
          expect(shown).toEqual({
            ...shown,
            key: [index, ...alike].includes(String(jobs?.key)) ? jobs?.key : index,
            extras: extras.map((e) => e.replace(/Using (filesort|temporary)/g, "")),
          });
        } else {
          const details = rows.map((r) => String(r.detail));
          const shown = { sql: text, details };
          expect(shown).toEqual({ ...shown, details: details.filter((d) => !d.includes("TEMP B-TREE")) });
          expect(details.some((d) => d.includes(`transfer_jobs USING INDEX ${index}`))).toBe(true);
        }
      }
    }

    test("a job carries its content's size, 0 once the content is gone", async () => {
      const page = await listJobs(db, { state: "", oldestFirst: true, pageSize: 1000, pageToken: "" });
      for (const j of page.jobs) {
        const i = Number.parseInt(j.blob_sha256, 16);
        expect([j.blob_sha256, j.size, j.state, j.created_at]).toEqual([
          j.blob_sha256,
          i >= JOBS - 100 ? 0 : i,
          stateOf(i),
          1000 + i,
        ]);
      }
    });

    test("an unknown state, a negative page size, a foreign or forged token are refused; big pages are capped", async () => {
      const o = { state: "", oldestFirst: false, pageSize: 10, pageToken: "" };
      const next = (await listJobs(db, { ...o, state: "failed" })).nextPageToken;
      for (const bad of [
        { ...o, state: "dead" },
        { ...o, pageSize: -1 },
        { ...o, pageToken: "not a token" },
        { ...o, pageToken: next }, // issued for the failed jobs
        { ...o, state: "failed", oldestFirst: true, pageToken: next }, // and newest first
      ])
        await expect(listJobs(db, bad)).rejects.toBeInstanceOf(InvalidCursorError);
      expect((await listJobs(db, { ...o, pageSize: 5000 })).jobs).toHaveLength(1000);
    });

    test("figures: the oldest queued job, bytes of queued and running content, jobs done lately", async () => {
      const live = all.filter((j) => j.state === "queued" || j.state === "running");
      const bytes = live
        .map((j) => Number.parseInt(j.blob_sha256, 16))
        .filter((i) => i < JOBS - 100)
        .reduce((a, b) => a + b, 0);
      const queuedAt = Math.min(...all.filter((j) => j.state === "queued").map((j) => j.updated_at));
      const doneLately = all.filter((j) => j.state === "done" && j.updated_at >= 8600).length;
      expect(await queueFigures(db, 8600)).toEqual({
        oldestQueuedAt: queuedAt,
        waitingBytes: bytes,
        doneSince: doneLately,
      });
      expect(doneLately).toBeGreaterThan(0);
      await db.updateTable("transfer_jobs").set({ state: "done" }).where("state", "=", "queued").execute();
      expect((await queueFigures(db, undefined)).oldestQueuedAt).toBeUndefined();
    });
  });
}
