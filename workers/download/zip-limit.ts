// The most entries a folder ZIP may hold (ZIP_MAX_ENTRIES, in the download worker's config section, which
// the file worker loads too): the download worker refuses a larger tree before the first byte, and a
// share's ZIP URL is refused before it counts a download of the link (a ZIP that can never be built must
// not use one up). Both walk the tree with ListFolderTree's pages.
import { Code, type ConnectError } from "@connectrpc/connect";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { ListFolderTreeResponse } from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { MAX_PAGE_SIZE } from "../lib/validate.ts";

type TreeMeta = Pick<MetaClient, "listFolderTree">;

/** ResourceExhausted with ZIP_TOO_LARGE: the folder holds more than `max` entries. */
export const zipTooLarge = (max: number): ConnectError =>
  reasonError(
    `this folder holds more than ${max} entries, the most a ZIP download may hold (ZIP_MAX_ENTRIES): download its subfolders one by one`,
    Code.ResourceExhausted,
    Reason.ZIP_TOO_LARGE,
    { max_entries: String(max) },
  );

/** The pages of a folder's tree: `first`, then the next ones while there are more. */
export async function* treePages(
  meta: TreeMeta,
  first: ListFolderTreeResponse,
): AsyncGenerator<ListFolderTreeResponse> {
  for (let page = first; ; ) {
    yield page;
    if (!page.nextPageToken) return;
    page = await meta.listFolderTree({
      folderId: first.folder?.id ?? "",
      ownerId: first.folder?.ownerId ?? "",
      pageSize: MAX_PAGE_SIZE,
      pageToken: page.nextPageToken,
    });
  }
}

/**
 * The first page of the folder's tree (its owner's folder: NotFound, FailedPrecondition for a file, as
 * ListFolderTree says), after checking that the tree holds at most `max` entries, else zipTooLarge. Reads
 * max + 1 entries at most: one page for most folders (pages hold up to MAX_PAGE_SIZE).
 */
export async function checkZipLimit(
  meta: TreeMeta,
  folder: { folderId: string; ownerId: string },
  max: number,
): Promise<ListFolderTreeResponse> {
  const first = await meta.listFolderTree({ ...folder, pageSize: Math.min(max + 1, MAX_PAGE_SIZE) });
  let seen = 0;
  for await (const page of treePages(meta, first)) {
    seen += page.entries.length;
    if (seen > max) throw zipTooLarge(max);
  }
  return first;
}
