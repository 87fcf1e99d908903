// The one place that asks the server for download URLs (a file's, or a folder's ZIP): downloads, copied links, the viewer and
// media elements all go through it.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { downloads } from "./api.ts";

/**
 * A short-lived signed URL, absolute so that it works when pasted elsewhere. `inline` asks for a URL the
 * viewer may show in the page: Content-Disposition: inline and a previewable type (text and markup as
 * text/plain), still sandboxed and nosniff. `versionId`: an earlier version of the file (ListVersions).
 */
export async function downloadUrl(
  f: StoredFile,
  opts: { inline?: boolean; versionId?: string } = {},
): Promise<string> {
  const { url } = await downloads.createDownloadUrl({
    fileId: f.id,
    inline: opts.inline ?? false,
    versionId: opts.versionId ?? "",
  });
  return new URL(url, location.origin).href;
}

/** A short-lived signed URL of a folder as a ZIP of its tree (CreateFolderZipUrl), absolute. */
export async function folderZipUrl(folder: StoredFile): Promise<string> {
  const { url } = await downloads.createFolderZipUrl({ folderId: folder.id });
  return new URL(url, location.origin).href;
}
