// What `filestore admin` prints: the --json objects (stable camelCase fields, times as ISO 8601, bytes as
// numbers; add fields, never rename) and the human lines.
import type {
  AuditEvent,
  GetInstanceStatsResponse,
  Invite,
  ManagedUser,
} from "../proto/gen/filestore/admin/v1/admin_pb.ts";
import { isoTime } from "./json-output.ts";
import { formatBytes } from "./progress.ts";

export function userJson(u: ManagedUser) {
  return {
    id: u.id,
    username: u.username,
    admin: u.admin,
    disabled: u.disabled,
    mustChangePassword: u.mustChangePassword,
    twoFactorEnabled: u.twoFactorEnabled,
    usedBytes: Number(u.usedBytes),
    reservedBytes: Number(u.reservedBytes),
    /** 0: unlimited. */
    quotaBytes: Number(u.quotaBytes),
    defaultQuota: u.defaultQuota,
    files: Number(u.files),
    createdAt: isoTime(u.createdAt),
    lastActiveAt: isoTime(u.lastActiveAt),
  };
}

const day = (t: Parameters<typeof isoTime>[0]) => (isoTime(t) ?? "never").slice(0, 16).replace("T", " ");
const quotaText = (u: ManagedUser) =>
  `${u.quotaBytes === 0n ? "unlimited" : formatBytes(Number(u.quotaBytes))}${u.defaultQuota ? " (default)" : ""}`;
const flags = (u: ManagedUser) =>
  [
    u.admin && "admin",
    u.disabled && "disabled",
    u.mustChangePassword && "must-change-password",
    u.twoFactorEnabled && "2fa",
  ]
    .filter(Boolean)
    .join(",") || "-";

/** One line a user in the users table. */
export const userRow = (u: ManagedUser) =>
  `${u.username.padEnd(20)} ${formatBytes(Number(u.usedBytes)).padStart(10)} of ${quotaText(u).padEnd(22)} ${String(u.files).padStart(7)} files  last active ${day(u.lastActiveAt)}  ${flags(u)}`;

export const userLines = (u: ManagedUser) => [
  `User        ${u.username} (id ${u.id})`,
  `Role        ${u.admin ? "administrator" : "user"}${u.disabled ? ", DISABLED" : ""}`,
  `Used        ${formatBytes(Number(u.usedBytes))} of ${quotaText(u)}${u.reservedBytes > 0n ? `, ${formatBytes(Number(u.reservedBytes))} reserved` : ""}`,
  `Files       ${u.files}`,
  `Two-factor  ${u.twoFactorEnabled ? "on" : "off"}`,
  `Created     ${day(u.createdAt)}`,
  `Last active ${day(u.lastActiveAt)}`,
  ...(u.mustChangePassword ? ["Password    must be changed at the next signin"] : []),
];

export const inviteJson = (i: Invite) => ({
  id: i.id,
  createdAt: isoTime(i.createdAt),
  expiresAt: isoTime(i.expiresAt),
  createdBy: i.createdBy,
  note: i.note,
  usedByUsername: i.usedByUsername,
  usedAt: isoTime(i.usedAt),
});

export const inviteRow = (i: Invite) =>
  `${i.id}  expires ${day(i.expiresAt)}  by ${i.createdBy}${i.usedByUsername ? `  used by ${i.usedByUsername} ${day(i.usedAt)}` : ""}${i.note ? `  "${i.note}"` : ""}`;

export const auditJson = (e: AuditEvent) => ({
  id: e.id,
  at: isoTime(e.at),
  actorId: e.actorId,
  actorUsername: e.actorUsername,
  action: e.action,
  targetId: e.targetId,
  targetUsername: e.targetUsername,
  clientAddress: e.clientAddress,
  details: e.details,
});

export const auditRow = (e: AuditEvent) =>
  `${(isoTime(e.at) ?? "").slice(0, 19).replace("T", " ")}  ${e.actorUsername.padEnd(16)} ${e.action.padEnd(20)} ${(e.targetUsername || e.targetId).padEnd(20)} ${e.clientAddress || "-"}  ${e.details}`;

export const statsJson = (s: GetInstanceStatsResponse) => ({
  users: Number(s.users),
  admins: Number(s.admins),
  disabledUsers: Number(s.disabledUsers),
  files: Number(s.files),
  logicalBytes: Number(s.logicalBytes),
  storedBytes: Number(s.storedBytes),
  dedupRatio: s.dedupRatio,
  reservedBytes: Number(s.reservedBytes),
  trashBytes: Number(s.trashBytes),
  backends: s.backends.map((b) => ({
    backend: b.backend,
    blobs: Number(b.blobs),
    storedBytes: Number(b.storedBytes),
  })),
});

export const statsLines = (s: GetInstanceStatsResponse) => [
  `Users       ${s.users} (${s.admins} administrators, ${s.disabledUsers} disabled)`,
  `Files       ${s.files}`,
  `Logical     ${formatBytes(Number(s.logicalBytes))} (what users are charged; ${formatBytes(Number(s.trashBytes))} in the trash)`,
  `Stored      ${formatBytes(Number(s.storedBytes))} (dedup ratio ${s.dedupRatio.toFixed(2)})`,
  ...s.backends.map(
    (b) =>
      `  ${b.backend.padEnd(9)} ${String(b.blobs).padStart(8)} blobs  ${formatBytes(Number(b.storedBytes))}`,
  ),
  ...(s.reservedBytes > 0n
    ? [`Reserved    ${formatBytes(Number(s.reservedBytes))} by uploads in progress`]
    : []),
];
