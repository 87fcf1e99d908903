// 0016: existing users' usage counters are computed from their rows (files in any state, versions; live
// sessions reserve), on both dialects; quotas start at the default (null).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Migrator } from "kysely";
import type { Db } from "../database.ts";
import { testDatabases } from "../testing.ts";
import { migrations } from "./index.ts";

const migrator = (db: Db, upTo?: string) =>
  new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(Object.entries(migrations).filter(([k]) => upTo === undefined || k <= upTo)),
    },
  });

for (const t of testDatabases()) {
  describe(`migration 0016 (${t.dialect})`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await t.open({ migrate: false }));
      expect((await migrator(db, "0014_derived_blobs").migrateToLatest()).error).toBeUndefined();
      const user = (id: string) => ({
        id,
        username: id,
        username_key: id,
        password_hash: "x",
        created_at: 0,
        last_active_at: 0,
      });
      await db
        .insertInto("users")
        .values([user("u1"), user("u2")])
        .execute();
      const file = (id: string, kind: "file" | "folder", size: number, status: "active" | "trashed") => ({
        id,
        owner_id: "u1",
        parent_id: "",
        name: id,
        kind,
        blob_sha256: null,
        size,
        status,
        created_at: 0,
        updated_at: 0,
        deleted_at: status === "trashed" ? 1 : null,
        trashed_with: status === "trashed" ? id : null,
      });
      await db
        .insertInto("files")
        .values([
          file("a", "file", 100, "active"),
          file("b", "file", 20, "trashed"),
          file("d", "folder", 0, "active"),
        ])
        .execute();
      await db
        .insertInto("file_versions")
        .values({
          id: "v",
          file_id: "a",
          owner_id: "u1",
          blob_sha256: null,
          size: 3,
          created_at: 0,
          archived_at: 0,
        })
        .execute();
      const session = (id: string, state: "open" | "completed") => ({
        id,
        owner_id: "u1",
        parent_id: "",
        name: id,
        size: 1000,
        sha256: null,
        sha1: null,
        part_size: 1000,
        part_count: 1,
        backend: "local",
        state,
        file_id: null,
        created_at: 0,
        expires_at: 10,
      });
      await db
        .insertInto("upload_sessions")
        .values([session("s1", "open"), session("s2", "completed")])
        .execute();
      expect((await migrator(db).migrateToLatest()).error).toBeUndefined();
    });
    afterAll(() => drop());

    test("counters from the rows", async () => {
      const rows = await db
        .selectFrom("users")
        .select(["id", "quota_bytes", "used_bytes", "reserved_bytes", "pending_bytes"])
        .orderBy("id")
        .execute();
      expect(
        rows.map((r) => [
          r.id,
          r.quota_bytes,
          Number(r.used_bytes),
          Number(r.reserved_bytes),
          Number(r.pending_bytes),
        ]),
      ).toEqual([
        ["u1", null, 123, 1000, 0],
        ["u2", null, 0, 0, 0],
      ]);
    });
  });
}
