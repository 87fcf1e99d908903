// A folder's whole active subtree, a page at a time (a folder download as ZIP needs every entry's metadata
// before its first byte). Depth first, each folder's files then its subfolders, by name then id; the page
// token is the walk's stack (one frame per open folder: its id, its path and the last child read), so every
// page is a few keyset range reads of the files_list_name index and the token stays as small as the tree is
// deep. Rows added meanwhile may be missed, none is listed twice.

import { FolderNotFoundError } from "./content.ts";
import type { Db } from "./db/database.ts";
import type { FileKind } from "./db/schema.ts";
import { InvalidCursorError } from "./files.ts";
import { pageSizeOf } from "./listing.ts";

/** An entry of the tree, with what a reader needs to fetch its bytes. */
export interface TreeEntry {
  /** Relative to the listed folder, "/"-separated. */
  path: string;
  kind: FileKind;
  size: number;
  sha256: string;
  backend: string;
  location: string;
  updated_at: number;
  /** The content's CRC-32, null while not known (and for folders). */
  crc32: number | null;
}

/** The listed folder itself. */
export interface TreeRoot {
  id: string;
  owner_id: string;
  name: string;
  updated_at: number;
  linkGeneration: number;
}

/** One open folder of the walk: where it is, and the last child read (kind, name, id), if any. */
interface Frame {
  id: string;
  path: string;
  after?: [kind: FileKind, name: string, id: string];
}

/** A file id where a folder was expected (the caller says so, rather than "not found"). */
export class NotAFolderError extends Error {}

/** The folder (active, of the owner when given), or FolderNotFoundError / NotAFolderError. */
async function treeRoot(db: Db, folderId: string, ownerId: string | undefined): Promise<TreeRoot> {
  let q = db
    .selectFrom("files")
    .leftJoin("download_links", "download_links.file_id", "files.id")
    .select(["files.id", "files.owner_id", "files.name", "files.kind", "files.updated_at"])
    .select("download_links.generation")
    .where("files.id", "=", folderId)
    .where("files.status", "=", "active");
  if (ownerId !== undefined) q = q.where("files.owner_id", "=", ownerId);
  const row = await q.executeTakeFirst();
  if (!row) throw new FolderNotFoundError(folderId);
  if (row.kind !== "folder") throw new NotAFolderError(folderId);
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    updated_at: Number(row.updated_at),
    linkGeneration: Number(row.generation ?? 0),
  };
}

const encodeToken = (root: string, stack: Frame[]) =>
  Buffer.from(JSON.stringify({ r: root, s: stack })).toString("base64url");

function decodeToken(token: string, root: string): Frame[] {
  const bad = () => new InvalidCursorError("page_token is not a token of this folder's listing");
  let parsed: { r?: unknown; s?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (parsed?.r !== root || !Array.isArray(parsed.s) || parsed.s.length === 0) throw bad();
  for (const f of parsed.s as Frame[]) {
    const after = f?.after;
    if (
      typeof f?.id !== "string" ||
      typeof f.path !== "string" ||
      (after !== undefined &&
        !(Array.isArray(after) && after.length === 3 && after.every((v) => typeof v === "string")))
    )
      throw bad();
  }
  return parsed.s as Frame[];
}

/** The order of a folder's children: its files, then its subfolders. */
const KINDS: FileKind[] = ["file", "folder"];

type ChildRow = {
  id: string;
  name: string;
  kind: FileKind;
  size: number;
  blob_sha256: string | null;
  updated_at: number;
  backend: string | null;
  location: string | null;
  crc32: number | null | undefined;
};

/**
 * Up to `limit` active children of a folder after `after`, in walk order. Per kind, the rows with the
 * cursor's name and a later id, then those with a later name: each a plain in-order range of
 * files_list_name (the shape listing.ts uses, which MariaDB reads without a sort).
 */
async function children(db: Db, ownerId: string, f: Frame, limit: number): Promise<ChildRow[]> {
  const rows: ChildRow[] = [];
  const from = f.after ? KINDS.indexOf(f.after[0]) : 0;
  for (const kind of KINDS.slice(Math.max(from, 0))) {
    const base = db
      .selectFrom("files")
      .leftJoin("blobs", "blobs.sha256", "files.blob_sha256")
      .select(["files.id", "files.name", "files.kind", "files.size", "files.blob_sha256", "files.updated_at"])
      .select(["blobs.backend", "blobs.location", "blobs.crc32"])
      .where("files.owner_id", "=", ownerId)
      .where("files.parent_id", "=", f.id)
      .where("files.status", "=", "active")
      .where("files.kind", "=", kind);
    const page = async (q: typeof base, n: number) =>
      n > 0 ? ((await q.orderBy("files.id").limit(n).execute()) as ChildRow[]) : [];
    const after = f.after?.[0] === kind ? f.after : undefined;
    if (after) {
      rows.push(
        ...(await page(
          base.where("files.name", "=", after[1]).where("files.id", ">", after[2]),
          limit - rows.length,
        )),
      );
      rows.push(
        ...(await page(base.where("files.name", ">", after[1]).orderBy("files.name"), limit - rows.length)),
      );
    } else {
      rows.push(...(await page(base.orderBy("files.name"), limit - rows.length)));
    }
    if (rows.length >= limit) break;
  }
  return rows;
}

/** One page of the folder's subtree (see the top of this file). */
export async function listFolderTree(
  db: Db,
  o: { folderId: string; ownerId?: string; pageSize?: number; pageToken?: string },
): Promise<{ root: TreeRoot; entries: TreeEntry[]; nextPageToken: string }> {
  const size = pageSizeOf(o.pageSize ?? 0);
  const root = await treeRoot(db, o.folderId, o.ownerId);
  const stack: Frame[] = o.pageToken ? decodeToken(o.pageToken, root.id) : [{ id: root.id, path: "" }];
  const entries: TreeEntry[] = [];
  while (stack.length > 0 && entries.length < size) {
    const top = stack[stack.length - 1] as Frame;
    const want = size - entries.length;
    const rows = await children(db, root.owner_id, top, want);
    let descended = false;
    for (const r of rows) {
      const path = top.path ? `${top.path}/${r.name}` : r.name;
      entries.push({
        path,
        kind: r.kind,
        size: Number(r.size),
        sha256: r.blob_sha256 ?? "",
        backend: r.backend ?? "",
        location: r.location ?? "",
        updated_at: Number(r.updated_at),
        crc32: r.crc32 === null || r.crc32 === undefined ? null : Number(r.crc32),
      });
      top.after = [r.kind, r.name, r.id];
      if (r.kind === "folder") {
        // Depth first: the subfolder's children come next; this folder resumes after it.
        stack.push({ id: r.id, path });
        descended = true;
        break;
      }
    }
    if (!descended && rows.length < want) stack.pop(); // this folder has no more children
  }
  return { root, entries, nextPageToken: stack.length > 0 ? encodeToken(root.id, stack) : "" };
}
