// The local store's listing of committed blobs (ObjectListing): blobs/<aa>/<bb>/<sha256>.<n>, one
// directory at a time, so that memory holds one directory's names however many blobs there are.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ListedObject } from "../types.ts";
import { isNotFound } from "./durable.ts";
import type { Layout } from "./layout.ts";

const HEX2 = /^[0-9a-f]{2}$/;

/** The names in `dir` (none when it vanished meanwhile: GC removes files, never directories, but still). */
async function names(dir: string, pattern?: RegExp): Promise<string[]> {
  try {
    const all = await readdir(dir);
    return pattern ? all.filter((n) => pattern.test(n)) : all;
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export async function* listLocalBlobs(layout: Layout): AsyncGenerator<ListedObject> {
  for (const aa of await names(layout.blobsDir, HEX2)) {
    for (const bb of await names(join(layout.blobsDir, aa), HEX2)) {
      for (const name of await names(join(layout.blobsDir, aa, bb))) {
        const location = `blobs/${aa}/${bb}/${name}`;
        let path: string;
        try {
          path = layout.filePathOf(location);
        } catch {
          continue; // not a blob's name (nothing this store wrote there): left alone
        }
        const st = await lstat(path).catch((err) => {
          if (isNotFound(err)) return undefined; // deleted meanwhile
          throw err;
        });
        if (st?.isFile()) yield { location, size: st.size, changedAt: Math.max(st.mtimeMs, st.ctimeMs) };
      }
    }
  }
}
