// Instance statistics for administrators. Cheap enough to ask for on an admin page: the user counts come
// from the users rows (a table of thousands of rows, not of files), read on every call so that an
// administrator sees a user they just created or disabled; the byte totals from the usage counters on
// the same rows (one pass over users); trash bytes from the files_trash_expiry index (status first: only trashed rows are
// read), and the per-backend totals and the file count are aggregates over blobs and files that the
// database answers from indexes or one sequential pass. Those grow with the content, so they are cached
// for STATS_CACHE_MS per meta process (an admin page polling, or the storage gauges, cannot turn into a
// stream of scans), together with the usage byte totals: logical and stored bytes (the dedup ratio) are
// always one snapshot.
import type { Db } from "./db/database.ts";

export interface InstanceStats {
  users: number;
  admins: number;
  disabledUsers: number;
  files: number;
  logicalBytes: number;
  reservedBytes: number;
  trashBytes: number;
  storedBytes: number;
  backends: { backend: string; blobs: number; storedBytes: number }[];
}

export const STATS_CACHE_MS = 10_000;

const n = (v: unknown) => Number(v ?? 0);

type UserCounts = Pick<InstanceStats, "users" | "admins" | "disabledUsers">;
type ContentStats = Omit<InstanceStats, keyof UserCounts>;

async function measureUsers(db: Db): Promise<UserCounts> {
  const users = await db
    .selectFrom("users")
    .select((eb) => [
      eb.fn.countAll<number>().as("users"),
      eb.fn.sum<number>("admin").as("admins"),
      eb.fn.count<number>("disabled_at").as("disabled"),
    ])
    .executeTakeFirstOrThrow();
  return { users: n(users.users), admins: n(users.admins), disabledUsers: n(users.disabled) };
}

async function measureContent(db: Db): Promise<ContentStats> {
  const usage = await db
    .selectFrom("users")
    .select((eb) => [
      eb.fn.sum<number>("used_bytes").as("used"),
      eb.fn.sum<number>(eb("reserved_bytes", "+", eb.ref("pending_bytes"))).as("reserved"),
    ])
    .executeTakeFirstOrThrow();
  const files = await db
    .selectFrom("files")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("kind", "=", "file")
    .executeTakeFirstOrThrow();
  const trash = await db
    .selectFrom("files")
    .select((eb) => eb.fn.sum<number>("size").as("bytes"))
    .where("status", "=", "trashed")
    .where("kind", "=", "file")
    .executeTakeFirstOrThrow();
  const blobs = await db
    .selectFrom("blobs")
    .select((eb) => ["backend", eb.fn.countAll<number>().as("blobs"), eb.fn.sum<number>("size").as("bytes")])
    .groupBy("backend")
    .orderBy("backend")
    .execute();
  const backends = blobs.map((b) => ({ backend: b.backend, blobs: n(b.blobs), storedBytes: n(b.bytes) }));
  return {
    files: n(files.n),
    logicalBytes: n(usage.used),
    reservedBytes: n(usage.reserved),
    trashBytes: n(trash.bytes),
    storedBytes: backends.reduce((s, b) => s + b.storedBytes, 0),
    backends,
  };
}

/** Statistics: user counts now, byte and content figures at most STATS_CACHE_MS old (cacheMs 0: now). */
export function instanceStats(db: Db, cacheMs = STATS_CACHE_MS) {
  let cached: { at: number; value: Promise<ContentStats> } | undefined;
  const content = (now: number): Promise<ContentStats> => {
    if (!cached || now - cached.at >= cacheMs) {
      const value = measureContent(db);
      cached = { at: now, value };
      // A failed measurement is not kept.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
  return async (now: number): Promise<InstanceStats> => {
    const [users, rest] = await Promise.all([measureUsers(db), content(now)]);
    return { ...users, ...rest };
  };
}
