// 0018: an instance that has users already gets its oldest user as administrator (its first user) and
// the first_admin claim, so a later signup does not become one; on both dialects.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Migrator } from "kysely";
import { createUser } from "../../users.ts";
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
  describe(`migration 0018 (${t.dialect})`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await t.open({ migrate: false }));
      expect((await migrator(db, "0017_account_security").migrateToLatest()).error).toBeUndefined();
      const user = (id: string, created_at: number) => ({
        id,
        username: id,
        username_key: id,
        password_hash: "x",
        created_at,
        last_active_at: created_at,
      });
      await db
        .insertInto("users")
        .values([user("newer", 20), user("oldest", 10), user("middle", 15)])
        .execute();
      expect((await migrator(db).migrateToLatest()).error).toBeUndefined();
    });
    afterAll(() => drop());

    test("the oldest user is the administrator; the next signup is not", async () => {
      const rows = await db
        .selectFrom("users")
        .select(["id", "admin", "disabled_at", "must_change_password"])
        .orderBy("id")
        .execute();
      expect(rows.map((r) => [r.id, Number(r.admin), r.disabled_at, Number(r.must_change_password)])).toEqual(
        [
          ["middle", 0, null, 0],
          ["newer", 0, null, 0],
          ["oldest", 1, null, 0],
        ],
      );
      expect((await createUser(db, "late", "x", 30)).admin).toBe(0);
    });
  });
}
