// A folder's page for a WebDAV PROPFIND of Depth 1 (DavPropertyService.ListDavEntries): the listing of
// TreeService.ListFiles by name (listing.ts: one index range per kind, in order) turned into columns, with
// the dead properties of the page's entries from one more query. Columns because a page of 1000 FileRecord
// messages (three Timestamps each) took ~35 ms to encode and decode here, several times the query itself;
// each string column packed into one string and each number column into bytes for the same reason.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ListDavEntriesResponseSchema } from "../../proto/gen/filestore/meta/v1/dav_pb.ts";
import { packDoubles, packStrings } from "../lib/packed-columns.ts";
import type { Db } from "./db/database.ts";
import { listFiles } from "./listing.ts";

/** The dead properties of up to 1000 entries of the owner (one query), as DavProperty messages. */
export async function propertiesOf(db: Db, ownerId: string, fileIds: readonly string[]) {
  if (fileIds.length === 0) return [];
  const rows = await db
    .selectFrom("dav_properties")
    .select(["file_id", "namespace", "name", "value"])
    .where("owner_id", "=", ownerId)
    .where("file_id", "in", fileIds)
    .execute();
  return rows.map((r) => ({ fileId: r.file_id, namespace: r.namespace, name: r.name, value: r.value }));
}

/**
 * Whether the owner has any dead property at all (one probe of the primary key): most owners have none,
 * and then a page needs no lookup of its 1000 ids.
 */
async function hasProperties(db: Db, ownerId: string): Promise<boolean> {
  const row = await db
    .selectFrom("dav_properties")
    .select("file_id")
    .where("owner_id", "=", ownerId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function listDavEntries(
  db: Db,
  req: { ownerId: string; parentId: string; pageSize: number; pageToken: string; withProperties: boolean },
): Promise<MessageInitShape<typeof ListDavEntriesResponseSchema>> {
  const page = await listFiles(db, {
    ownerId: req.ownerId,
    parentId: req.parentId,
    sort: "name",
    pageSize: req.pageSize,
    pageToken: req.pageToken,
  });
  const f = page.files;
  const ids = f.map((r) => r.id);
  return {
    entries: {
      id: packStrings(ids),
      name: packStrings(f.map((r) => r.name)),
      folder: f.map((r) => r.kind === "folder"),
      size: packDoubles(f.map((r) => r.size)),
      createdMs: packDoubles(f.map((r) => r.created_at)),
      updatedMs: packDoubles(f.map((r) => r.updated_at)),
      sha256: packStrings(f.map((r) => r.blob_sha256 ?? "")),
      sha1: packStrings(f.map((r) => r.sha1)),
    },
    properties:
      req.withProperties && (await hasProperties(db, req.ownerId))
        ? await propertiesOf(db, req.ownerId, ids)
        : [],
    nextPageToken: page.nextPageToken,
  };
}
