// Test helpers of the meta worker: folder trees written straight into the files table (as deep as a test
// needs and far faster than one CreateFolder per level, deeper than the API allows, like trees made before
// the limit), the meta client over the module in memory, users and upload session rows.
import { afterAll, beforeAll } from "bun:test";
import { createRouterTransport } from "@connectrpc/connect";
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { authInterceptor, errorInterceptor, internalCallerInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { createMetaClient, type MetaClient } from "../lib/meta-client.ts";
import { addFileWithContent, type FileRow } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { TestDatabase } from "./db/testing.ts";
import { createFolder, folderRow } from "./files.ts";
import { metaModule } from "./service.ts";
import type { SessionRow } from "./uploads.ts";
import { createUser } from "./users.ts";

/**
 * A chain of `levels` active folders under parentId ("" = root), each inside the previous, named
 * "<tag>-<level>" with a tag of its own (chains never clash by name); their ids, top first.
 */
export async function insertFolderChain(
  db: Db,
  ownerId: string,
  parentId: string,
  levels: number,
  now = 1,
): Promise<string[]> {
  const tag = crypto.randomUUID().slice(0, 8);
  const rows: FileRow[] = [];
  for (let i = 0, parent = parentId; i < levels; i++) {
    const row = folderRow({ ownerId, parentId: parent, name: `${tag}-${i + 1}` }, now);
    rows.push(row);
    parent = row.id;
  }
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto("files")
      .values(rows.slice(i, i + 200))
      .execute();
  return rows.map((r) => r.id);
}

/**
 * The meta client over the meta module in memory, through the real server interceptors (errors, auth:
 * the internal secret is required and presented). TOTP secrets are sealed under `serverSecret` (default:
 * the internal secret).
 */
export function metaTestClient(db: Db, now?: () => number, serverSecret?: string): MetaClient {
  const secret = "s".repeat(32);
  const verifier = createAccessTokenVerifier({ keys: async () => new Uint8Array(32), issuer: "x" });
  const mod = metaModule(db, now, { serverSecret: serverSecret ?? secret });
  return createMetaClient(
    createRouterTransport((r) => mod.routes(r), {
      router: {
        interceptors: [
          errorInterceptor(createLogger("test")),
          authInterceptor({ verifier, internalSecret: secret }),
        ],
      },
      transport: { interceptors: [internalCallerInterceptor(secret)] },
    }),
  );
}

/** Users alice and bob, created straight in the database; their ids. */
export async function aliceAndBob(db: Db): Promise<{ alice: string; bob: string }> {
  return {
    alice: (await createUser(db, "alice", "x", 0)).id,
    bob: (await createUser(db, "bob", "x", 0)).id,
  };
}

const MiB = 1024 * 1024;

/**
 * Rows of open upload sessions of 12 MiB in 3 parts of 5 MiB, ids `<prefix><20-digit counter>`,
 * for tests that write sessions straight through uploads.ts.
 */
export function sessionRows(prefix: string) {
  let k = 0;
  return (ownerId: string, over: Partial<SessionRow> = {}): SessionRow => ({
    id: `${prefix}${(++k).toString().padStart(20, "0")}`,
    owner_id: ownerId,
    parent_id: "",
    name: "big.bin",
    size: 12 * MiB,
    sha256: null,
    sha1: null,
    part_size: 5 * MiB,
    part_count: 3,
    backend: "local",
    state: "open",
    file_id: null,
    created_at: 0,
    expires_at: 1_000_000,
    ...over,
  });
}

/** What a suite of meta service tests works on (filled in before its first test). */
export interface MetaSuite {
  db: Db;
  meta: MetaClient;
  /** A user created for the suite. */
  ownerId: string;
}

/**
 * For a describe block: opens `target` before its tests, with the meta client over it (clock `now`) and a
 * user named `username`; drops the database after them.
 */
export function metaSuite(target: TestDatabase, now: () => number, username = "alice"): MetaSuite {
  const suite = {} as MetaSuite;
  let drop = async () => {};
  beforeAll(async () => {
    ({ db: suite.db, drop } = await target.open());
    suite.meta = metaTestClient(suite.db, now);
    suite.ownerId = (await suite.meta.createUser({ username, passwordHash: "x" })).user?.id ?? "";
  });
  afterAll(() => drop());
  return suite;
}

let blobs = 0;

/**
 * Tree-test helpers over a suite: users, folders, and files each with content of its own (7 bytes), every
 * write at the next tick of `tick`.
 */
export function treeHelpers(s: MetaSuite, tick: () => number) {
  return {
    user: async (name: string) =>
      (await s.meta.createUser({ username: name, passwordHash: "x" })).user?.id ?? "",
    addFile: async (ownerId: string, parentId: string, name: string) => {
      const h = (++blobs).toString(16).padStart(64, "e");
      const blob = { sha256: h, sha1: "", size: 7, backend: "local", location: `loc/${h}` };
      return (await addFileWithContent(s.db, { ownerId, parentId, name }, blob, tick())).file;
    },
    folder: (ownerId: string, parentId: string, name: string) =>
      createFolder(s.db, { ownerId, parentId, name }, tick()),
  };
}
