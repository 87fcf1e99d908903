// `npm run bench:metadata`: metadata at scale (issue 21). On SQLite and on MariaDB (when TEST_MYSQL_URL or
// BENCH_MYSQL_URL names a server: a database of its own there, dropped at the end), the all-in-one gets
// BENCH_METADATA_FILES (1 000 000) files for BENCH_METADATA_USERS (1 000) users, the bench user's folder
// of BENCH_METADATA_BIG (100 000) files, a folder of BENCH_METADATA_TRASH (10 000) files and
// BENCH_METADATA_GARBAGE (= files / 10) unreferenced blobs, written in bulk through meta's data layer
// (bench/metadata-seed.ts), then measures through the gateway with BENCH_CONCURRENCY (32) clients
// (bench/metadata-measure.ts), BENCH_METADATA_REQUESTS (3 200) calls a row after 100 uncounted:
//   - ListFiles of the big folder: the first page, and a page 90% deep (keyset page token), 100 entries;
//   - GetFile, RenameFile and MoveFile of files in the big folder;
//   - DeleteFile (to the trash) and RestoreFile of the 10 000-file folder, BENCH_METADATA_ROUNDS (3) each;
//   - garbage collection passes until the garbage is gone (bench/metadata-gc.ts): RSS sampled, and the
//     longest wait of a probe writer (the longest a GC batch kept a writer out);
//   - the usage recount of every user (one transaction each; the longest is reported).
// Targets (DESIGN.md "Scale"): ListFiles p99 < 20 ms at any depth; trash and restore of 10 000 files < 2 s;
// GC with memory flat (< 150 MiB RSS growth) and no batch keeping a writer out > 100 ms.
// BENCH_METADATA_DIALECTS=sqlite (or mysql) runs one; BENCH_ENFORCE=1 exits 1 when a target is missed.

import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { freshMysqlDatabase } from "../e2e/harness.ts";
import { type Db, openDatabase } from "../workers/meta/db/database.ts";
import { account, BenchError, cpuMs, createHarness } from "./harness.ts";
import { gcPasses, recountAll } from "./metadata-gc.ts";
import { fileCall, type Latencies, pct, timed, tokenAt } from "./metadata-measure.ts";
import { seedMetadata } from "./metadata-seed.ts";

