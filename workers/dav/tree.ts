// The caller's tree as WebDAV sees it: names to entries through FileService (each folder's listing is
// read a page of 1000 at a time until the name turns up), and the root as a folder without an id.
import type { Client } from "@connectrpc/connect";
import { type File, FileKind, type FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";

/** An entry: a file or folder of the caller, or the root (no file, id ""). */
export interface Entry {
  id: string;
  folder: boolean;
  file?: File;
}

export const ROOT: Entry = { id: "", folder: true };
export const LIST_PAGE = 1000;

/** A caller's view of FileService: its client and the call options that carry the caller's token. */
export interface TreeCtx {
  files: Client<typeof FileService>;
  call: { headers: Record<string, string> };
}

export const entryOf = (file: File): Entry => ({
  id: file.id,
  folder: file.kind === FileKind.FOLDER,
  file,
});

/** The active entry called `name` in a folder, if any. */
export async function childNamed(ctx: TreeCtx, parentId: string, name: string): Promise<Entry | undefined> {
  let pageToken = "";
  do {
    const page = await ctx.files.listFiles({ parentId, pageSize: LIST_PAGE, pageToken }, ctx.call);
    const hit = page.files.find((f) => f.name === name);
    if (hit) return entryOf(hit);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return undefined;
}

/**
 * A path's entry and its parent folder: `parent` undefined when some folder on the way is missing (or is
 * a file: RFC 4918 answers 409 for both), `entry` undefined when the last name is not there.
 */
export async function resolvePath(ctx: TreeCtx, names: string[]): Promise<{ parent?: Entry; entry?: Entry }> {
  if (names.length === 0) return { entry: ROOT };
  let at: Entry = ROOT;
  for (const name of names.slice(0, -1)) {
    const next = await childNamed(ctx, at.id, name);
    if (!next?.folder) return {};
    at = next;
  }
  return { parent: at, entry: await childNamed(ctx, at.id, names[names.length - 1] as string) };
}
