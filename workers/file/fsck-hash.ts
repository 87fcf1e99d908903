// Reading stored bytes back and hashing them: the scrub (fsck-scrub.ts) and its repair (fsck-restore.ts).
import { createHash } from "node:crypto";
import type { StoreFor } from "../lib/blobstore/types.ts";

/** The SHA-256 of the bytes at `location` (hex), and how many there were; undefined when absent. */
export async function hashStored(
  storeFor: StoreFor,
  backend: string,
  location: string,
): Promise<{ sha256: string; size: number } | undefined> {
  const store = storeFor(backend);
  if (!(await store.stat(location))) return undefined;
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of (await store.read(location)) as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}
