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
import { unpackDoubles, unpackStrings } from "../lib/packed-columns.ts";

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

/**
 * An entry of a listing page as its columns give it: all a PROPFIND answer shows, without the File
 * message (and its Timestamps) that thousands of entries would otherwise each be made into.
 */
export interface ListedEntry {
  id: string;
  name: string;
  folder: boolean;
  size: number;
  createdMs: number;
  updatedMs: number;
  /** "" for folders. */
  sha256: string;
  /** "" for folders and content whose SHA-1 is not known yet. */
  sha1: string;
}

/** The entries of a page of ListDavEntries (columns, entry i at index i of each). */
export function listedOfColumns(c: DavEntryColumns | undefined): ListedEntry[] {
  if (!c) return [];
  const ids = unpackStrings(c.id);
  const names = unpackStrings(c.name);
  const sha256 = unpackStrings(c.sha256);
  const sha1 = unpackStrings(c.sha1);
  const [size, createdMs, updatedMs] = [
    unpackDoubles(c.size),
    unpackDoubles(c.createdMs),
    unpackDoubles(c.updatedMs),
  ];
  const out = new Array<ListedEntry>(c.folder.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = {
      id: ids[i] ?? "",
      name: names[i] ?? "",
      folder: c.folder[i] === true,
      size: size[i] ?? 0,
      createdMs: createdMs[i] ?? 0,
      updatedMs: updatedMs[i] ?? 0,
      sha256: sha256[i] ?? "",
      sha1: sha1[i] ?? "",
    };
  }
  return out;
}

/** A listed entry as an Entry of the folder `parentId` (for the general renderer). */
export function entryOfListed(r: ListedEntry, parentId: string): Entry {
  const file = create(FileSchema, {
    id: r.id,
    parentId,
    name: r.name,
    kind: r.folder ? FileKind.FOLDER : FileKind.FILE,
    size: BigInt(r.size),
    sha256: r.sha256,
    sha1: r.sha1,
    createdAt: timestampFromMs(r.createdMs),
    updatedAt: timestampFromMs(r.updatedMs),
  });
  return { id: r.id, folder: r.folder, file };
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
