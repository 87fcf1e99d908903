// The WAL is checkpointed by the checkpointer thread (checkpointer.ts), not by the process's connection.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FALLBACK_AUTOCHECKPOINT_PAGES } from "./checkpointer.ts";
import { bunSqlite } from "./sqlite.ts";

test("commits reach the database file through the thread's checkpoints, well before the fallback size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "checkpointer-"));
  const path = join(dir, "db.sqlite");
  const db = bunSqlite(path);
  try {
    db.prepare("create table t (id integer primary key, body blob)").run([]);
    const insert = db.prepare("insert into t (body) values (?)");
    // 300 commits of a 4 KiB row each: a few hundred pages, far below the connection's own threshold.
    for (let i = 0; i < 300; i++) insert.run([new Uint8Array(4096).fill(i & 255)]);
    expect(300 * 2).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES);
    const deadline = Date.now() + 4_000;
    while (statSync(path).size < 300 * 4096 && Date.now() < deadline) await Bun.sleep(50);
    expect(statSync(path).size).toBeGreaterThanOrEqual(300 * 4096);
    // Reads and writes go on as before.
    insert.run([new Uint8Array(10)]);
    expect(db.prepare("select count(*) as n from t").all([])).toEqual([{ n: 301 }]);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
