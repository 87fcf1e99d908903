// ShareService's owner calls: create, edit, list and revoke links. The caller's identity scopes every meta
// call, so another user's link answers like a missing one.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Identity } from "../../../core/access-token.ts";
import {
  type CreateShareRequest,
  ShareMode,
  type UpdateShareRequest,
} from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import { invalidArgument } from "../../lib/errors.ts";
import { type ShareDeps, shareMessage } from "./deps.ts";

/** The longest password a link takes (argon2id hashes any length; this bounds the work). */
const MAX_PASSWORD_BYTES = 1024;
const DAY_MS = 86_400_000;
const MODE_NAMES: Partial<Record<ShareMode, "view" | "drop">> = {
  [ShareMode.VIEW]: "view",
  [ShareMode.DROP]: "drop",
};

/** 144 random bits, base64url (24 characters): the link itself. */
export const newShareId = () => Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");

const hashPassword = (password: string) => {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
    throw invalidArgument(`password must be at most ${MAX_PASSWORD_BYTES} bytes`);
  return password === "" ? Promise.resolve("") : Bun.password.hash(password, { algorithm: "argon2id" });
};

/** The expiry to store (epoch ms, 0: none) under SHARE_MAX_TTL_DAYS. */
function expiryOf(deps: ShareDeps, given: Timestamp | undefined): number {
  const now = deps.now();
  const maxMs = deps.config.maxTtlDays > 0 ? now + deps.config.maxTtlDays * DAY_MS : 0;
  if (!given) return maxMs;
  const ms = Number(timestampMs(given));
  if (ms <= now) throw invalidArgument("expires_at must be in the future");
  if (maxMs && ms > maxMs)
    throw invalidArgument(`links may live at most ${deps.config.maxTtlDays} days here (SHARE_MAX_TTL_DAYS)`);
  return ms;
}

const count = (n: bigint, what: string) => {
  if (n < 0n) throw invalidArgument(`${what} cannot be negative`);
  return n;
};

export async function createShare(deps: ShareDeps, who: Identity, req: CreateShareRequest) {
  if (!req.targetId) throw invalidArgument("target_id is required");
  const mode = MODE_NAMES[req.mode === ShareMode.UNSPECIFIED ? ShareMode.VIEW : req.mode];
  if (!mode) throw invalidArgument("mode must be SHARE_MODE_VIEW or SHARE_MODE_DROP");
  if (mode === "view" && req.maxFileBytes !== 0n)
    throw invalidArgument("max_file_bytes applies to drop links only");
  const res = await deps.meta.createShareRow({
    id: newShareId(),
    ownerId: who.userId,
    targetId: req.targetId,
    mode,
    passwordHash: await hashPassword(req.password),
    expiresAtMs: BigInt(expiryOf(deps, req.expiresAt)),
    maxDownloads: count(req.maxDownloads, "max_downloads"),
    maxFileBytes: count(req.maxFileBytes, "max_file_bytes"),
  });
  if (!res.share) throw new Error("meta returned no share");
  return { share: shareMessage(res.share) };
}

export async function updateShare(deps: ShareDeps, who: Identity, req: UpdateShareRequest) {
  if (!req.id) throw invalidArgument("id is required");
  if (req.clearPassword && req.password) throw invalidArgument("give password or clear_password, not both");
  if (req.clearExpiry && req.expiresAt) throw invalidArgument("give expires_at or clear_expiry, not both");
  if (req.clearExpiry && deps.config.maxTtlDays > 0)
    throw invalidArgument(
      `links must expire within ${deps.config.maxTtlDays} days here (SHARE_MAX_TTL_DAYS)`,
    );
  const res = await deps.meta.updateShareRow({
    ownerId: who.userId,
    id: req.id,
    passwordHash: req.clearPassword
      ? ""
      : req.password === undefined
        ? undefined
        : await hashPassword(req.password),
    expiresAtMs: req.clearExpiry ? 0n : req.expiresAt ? BigInt(expiryOf(deps, req.expiresAt)) : undefined,
    maxDownloads: req.maxDownloads === undefined ? undefined : count(req.maxDownloads, "max_downloads"),
    maxFileBytes: req.maxFileBytes === undefined ? undefined : count(req.maxFileBytes, "max_file_bytes"),
  });
  if (!res.share) throw new Error("meta returned no share");
  // A new password, expiry or limit: download replicas that keep the link's answer drop it (the share cache).
  await deps.events?.linkRevoked({ kind: "share", id: req.id, ownerId: who.userId });
  return { share: shareMessage(res.share) };
}

export async function listShares(
  deps: ShareDeps,
  who: Identity,
  req: { pageSize: number; pageToken: string; targetId: string },
) {
  if (req.pageSize < 0) throw invalidArgument("page_size cannot be negative");
  const res = await deps.meta.listShareRows({ ownerId: who.userId, ...req });
  return { shares: res.shares.map(shareMessage), nextPageToken: res.nextPageToken };
}

export async function revokeShare(deps: ShareDeps, who: Identity, id: string) {
  if (!id) throw invalidArgument("id is required");
  await deps.meta.deleteShareRow({ ownerId: who.userId, id });
  await deps.events?.linkRevoked({ kind: "share", id, ownerId: who.userId });
  return {};
}
