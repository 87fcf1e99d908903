// The caller's tree as WebDAV sees it: a request path to entries in one meta call (ResolvePath: one
// indexed lookup per name, whatever the folders' sizes), and the root as a folder without an id.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import {
  type File,
  FileKind,
  FileSchema,
  type FileService,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { DavEntryColumns } from "../../proto/gen/filestore/meta/v1/dav_pb.ts";
import { publicFile } from "../lib/file-record.ts";
import type { MetaClient } from "../lib/meta-client.ts";

/** An entry: a file or folder of the caller, or the root (no file, id ""). */
export interface Entry {
  id: string;
  folder: boolean;
  file?: File;
}

export const ROOT: Entry = { id: "", folder: true };
export const LIST_PAGE = 1000;

/** A caller's view of FileService (its client and the call options carrying the caller's token) and meta. */
export interface TreeCtx {
  files: Client<typeof FileService>;
  call: { headers: Record<string, string> };
  meta: Pick<MetaClient, "resolvePath" | "listDavEntries">;
  /** The caller's user id: meta scopes every lookup to it. */
  ownerId: string;
}

export const entryOf = (file: File): Entry => ({
  id: file.id,
  folder: file.kind === FileKind.FOLDER,
  file,
});

/** The entries of a page of ListDavEntries (columns, entry i at index i of each). */
export function entriesOfColumns(c: DavEntryColumns | undefined, parentId: string): Entry[] {
  if (!c) return [];
  return c.id.map((id, i) => {
    const folder = c.folder[i] === true;
    const file = create(FileSchema, {
      id,
      parentId,
      name: c.name[i],
      kind: folder ? FileKind.FOLDER : FileKind.FILE,
      size: c.size[i],
      sha256: c.sha256[i],
      sha1: c.sha1[i],
      createdAt: timestampFromMs(Number(c.createdMs[i])),
      updatedAt: timestampFromMs(Number(c.updatedMs[i])),
    });
    return { id, folder, file };
  });
}

/**
 * A path's entry and its parent folder: `parent` undefined when some folder on the way is missing (or is
 * a file: RFC 4918 answers 409 for both), `entry` undefined when the last name is not there.
 */
export async function resolvePath(ctx: TreeCtx, names: string[]): Promise<{ parent?: Entry; entry?: Entry }> {
  if (names.length === 0) return { entry: ROOT };
  const { entries } = await ctx.meta.resolvePath({ ownerId: ctx.ownerId, names });
  const found = entries.map((r) => entryOf(publicFile(r)));
  const parent = names.length === 1 ? ROOT : found[names.length - 2];
  if (!parent?.folder) return {};
  return { parent, entry: found[names.length - 1] };
}
