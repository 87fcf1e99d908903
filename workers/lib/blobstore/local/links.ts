// The names a multipart session's file was linked to under blobs/ (local store). Completion links the
// session's file into place and only then records the file row; a process that dies in between leaves a
// name nothing refers to. Each name is therefore written down (durably, beside the parts) before the
// link is made, so that whoever takes the session over can remove what the dead attempt left.
import { appendFile, open, readFile, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { isNotFound } from "./durable.ts";

/** Appends `location` to the list at `path` and makes it durable before the caller links. */
export async function recordLink(path: string, location: string): Promise<void> {
  const existed = await stat(path).then(
    () => true,
    () => false,
  );
  await appendFile(path, `${location}\n`);
  for (const p of existed ? [path] : [path, dirname(path)]) {
    const handle = await open(p, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Removes every recorded name that is still a link of the session's file `dataPath` (a name that was
 * removed already, or now holds other bytes, is left alone), then the list. `pathOf` maps a location to
 * its path (and refuses a malformed one).
 */
export async function removeRecordedLinks(
  path: string,
  dataPath: string,
  pathOf: (location: string) => string,
): Promise<void> {
  let list: string;
  try {
    list = await readFile(path, "utf8");
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const data = await stat(dataPath).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  for (const location of data ? list.split("\n").filter(Boolean) : []) {
    let target: string;
    try {
      target = pathOf(location);
    } catch {
      continue; // not a location (a torn line)
    }
    const st = await stat(target).catch(() => undefined);
    if (st && st.ino === data?.ino && st.dev === data.dev) await rm(target, { force: true });
  }
  await rm(path, { force: true });
}