const env = (name: string, fallback: number) => {
  const v = Number(process.env[name] || fallback);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number`);
  return v;
};
const FILES = env("BENCH_METADATA_FILES", 1_000_000);
const SIZE = {
  files: FILES,
  users: Math.max(1, env("BENCH_METADATA_USERS", 1000)),
  big: Math.max(2000, env("BENCH_METADATA_BIG", 100_000)),
  trash: env("BENCH_METADATA_TRASH", 10_000),
  garbage: env("BENCH_METADATA_GARBAGE", Math.floor(FILES / 10)),
};
const CONCURRENCY = Math.max(1, env("BENCH_CONCURRENCY", 32));
const REQUESTS = Math.max(100, env("BENCH_METADATA_REQUESTS", 3200));
const ROUNDS = Math.max(1, env("BENCH_METADATA_ROUNDS", 3));
const TARGET_LIST_P99_MS = 20;
const TARGET_TRASH_S = 2;
const TARGET_GC_RSS_MIB = 150;
const TARGET_LOCK_MS = 100;

const harness = createHarness("filestore-bench-metadata");
const { tmp, startFilestore, runMain } = harness;
const SECRET = crypto.getRandomValues(new Uint8Array(32)).toHex();

/** Latencies plus the filestore's CPU time per call (ms): what the machine's other load does not inflate. */
type Row = Latencies & { cpu: number };

const row = (name: string, l: Row, target = "") =>
  console.log(
    `${name.padEnd(34)}${l.ms.length.toString().padStart(7)}${(l.ms.length / l.seconds).toFixed(0).padStart(9)}` +
      `${pct(l.ms, 50).toFixed(1).padStart(9)}${pct(l.ms, 99).toFixed(1).padStart(9)}${l.cpu.toFixed(2).padStart(9)}   ${target}`,
  );

async function runDialect(dialect: "sqlite" | "mysql"): Promise<boolean> {
  const mysqlUrl = process.env.BENCH_MYSQL_URL || process.env.TEST_MYSQL_URL || "";
  const mysql = dialect === "mysql" ? await freshMysqlDatabase(mysqlUrl, "filestore_benchmeta_") : undefined;
  const url = mysql?.url ?? `sqlite:${join(tmp, `data-${dialect}`, "filestore.db")}`;
  let db: Db | undefined;
  let probeDb: Db | undefined;
  let stop = async () => {};
  try {
    const store = await startFilestore({
      name: dialect,
      env: {
        ...(mysql ? { DATABASE_URL: mysql.url } : {}),
        INTERNAL_SECRET: SECRET,
        // Background passes only when the bench runs them.
        GC_INTERVAL_SECONDS: "0",
        QUOTA_RECOUNT_SECONDS: "0",
        FSCK_INTERVAL_HOURS: "0",
        THUMBNAIL_SWEEP_SECONDS: "0",
      },
    });
    stop = async () => {
      store.proc.kill("SIGTERM");
      await store.proc.exited;
    };
    const grpcUrl = /gRPC\/Connect\/gRPC-Web (http:\/\/\S+)/.exec(
      readFileSync(store.logs[0] as string, "utf8"),
    )?.[1];
    if (!grpcUrl) throw new BenchError("the filestore printed no internal (gRPC) address");
    const base = store.url;
    // Signed in again after the seed: the access token lives shorter than a full-size seed takes.
    const login = { username: `bench-${Date.now().toString(36)}`, password: "bench-password-1" };
    await account(base, "Signup", login);
    db = openDatabase(url);
    const me = await db
      .selectFrom("users")
      .select("id")
      .where("username", "like", "bench-%")
      .executeTakeFirstOrThrow();
    console.log(
      `\n== ${dialect}: seeding ${SIZE.files} files for ${SIZE.users} users, +${SIZE.big} in one folder ...`,
    );
    const seeded = await seedMetadata(db, dialect, me.id, SIZE, (l) => console.log(`  ${l}`));
    console.log(`  seeded in ${seeded.seconds.toFixed(0)} s`);
    const token: string = (await account(base, "Signin", login)).tokens?.accessToken;
    if (!token) throw new BenchError("Signin returned no tokens.accessToken");

    const call = (method: string, body: unknown) => fileCall(base, token, method, body);
    const big = seeded.bigFolderId;
    const deep = await tokenAt(base, token, big, Math.floor(SIZE.big * 0.9));
    const warm = (fn: (i: number) => Promise<unknown>) => timed(100, CONCURRENCY, fn);
    const measure = async (fn: (i: number) => Promise<unknown>, n = REQUESTS): Promise<Row> => {
      await warm(fn);
      const cpu0 = cpuMs(store.proc.pid);
      const l = await timed(n, CONCURRENCY, fn);
      return { ...l, cpu: (cpuMs(store.proc.pid) - cpu0) / n };
    };
    const ids = seeded.bigFileIds;
    const pick = (i: number) => ids[(i * 7919) % ids.length] as string;
    const first = await measure(() => call("ListFiles", { parentId: big, pageSize: 100 }));
    const deepPage = await measure(() =>
      call("ListFiles", { parentId: big, pageSize: 100, pageToken: deep }),
    );
    const get = await measure((i) => call("GetFile", { id: pick(i) }));
    // Rename and move take files of their own (the first third and the second third of the ids).
    const third = Math.floor(ids.length / 3);
    const n = Math.min(REQUESTS, third - 100);
    const rename = await measure(
      (i) => call("RenameFile", { id: ids[i] as string, name: `renamed-${i}.txt` }),
      n,
    );
    const moved = (await call("CreateFolder", { parentId: "", name: "moved" })) as { folder: { id: string } };
    const movedId = moved.folder.id;
    const move = await measure(
      (i) => call("MoveFile", { id: ids[third + i] as string, newParentId: movedId }),
      n,
    );

    const trashS: number[] = [];
    const restoreS: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let s = performance.now();
      await call("DeleteFile", { id: seeded.trashFolderId });
      trashS.push((performance.now() - s) / 1000);
      s = performance.now();
      await call("RestoreFile", { id: seeded.trashFolderId });
      restoreS.push((performance.now() - s) / 1000);
    }
    probeDb = openDatabase(url);
    const gc = await gcPasses(grpcUrl, SECRET, store.proc.pid, probeDb, me.id);
    const recount = await recountAll(db);

    console.log(
      `\n${"row".padEnd(34)}${"calls".padStart(7)}${"calls/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"CPU ms".padStart(9)}   target`,
    );
    const listMet = (l: Row) => pct(l.ms, 99) < TARGET_LIST_P99_MS;
    row(
      "ListFiles first page (100)",
      first,
      `p99 < ${TARGET_LIST_P99_MS} ms: ${listMet(first) ? "met" : "MISSED"}`,
    );
    row(
      `ListFiles page at ${Math.floor(SIZE.big * 0.9)}`,
      deepPage,
      `p99 < ${TARGET_LIST_P99_MS} ms: ${listMet(deepPage) ? "met" : "MISSED"}`,
    );
    row("GetFile", get);
    row("RenameFile", rename);
    row("MoveFile", move);
    console.log(
      `(CPU ms: the filestore's CPU time per call; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`,
    );
    const worst = Math.max(...trashS, ...restoreS);
    const s = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
    console.log(
      `trash ${SIZE.trash} files: ${s(trashS)} s; restore: ${s(restoreS)} s (target < ${TARGET_TRASH_S} s: ${worst < TARGET_TRASH_S ? "met" : "MISSED"})`,
    );
    const growth = gc.rssPeakMiB - gc.rssBeforeMiB;
    console.log(
      `GC: ${gc.deleted} blobs deleted (${gc.failed} failed) in ${gc.passes} passes, ${gc.seconds.toFixed(1)} s (${(gc.deleted / gc.seconds).toFixed(0)}/s); ` +
        `RSS ${gc.rssBeforeMiB.toFixed(0)} → peak ${gc.rssPeakMiB.toFixed(0)} MiB (growth < ${TARGET_GC_RSS_MIB} MiB: ${growth < TARGET_GC_RSS_MIB ? "met" : "MISSED"}); ` +
        `probe writer's longest wait ${gc.longestWaitMs.toFixed(1)} ms over ${gc.probes} writes (< ${TARGET_LOCK_MS} ms: ${gc.longestWaitMs < TARGET_LOCK_MS ? "met" : "MISSED"})`,
    );
    console.log(
      `usage recount: ${recount.users} users in ${recount.seconds.toFixed(1)} s, longest user ${recount.longestMs.toFixed(1)} ms, ${recount.drifts} drifts`,
    );
    return (
      listMet(first) &&
      listMet(deepPage) &&
      worst < TARGET_TRASH_S &&
      growth < TARGET_GC_RSS_MIB &&
      gc.longestWaitMs < TARGET_LOCK_MS
    );
  } finally {
    await probeDb?.destroy();
    await db?.destroy();
    await stop();
    await mysql?.drop();
  }
}

async function main(): Promise<number> {
  const mysqlUrl = process.env.BENCH_MYSQL_URL || process.env.TEST_MYSQL_URL;
  const wanted = (process.env.BENCH_METADATA_DIALECTS || "sqlite,mysql").split(",");
  const dialects = (["sqlite", "mysql"] as const).filter((d) => wanted.includes(d));
  if (dialects.includes("mysql") && !mysqlUrl) {
    console.log("MariaDB: skipped (set TEST_MYSQL_URL or BENCH_MYSQL_URL)");
  }
  let met = true;
  for (const d of dialects) if (d === "sqlite" || mysqlUrl) met = (await runDialect(d)) && met;
  return process.env.BENCH_ENFORCE === "1" && !met ? 1 : 0;
}

await runMain(main);
