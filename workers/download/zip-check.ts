// Test helper: a ZIP file checked by Python's zipfile (tools/zip-check.py) and by `unzip -t`, for the unit
// tests of the ZIP core and the end-to-end tests of folder downloads.
import { join, resolve } from "node:path";

export interface ZipMember {
  name: string;
  dir: boolean;
  size: number;
  sha256: string;
  offset: number;
  utf8: boolean;
  /** 0: stored. */
  method: number;
}

const SCRIPT = join(resolve(import.meta.dir, "../.."), "tools", "zip-check.py");

/** The archive's members as Python reads them (throws when Python or unzip finds it broken). */
export async function checkZip(path: string): Promise<ZipMember[]> {
  const py = Bun.spawn(["python3", SCRIPT, path], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(py.stdout).text(),
    new Response(py.stderr).text(),
    py.exited,
  ]);
  if (code !== 0) throw new Error(`zipfile refused ${path}: ${err}`);
  const unzip = Bun.spawn(["unzip", "-tqq", path], { stdout: "pipe", stderr: "pipe" });
  const [uout, uerr, ucode] = await Promise.all([
    new Response(unzip.stdout).text(),
    new Response(unzip.stderr).text(),
    unzip.exited,
  ]);
  if (ucode !== 0) throw new Error(`unzip -t refused ${path} (${ucode}): ${uout}${uerr}`);
  return (JSON.parse(out) as { members: ZipMember[] }).members;
}
