// Instant upload (秒传) with proof of possession: a client that offers a SHA-256 the server already holds
// must return the SHA-256 of a byte range the server picks at random before the content is linked to
// it. A hash alone never grants a file.
//
// The challenge is stateless — an HMAC-signed token naming the caller, the content, the target name and
// the range, valid for a few minutes — so any replica can check the proof.
import { createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { File } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { Identity } from "../lib/access-token.ts";
import { failedPrecondition, invalidArgument, notFound, permissionDenied } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import { checkTarget, type UploadDeps } from "./upload.ts";

/** Longest challenged range: long enough to need the content, short enough to hash instantly. */
export const MAX_CHALLENGE_BYTES = 64 * 1024;
export const CHALLENGE_TTL_MS = 5 * 60_000;

export interface InstantDeps extends UploadDeps {
  /** Key that signs challenges; the same on every replica. */
  challengeKey: Uint8Array;
  now: () => number;
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
  /** content */
  h: string;
  /** target name and folder */
  n: string;
  p: string;
  /** range start and length */
  s: number;
  l: number;
  /** expiry, epoch ms */
  e: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

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
  return JSON.parse(Buffer.from(payload, "base64url").toString()) as Challenge;
}

export async function offerContent(
  deps: InstantDeps,
  who: Identity,
  offer: { sha256: string; size: bigint; name: string; parentId: string },
): Promise<{ challengeId: string; rangeStart: bigint; rangeLength: bigint }> {
  const sha256 = offer.sha256.toLowerCase();
  if (!HEX64.test(sha256)) throw invalidArgument("sha256 must be 64 hexadecimal digits");
  if (offer.size < 0n || offer.size > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalidArgument("size is out of range");
  const { name, parentId } = checkTarget({ name: offer.name, parentId: offer.parentId });
  const miss = { challengeId: "", rangeStart: 0n, rangeLength: 0n };
  let blob: Awaited<ReturnType<UploadDeps["meta"]["getBlob"]>>["blob"];
  try {
    blob = (await deps.meta.getBlob({ sha256 })).blob;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return miss;
    throw err;
  }
  // Same answer for "unknown" and "known but another size": nothing to learn from probing.
  if (blob?.state !== "ready" || blob.size !== offer.size) return miss;
  const size = Number(blob.size);
  const length = Math.min(size, MAX_CHALLENGE_BYTES);
  const start = randomInt(0, size - length + 1);
  const challenge: Challenge = {
    u: who.userId,
    h: sha256,
    n: name,
    p: parentId,
    s: start,
    l: length,
    e: deps.now() + CHALLENGE_TTL_MS,
  };
  return {
    challengeId: encode(deps.challengeKey, challenge),
    rangeStart: BigInt(start),
    rangeLength: BigInt(length),
  };
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
  if (!HEX64.test(given)) throw invalidArgument("range_sha256 must be 64 hexadecimal digits");
  const { blob } = await deps.meta.getBlob({ sha256: c.h });
  if (!blob) throw failedPrecondition("the content is gone: upload it");
  const hasher = new Bun.CryptoHasher("sha256");
  if (c.l > 0) {
    const range = await deps.storeFor(blob.backend).read(blob.location, { start: c.s, end: c.s + c.l - 1 });
    for await (const chunk of range as unknown as AsyncIterable<Uint8Array>) hasher.update(chunk);
  }
  const expected = Buffer.from(hasher.digest("hex"));
  if (!timingSafeEqual(expected, Buffer.from(given))) {
    throw failedPrecondition("the proof does not match the content: upload the file instead");
  }
  try {
    const { file } = await deps.meta.addFileForExistingBlob({
      file: { ownerId: who.userId, parentId: c.p, name: c.n },
      sha256: c.h,
    });
    if (!file) throw new ConnectError("meta returned no file", Code.Internal);
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
  req: { sha1: string; size: bigint; name: string; parentId: string },
): Promise<File> {
  const sha1 = req.sha1.toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(sha1)) throw invalidArgument("sha1 must be 40 hexadecimal digits");
  const { name, parentId } = checkTarget({ name: req.name, parentId: req.parentId });
  const miss = () => notFound("no content with this hash that you may link: upload the file");
  let blob: Awaited<ReturnType<UploadDeps["meta"]["findBlobBySha1"]>>["blob"];
  try {
    blob = (await deps.meta.findBlobBySha1({ sha1, ownerId: deps.trustSha1 ? "" : who.userId })).blob;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw miss();
    throw err;
  }
  if (!blob || (req.size > 0n && blob.size !== req.size)) throw miss();
  try {
    const { file } = await deps.meta.addFileForExistingBlob({
      file: { ownerId: who.userId, parentId, name },
      sha256: blob.sha256,
    });
    if (!file) throw new ConnectError("meta returned no file", Code.Internal);
    return publicFile(file, blob.sha1);
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw miss();
    throw err;
  }
}
