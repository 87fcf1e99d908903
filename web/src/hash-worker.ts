// SHA-256 of a whole file, off the main thread, with progress. WebCrypto cannot hash incrementally (and is
// missing outside secure contexts), so the audited @noble/hashes implementation does it in slices.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

export interface HashRequest {
  id: number;
  file: Blob;
}
export type HashReply =
  | { id: number; kind: "progress"; done: number }
  | { id: number; kind: "done"; sha256: string }
  | { id: number; kind: "error"; message: string };

const SLICE = 4 * 1024 * 1024;
// The worker scope, declared by hand: the app's typings are the DOM's.
const scope = self as unknown as {
  postMessage(m: HashReply): void;
  onmessage: ((e: MessageEvent<HashRequest>) => void) | null;
};

scope.onmessage = async (e) => {
  const { id, file } = e.data;
  try {
    const h = sha256.create();
    let last = 0;
    for (let at = 0; at < file.size; at += SLICE) {
      h.update(new Uint8Array(await file.slice(at, Math.min(file.size, at + SLICE)).arrayBuffer()));
      const now = Date.now();
      if (now - last > 100) {
        scope.postMessage({ id, kind: "progress", done: Math.min(file.size, at + SLICE) });
        last = now;
      }
    }
    scope.postMessage({ id, kind: "done", sha256: bytesToHex(h.digest()) });
  } catch (err) {
    scope.postMessage({ id, kind: "error", message: `could not read the file: ${String(err)}` });
  }
};
