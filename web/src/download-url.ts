// The one place that asks the server for a file's download URL: downloads, copied links, the viewer and
// media elements all go through it.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { downloads } from "./api.ts";

/**
 * A short-lived signed URL, absolute so that it works when pasted elsewhere. `inline` asks for a URL the
 * viewer may show in the page (Content-Disposition: inline, a previewable type, still sandboxed and
 * nosniff): CreateDownloadUrlRequest gains an `inline` field in issue 16; until the generated types have
 * it, the flag is not sent and img/audio/video play the attachment all the same (Chromium ignores the
 * disposition for media elements), while a PDF downloads instead of showing.
 * MERGE: send `{ fileId: f.id, inline: opts.inline ?? false }` once proto/gen has the field.
 */
export async function downloadUrl(f: StoredFile, _opts: { inline?: boolean } = {}): Promise<string> {
  const { url } = await downloads.createDownloadUrl({ fileId: f.id });
  return new URL(url, location.origin).href;
}
