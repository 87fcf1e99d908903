// bench:metadata's data set, written straight through meta's data layer (Kysely) in batched multi-row
// INSERTs rather than a million uploads: `users` accounts with `files` files between them (each in a
// folder of 100, each with content of its own, so the blobs table holds as many rows), the bench user's
// "big" folder of `big` files and "trash-me" folder of `trash` files, and `garbage` unreferenced blobs
// past their grace period for the GC pass. Reference counts and every user's usage are written as the
// upload path would leave them, so a recount finds nothing to fix and the GC nothing it must not take.
// No search grams: search is not measured here, and 25 grams a name would multiply the seed's time.
import { sql } from "kysely";
import type { Db } from "../workers/meta/db/database.ts";
import type { BlobsTable, FilesTable, UsersTable } from "../workers/meta/db/schema.ts";
import { nameKey } from "../workers/meta/name-index.ts";

export interface SeedSize {
  users: number;
  files: number;
  big: number;
  trash: number;
  garbage: number;
}

export interface Seeded {
  bigFolderId: string;
  trashFolderId: string;
  /** Ids of the first files of the big folder (GetFile, rename and move pick from these). */
  bigFileIds: string[];
  seconds: number;
}

/** Rows per INSERT (14 columns a files row: far under either dialect's limit of placeholders). */
const BATCH = 1000;
/** Batches written at once on MariaDB (one writer on SQLite). */
const PARALLEL = 4;
const FOLDER_FILES = 100;
const SIZE = 4096;

let counter = 0;
/** A distinct content hash (64 hex digits), cheaper than hashing anything. */
const fakeSha = () => (++counter).toString(16).padStart(16, "0").repeat(4);

type Row = { files: FilesTable[]; blobs: BlobsTable[] };

function fileRow(ownerId: string, parentId: string, name: string, now: number, at: number): Row {
  const sha = fakeSha();
  return {
    files: [
      {
        id: crypto.randomUUID(),
        owner_id: ownerId,
        parent_id: parentId,
        name,
        name_key: nameKey(name),
        kind: "file",
        blob_sha256: sha,
        size: SIZE,
        status: "active",
        created_at: now,
        updated_at: now + at,
        deleted_at: null,
        trashed_with: null,
      },
    ],
    blobs: [blobRow(sha, 1, now, null)],
  };
}

function blobRow(sha: string, refcount: number, now: number, unreferencedAt: number | null): BlobsTable {
  return {
    sha256: sha,
    sha1: "",
    size: SIZE,
    backend: "local",
    location: `blobs/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.000000000000`,
    state: "ready",
    refcount,
    created_at: now,
    unreferenced_at: unreferencedAt,
  };
}

function folderRow(ownerId: string, parentId: string, name: string, now: number): FilesTable {
  return {
    id: crypto.randomUUID(),
    owner_id: ownerId,
    parent_id: parentId,
    name,
    name_key: nameKey(name),
    kind: "folder",
    blob_sha256: null,
    size: 0,
    status: "active",
    created_at: now,
    updated_at: now,
    deleted_at: null,
    trashed_with: null,
  };
}

/** Writes rows in batches of BATCH, PARALLEL at a time on MariaDB. */
class Writer {
  private files: FilesTable[] = [];
  private blobs: BlobsTable[] = [];
  private inFlight: Promise<void>[] = [];
  constructor(
    private db: Db,
    private parallel: number,
  ) {}

