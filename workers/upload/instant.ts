// Instant upload (秒传) with proof of possession: a client that offers a SHA-256 the server already holds
// must return the SHA-256 of a byte range the server picks at random before the content is linked to
// it. A hash alone never grants a file.
//
// Nobody may learn from it whether some user holds a document: OfferContent answers every offer with a
// challenge of the same shape (a random range within the declared size) without looking anything up, and
// ProveContent does the same work whether the content is held or not (one blob lookup, one ranged read,
// one hash) and fails in exactly the same words when it is not held as when the proof is wrong. The
// client then uploads the file.
//
// The challenge is stateless — an HMAC-signed token naming the caller, the content, its declared size,
// the target name and the range, valid for a few minutes — so any replica can check the proof.
import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { ConflictPolicy, type File } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { BlobRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import { BlobNotFoundError } from "../lib/blobstore/errors.ts";
import { newLocalLocation } from "../lib/blobstore/local/index.ts";
import { type BlobStore, canRelocate } from "../lib/blobstore/types.ts";
import { failedPrecondition, invalidArgument, notFound, permissionDenied } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import { isHex, isSafeSize } from "../lib/validate.ts";
import { announceUpload, checkTarget, type UploadDeps } from "./upload.ts";

/** Longest challenged range: long enough to need the content, short enough to hash instantly. */
export const MAX_CHALLENGE_BYTES = 64 * 1024;
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** The one answer to a proof that does not link: wrong, or for content the server does not hold. */
export const PROOF_FAILED = "the proof does not match the content: upload the file instead";

export interface InstantDeps extends UploadDeps {
  /** Key that signs challenges; the same on every replica. */
  challengeKey: Uint8Array;
  now: () => number;
  /**
   * Where content settles (S3 under STORAGE_POLICY=transfer; else the landing store `blobs`): a proof for
   * content the server does not hold reads a range of an absent object there, as long as a real read.
   */
  settledStore?: BlobStore;
  /**
   * Legacy compatibility (LEGACY_TRUST_SHA1): let the SHA-1-only fast upload link anyone's content. Off by
   * default: then it links only content the caller already holds.
   */
  trustSha1?: boolean;
}

/** The challenge key, derived from the internal secret every replica shares. */
export function challengeKeyFrom(internalSecret: string): Uint8Array {
  return createHmac("sha256", internalSecret).update("filestore/instant-upload-challenge/v1").digest();
}

interface Challenge {
  /** caller */
  u: string;
  /** content and its declared size */
  h: string;
  z: number;
  /** target name and folder */
  n: string;
  p: string;
  /** range start and length */
  s: number;
  l: number;
  /** expiry, epoch ms */
  e: number;
  /** the conflict policy (filestore.file.v1.ConflictPolicy; absent: unspecified) */
  o?: number;
}

function sign(key: Uint8Array, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

function encode(key: Uint8Array, c: Challenge): string {
  const payload = Buffer.from(JSON.stringify(c)).toString("base64url");
  return `${payload}.${sign(key, payload)}`;
}

function decode(key: Uint8Array, token: string): Challenge {
  const [payload, mac, extra] = token.split(".");
  const bad = () => invalidArgument("the challenge is not one this server issued");
  if (!payload || !mac || extra !== undefined || token.length > 2048) throw bad();
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
  const c = JSON.parse(Buffer.from(payload, "base64url").toString()) as Challenge;
  // Signed by a replica that predates a field: as unknown as a forged one.
  if (![c.z, c.s, c.l, c.e].every(Number.isSafeInteger)) throw bad();
  return c;
}

/** A uniform random integer in [0, span): randomInt takes spans below 2^48 only (declared sizes go to 2^53). */
function randomBelow(span: number): number {
  if (span <= 2 ** 48) return randomInt(0, span);
  return Number(randomBytes(8).readBigUInt64BE() % BigInt(span)); // bias below 2^-11: irrelevant here
}

export async function offerContent(
  deps: InstantDeps,
  who: Identity,
  offer: { sha256: string; size: bigint; name: string; parentId: string; onConflict?: ConflictPolicy },
): Promise<{ challengeId: string; rangeStart: bigint; rangeLength: bigint }> {
  const sha256 = offer.sha256.toLowerCase();
  if (!isHex(sha256, 64)) throw invalidArgument("sha256 must be 64 hexadecimal digits");
  if (!isSafeSize(offer.size)) throw invalidArgument("size is out of range");
  const { name, parentId, onConflict } = checkTarget(offer);
  // Content the caller could not afford is refused now rather than after the proof (an instant upload is
  // charged in full). This reads only the caller's own counters, so it says nothing about what is held;
  // the charge at linking stays the atomic check (usage may grow between offer and proof).
  await deps.meta.checkQuota({ ownerId: who.userId, bytes: offer.size });
  // Whether the content is held is decided by the proof, never here.
  const size = Number(offer.size);
  const length = Math.min(size, MAX_CHALLENGE_BYTES);
  const start = randomBelow(size - length + 1);
  const challenge: Challenge = {
    u: who.userId,
    h: sha256,
    z: size,
    n: name,
    p: parentId,
    s: start,
    l: length,
    e: deps.now() + CHALLENGE_TTL_MS,
    o: onConflict,
  };
  deps.metrics?.instant("offered");
  return {
    challengeId: encode(deps.challengeKey, challenge),
    rangeStart: BigInt(start),
    rangeLength: BigInt(length),
  };
}

/** The blob of this hash when it is ready, else undefined. */
async function heldBlob(deps: InstantDeps, sha256: string): Promise<BlobRecord | undefined> {
  try {
    const { blob } = await deps.meta.getBlob({ sha256 });
    return blob?.state === "ready" ? blob : undefined;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

/**
 * The SHA-256 of the challenged range: of the held blob, or, for content the server does not hold (or
 * holds with another size), of as many zero bytes after a read of an absent object in the store where
 * content settles — the same calls either way (a store that is down fails both alike).
 */
async function rangeDigest(deps: InstantDeps, c: Challenge, blob: BlobRecord | undefined): Promise<string> {
  const held = blob !== undefined && blob.size === BigInt(c.z);
  const store = held ? deps.storeFor(blob.backend) : (deps.settledStore ?? deps.blobs);
  const location = held ? blob.location : canRelocate(store) ? store.newLocation() : newLocalLocation(c.h);
  const hasher = new Bun.CryptoHasher("sha256");
  if (c.l === 0) return hasher.digest("hex");
  let read = 0;
  try {
    const range = await store.read(location, { start: c.s, end: c.s + c.l - 1 });
    for await (const chunk of range as unknown as AsyncIterable<Uint8Array>) {
      hasher.update(chunk);
      read += chunk.byteLength;
    }
  } catch (err) {
    if (!(err instanceof BlobNotFoundError)) throw err;
  }
  if (read < c.l) hasher.update(new Uint8Array(c.l - read));
  return hasher.digest("hex");
}

export async function proveContent(
  deps: InstantDeps,
  who: Identity,
  proof: { challengeId: string; rangeSha256: string },
): Promise<File> {
  const c = decode(deps.challengeKey, proof.challengeId);
  if (c.u !== who.userId) throw permissionDenied("this challenge was issued to someone else");
  if (c.e <= deps.now()) throw failedPrecondition("the challenge expired: offer the content again");
  const given = proof.rangeSha256.toLowerCase();
  if (!isHex(given, 64)) throw invalidArgument("range_sha256 must be 64 hexadecimal digits");
  const blob = await heldBlob(deps, c.h);
  const expected = Buffer.from(await rangeDigest(deps, c, blob));
  const matches = timingSafeEqual(expected, Buffer.from(given));
  if (!matches || blob === undefined || blob.size !== BigInt(c.z)) {
    deps.metrics?.instant("proof_failed");
    throw failedPrecondition(PROOF_FAILED);
  }
  try {
    const { file } = await deps.meta.addFileForExistingBlob({
      file: { ownerId: who.userId, parentId: c.p, name: c.n, onConflict: c.o ?? ConflictPolicy.UNSPECIFIED },
      sha256: c.h,
    });
    if (!file) throw new ConnectError("meta returned no file", Code.Internal);
    announceUpload(deps, who.userId, file);
    deps.metrics?.instant("hit");
    return publicFile(file, blob.sha1);
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound)
      throw failedPrecondition("the content is gone: upload it");
    throw err;
  }
}

/** The legacy fast upload: a new name for content found by SHA-1 (see InstantDeps.trustSha1). */
export async function linkBySha1(
  deps: InstantDeps,
  who: Identity,
  req: { sha1: string; size: bigint; name: string; parentId: string; onConflict?: ConflictPolicy },
): Promise<File> {
  const sha1 = req.sha1.toLowerCase();
  if (!isHex(sha1, 40)) throw invalidArgument("sha1 must be 40 hexadecimal digits");
  const { name, parentId, onConflict } = checkTarget(req);
  const miss = () => notFound("no content with this hash that you may link: upload the file");
  let blob: Awaited<ReturnType<UploadDeps["meta"]["findBlobBySha1"]>>["blob"];
  try {
    blob = (await deps.meta.findBlobBySha1({ sha1, ownerId: deps.trustSha1 ? "" : who.userId })).blob;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw miss();
    throw err;
  }
  if (!blob || (req.size > 0n && blob.size !== req.size)) {
    deps.metrics?.instant("sha1_missed");
    throw miss();
  }
  try {
    const { file } = await deps.meta.addFileForExistingBlob({
      file: { ownerId: who.userId, parentId, name, onConflict },
      sha256: blob.sha256,
    });
    if (!file) throw new ConnectError("meta returned no file", Code.Internal);
    announceUpload(deps, who.userId, file);
    deps.metrics?.instant("sha1_linked");
    return publicFile(file, blob.sha1);
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw miss();
    throw err;
  }
}
