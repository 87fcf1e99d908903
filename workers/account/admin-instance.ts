// AdminService's invites, audit log, instance statistics and the consistency check (run by the file worker).
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AuditEvent,
  AuditEventSchema,
  type CheckIntegrityResponse,
  type GetInstanceStatsResponse,
  GetInstanceStatsResponseSchema,
  type Invite,
  InviteSchema,
} from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import type { AuditEventRecord, InviteRecord } from "../../proto/gen/filestore/meta/v1/admin_pb.ts";
import { invalidArgument, notFound } from "../lib/errors.ts";
import type { AccountDeps } from "./account.ts";
import { type Actor, audit } from "./admin-access.ts";
import { pageSizeOf } from "./admin-users.ts";
import { sha256Hex } from "./tokens.ts";

const HOUR = 3600;

type Plain<T> = Omit<T, "$typeName" | "$unknown">;
const DAY = 24 * HOUR;
export const INVITE_TTL = { min: HOUR, max: 90 * DAY, default: 7 * DAY } as const;

const toInvite = (r: InviteRecord): Invite =>
  create(InviteSchema, {
    id: r.id,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    createdBy: r.createdByUsername,
    note: r.note,
    usedByUsername: r.usedByUsername,
    usedAt: r.usedAt,
  });

/** An invite code: "fsi_" and 128 random bits in base64url (what the invitee types or pastes). */
const newInviteCode = () =>
  `fsi_${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url")}`;

export async function createInvite(deps: AccountDeps, actor: Actor, ttlSeconds: bigint, note: string) {
  const ttl = ttlSeconds === 0n ? INVITE_TTL.default : Number(ttlSeconds);
  if (ttl < INVITE_TTL.min || ttl > INVITE_TTL.max)
    throw invalidArgument("ttl_seconds must be from 3600 (1 hour) to 7776000 (90 days); 0 means 7 days");
  const trimmed = note.trim();
  if ([...trimmed].length > 200 || /\p{Cc}/u.test(trimmed))
    throw invalidArgument("note must be at most 200 printable characters");
  const code = newInviteCode();
  const { invite } = await deps.meta.createInvite({
    codeHash: sha256Hex(code),
    createdBy: actor.id,
    createdByUsername: actor.username,
    note: trimmed,
    expiresAt: timestampFromMs(deps.now() + ttl * 1000),
  });
  if (!invite) throw new ConnectError("meta returned no invite", Code.Internal);
  await audit(
    deps,
    actor,
    "invite.create",
    { id: invite.id, username: "" },
    {
      ttl_seconds: ttl,
      ...(trimmed ? { note: trimmed } : {}),
    },
  );
  return { invite: toInvite(invite), code };
}

export async function listInvites(deps: AccountDeps, includeInactive: boolean) {
  return { invites: (await deps.meta.listInvites({ includeInactive })).invites.map(toInvite) };
}

export async function revokeInvite(deps: AccountDeps, actor: Actor, id: string) {
  if (!id) throw invalidArgument("id is required");
  const { revoked } = await deps.meta.revokeInvite({ id });
  if (!revoked) throw notFound("no such unused invite (it may have been used or revoked already)");
  await audit(deps, actor, "invite.revoke", { id, username: "" });
}

/** The meta record has the public event's fields, one for one. */
const toEvent = ({ $typeName: _, ...fields }: AuditEventRecord): AuditEvent =>
  create(AuditEventSchema, fields);

export async function listAuditEvents(
  deps: AccountDeps,
  pageSize: number,
  pageToken: string,
  targetId: string,
) {
  const res = await deps.meta.listAuditEvents({ pageSize: pageSizeOf(pageSize), pageToken, targetId });
  return { events: res.events.map(toEvent), nextPageToken: res.nextPageToken };
}

export async function instanceStats(deps: AccountDeps): Promise<GetInstanceStatsResponse> {
  const s = await deps.meta.getInstanceStats({});
  return create(GetInstanceStatsResponseSchema, {
    users: s.users,
    admins: s.admins,
    disabledUsers: s.disabledUsers,
    files: s.files,
    logicalBytes: s.logicalBytes,
    storedBytes: s.storedBytes,
    dedupRatio: s.storedBytes === 0n ? 1 : Number(s.logicalBytes) / Number(s.storedBytes),
    backends: s.backends.map((b) => ({ backend: b.backend, blobs: b.blobs, storedBytes: b.storedBytes })),
    reservedBytes: s.reservedBytes,
    trashBytes: s.trashBytes,
  });
}

/**
 * Runs the consistency checker on the file worker and streams its progress and report on; a repair is
 * audited (who, when) before it starts, and its outcome logged in the report the caller gets.
 */
export async function* checkIntegrity(
  deps: AccountDeps,
  actor: Actor,
  req: { repair: boolean; scrub: boolean; scrubBytesPerHour: bigint },
  signal: AbortSignal,
): AsyncGenerator<Plain<CheckIntegrityResponse>> {
  if (!deps.checkIntegrity)
    throw new ConnectError("the consistency checker is not reachable", Code.Unavailable);
  if (req.scrubBytesPerHour < 0n) throw invalidArgument("scrub_bytes_per_hour must not be negative");
  if (req.repair) await audit(deps, actor, "integrity.repair", { id: "", username: "" });
  const { repair, scrub, scrubBytesPerHour } = req;
  for await (const m of deps.checkIntegrity({ repair, scrub, scrubBytesPerHour }, signal)) {
    if (m.event.case === undefined) continue;
    yield { event: m.event } as Plain<CheckIntegrityResponse>;
  }
}