  async add(r: Row | { files: FilesTable[]; blobs?: BlobsTable[] }): Promise<void> {
    this.files.push(...r.files);
    this.blobs.push(...(r.blobs ?? []));
    if (this.files.length >= BATCH || this.blobs.length >= BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    const [files, blobs] = [this.files, this.blobs];
    [this.files, this.blobs] = [[], []];
    const write = async () => {
      if (blobs.length) await this.db.insertInto("blobs").values(blobs).execute();
      if (files.length) await this.db.insertInto("files").values(files).execute();
    };
    this.inFlight.push(write());
    if (this.inFlight.length >= this.parallel) await this.drain();
  }

  async drain(): Promise<void> {
    const all = this.inFlight;
    this.inFlight = [];
    await Promise.all(all);
  }
}

/** Seeds the data set; `benchUserId` is the account the measurements sign in as (it gets its share too). */
export async function seedMetadata(
  db: Db,
  dialect: "sqlite" | "mysql",
  benchUserId: string,
  size: SeedSize,
  progress: (line: string) => void,
): Promise<Seeded> {
  const t0 = performance.now();
  const now = Date.now();
  const perUser = Math.max(1, Math.floor(size.files / size.users));
  const users: UsersTable[] = Array.from({ length: size.users - 1 }, (_, i) => ({
    id: crypto.randomUUID(),
    username: `meta-${i}`,
    username_key: `meta-${i}`,
    // Not a hash any password matches: these accounts are never signed in to.
    password_hash: "!",
    created_at: now,
    last_active_at: now,
    used_bytes: perUser * SIZE,
  }));
  for (let i = 0; i < users.length; i += BATCH)
    await db
      .insertInto("users")
      .values(users.slice(i, i + BATCH))
      .execute();
  const owners = [benchUserId, ...users.map((u) => u.id)];
  // SQLite: one writer, so one transaction per slice of users (a COMMIT per batch would fsync each);
  // MariaDB: autocommitted batches in parallel over the pool.
  const bigSeed = async (w: Writer) => {
    const big = folderRow(benchUserId, "", "big", now);
    const trash = folderRow(benchUserId, "", "trash-me", now);
    await w.add({ files: [big, trash] });
    const bigFileIds: string[] = [];
    for (let i = 0; i < size.big; i++) {
      const r = fileRow(benchUserId, big.id, `file-${String(i).padStart(6, "0")}.txt`, now, i);
      if (bigFileIds.length < 50_000) bigFileIds.push((r.files[0] as FilesTable).id);
      await w.add(r);
    }
    for (let i = 0; i < size.trash; i++)
      await w.add(fileRow(benchUserId, trash.id, `doc-${String(i).padStart(5, "0")}.txt`, now, i));
    for (let i = 0; i < size.garbage; i++) await w.add({ files: [], blobs: [blobRow(fakeSha(), 0, now, 0)] });
    await w.flush();
    await w.drain();
    return { bigFolderId: big.id, trashFolderId: trash.id, bigFileIds };
  };
  const userSeed = async (w: Writer, ownerId: string) => {
    for (let f = 0; f * FOLDER_FILES < perUser; f++) {
      const folder = folderRow(ownerId, "", `folder-${f}`, now);
      await w.add({ files: [folder] });
      for (let i = f * FOLDER_FILES; i < Math.min(perUser, (f + 1) * FOLDER_FILES); i++)
        await w.add(fileRow(ownerId, folder.id, `photo-${String(i).padStart(5, "0")}.jpg`, now, i));
    }
  };
  const inSlices = async (run: (w: Writer) => Promise<void>) => {
    if (dialect === "mysql") {
      const w = new Writer(db, PARALLEL);
      await run(w);
      await w.flush();
      await w.drain();
    } else {
      await db.transaction().execute(async (tx) => {
        const w = new Writer(tx, 1);
        await run(w);
        await w.flush();
        await w.drain();
      });
    }
  };
  let big: Omit<Seeded, "seconds"> | undefined;
  await inSlices(async (w) => {
    big = await bigSeed(w);
  });
  progress(`big folders and garbage: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const SLICE = 50;
  for (let u = 0; u < owners.length; u += SLICE) {
    await inSlices(async (w) => {
      for (const owner of owners.slice(u, u + SLICE)) await userSeed(w, owner);
    });
    if ((u / SLICE) % 4 === 3)
      progress(`${u + SLICE} users: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const extra = (size.big + size.trash) * SIZE;
  await db
    .updateTable("users")
    .set({ used_bytes: sql`used_bytes + ${perUser * SIZE + extra}` })
    .where("id", "=", benchUserId)
    .execute();
  // Fresh statistics, as a database that grew to this size over time would have.
  if (dialect === "mysql") {
    await sql`ANALYZE TABLE files, blobs, users`.execute(db);
  } else {
    await sql`ANALYZE`.execute(db);
  }
  return { ...(big as Omit<Seeded, "seconds">), seconds: (performance.now() - t0) / 1000 };
}
