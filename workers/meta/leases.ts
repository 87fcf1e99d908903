// Leases for background work one replica at a time does (migration 0030): the file worker's periodic
// consistency check takes "fsck" before it runs and renews it while it works, so that however many file
// workers run, one checks at a time. A lease is taken when it is free (never held, or expired) or already
// held by the same holder (a renewal); the row is locked first (insertOrUpdate), so two takers never both win.
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";
import { insertOrUpdate } from "./db/upsert.ts";

/** Takes or renews lease `name` for `holder` until now + ttlMs; false while someone else holds it. */
export async function takeLease(
  db: Db,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  return transact(db, async (tx) => {
    await insertOrUpdate(
      tx,
      tx.insertInto("maintenance_leases").values({ name, holder: "", expires_at: 0 }),
      ["name"],
    ).execute();
    const res = await tx
      .updateTable("maintenance_leases")
      .set({ holder, expires_at: now + ttlMs })
      .where("name", "=", name)
      .where((eb) => eb.or([eb("expires_at", "<=", now), eb("holder", "=", holder)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  });
}
