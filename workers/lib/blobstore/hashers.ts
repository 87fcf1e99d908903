// The digests a store computes over a body as it is written: SHA-256 (the content's name), SHA-1 (the
// legacy API's file hash) and CRC-32 (the ZIP checksum, stored so that a folder ZIP need not sum the bytes
// again: workers/download/zip.ts). One shape for all three, in hex, for the digest lanes and the Meter.
import { crc32 } from "node:zlib";

export type Algorithm = "sha256" | "sha1" | "crc32";

export interface Hasher {
  update(bytes: Uint8Array): void;
  /** Lower-case hex (a CRC-32: 8 digits). */
  digest(): string;
}

export function hasherFor(algorithm: Algorithm): Hasher {
  if (algorithm === "crc32") {
    let crc = 0;
    return {
      update(bytes) {
        crc = crc32(bytes, crc); // node:zlib's, native; chains over chunks
      },
      digest: () => crc.toString(16).padStart(8, "0"),
    };
  }
  const h = new Bun.CryptoHasher(algorithm);
  return {
    update(bytes) {
      h.update(bytes);
    },
    digest: () => h.digest("hex"),
  };
}

/** A CRC-32 digest as the number BlobInfo.crc32 holds (undefined when it was not computed). */
export const crc32Value = (hex: string | undefined): number | undefined =>
  hex ? Number.parseInt(hex, 16) : undefined;
