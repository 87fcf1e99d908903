// The folder-ZIP row of `npm run bench:download`: a folder of ZIP_FILES slices of the payload, and a signed
// URL of it as a ZIP (checked before timing: its length, and that Python's zipfile reads it).
import { join } from "node:path";
import { checkZip } from "../workers/download/zip-check.ts";
import { BenchError } from "./harness.ts";

const MiB = 1024 * 1024;
export const ZIP_FILES = 64;
export const ZIP_FILE_SIZE = 4 * MiB;

export async function zipFolder(
  tmp: string,
  base: string,
  token: string,
  payload: string,
): Promise<{ url: string; size: number }> {
  const call = async (method: string, body: unknown) => {
    const res = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new BenchError(`${method} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, { id?: string } & Record<string, string>>>;
  };
  process.stdout.write(`a folder of ${ZIP_FILES} files for the ZIP row ... `);
  const folder = (await call("filestore.file.v1.FileService/CreateFolder", { name: "zip-bench" })).folder?.id;
  for (let i = 0; i < ZIP_FILES; i++) {
    const body = Bun.file(payload).slice(i * ZIP_FILE_SIZE, (i + 1) * ZIP_FILE_SIZE);
    const res = await fetch(`${base}/upload/v1/files?name=part-${i}.bin&parent_id=${folder}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    if (res.status !== 201) throw new BenchError(`uploading part ${i} answered ${res.status}`);
  }
  const minted = await call("filestore.download.v1.DownloadService/CreateFolderZipUrl", {
    folderId: folder,
    ttlSeconds: 24 * 3600,
  });
  const url = `${base}${minted.url}`;
  const head = await fetch(url, { method: "HEAD" });
  const size = Number(head.headers.get("content-length"));
  if (!head.ok || !(size > ZIP_FILES * ZIP_FILE_SIZE))
    throw new BenchError(`the ZIP's HEAD answered ${head.status}`);
  const check = join(tmp, "check.zip");
  await Bun.write(check, await fetch(url));
  const members = (await checkZip(check)).filter((m) => !m.dir);
  if (members.length !== ZIP_FILES || members.some((m) => m.size !== ZIP_FILE_SIZE))
    throw new BenchError(`the ZIP holds ${members.length} files, not ${ZIP_FILES} of ${ZIP_FILE_SIZE} bytes`);
  console.log(`${(size / MiB).toFixed(1)} MiB`);
  return { url, size };
}
