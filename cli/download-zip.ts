// `filestore download FOLDER --zip`: the folder as one ZIP, built and streamed by the server
// (CreateFolderZipUrl), written to `<dest>.filestore-part` and renamed once every byte the server
// announced has arrived (a cut-off stream, e.g. content purged meanwhile, leaves no .zip behind).
import { createWriteStream, renameSync, rmSync } from "node:fs";
import type { Client } from "@connectrpc/connect";
import type { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { partialPath } from "./download.ts";
import { httpError, request } from "./pool.ts";
import type { Session } from "./session.ts";

/** Downloads `folder` as a ZIP to `dest`; the number of bytes written. */
export async function downloadZip(
  ctx: { session: Session; downloads: Client<typeof DownloadService> },
  folder: File,
  dest: string,
): Promise<number> {
  const { url } = await ctx.downloads.createFolderZipUrl({ folderId: folder.id });
  const res = await request(ctx.session.url(url), {});
  if (res.status !== 200 || !res.body) throw await httpError("the folder's ZIP", res);
  const announced = res.headers.get("content-length");
  const part = partialPath(dest);
  const out = createWriteStream(part);
  let written = 0;
  try {
    const reader = res.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      written += r.value.byteLength;
      if (!out.write(r.value)) await new Promise((resolve) => out.once("drain", resolve));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    if (announced !== null && Number(announced) !== written)
      throw new Error(`the ZIP stopped after ${written} of ${announced} bytes: try again`);
  } catch (err) {
    out.destroy();
    rmSync(part, { force: true });
    throw err instanceof Error && /terminated|closed|reset/i.test(err.message)
      ? new Error(
          `the server ended the ZIP early (${written} bytes): a file may have gone meanwhile; try again`,
        )
      : err;
  }
  renameSync(part, dest);
  return written;
}
