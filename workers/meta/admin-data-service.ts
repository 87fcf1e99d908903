// filestore.meta.v1.AdminDataService: users' role and state, invites, the audit log and instance
// statistics for administrators (logic in admin-users.ts, invites.ts, audit.ts, instance-stats.ts).
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminDataService } from "../../proto/gen/filestore/meta/v1/admin_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex, pageSize } from "../lib/validate.ts";
import * as admins from "./admin-users.ts";
import * as audit from "./audit.ts";
import type { InstanceStats } from "./instance-stats.ts";
import * as invites from "./invites.ts";
import { usageRecord } from "./quota-service.ts";
import type { MetaDeps } from "./records.ts";

const ms = (t: number | null | undefined) => (t == null ? undefined : timestampFromMs(t));
const expiry = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : undefined);

const managedRecord = (m: admins.ManagedUser) => ({
  id: m.user.id,
  username: m.user.username,
  createdAt: timestampFromMs(m.user.created_at),
  lastActiveAt: timestampFromMs(m.user.last_active_at),
  admin: m.user.admin === 1,
  disabledAt: ms(m.user.disabled_at),
  mustChangePassword: m.user.must_change_password === 1,
  twoFactorEnabled: m.twoFactor,
  usage: usageRecord(m.usage),
});

const inviteRecord = (r: invites.InviteRow) => ({
  id: r.id,
  createdAt: timestampFromMs(r.created_at),
  expiresAt: timestampFromMs(r.expires_at),
  createdBy: r.created_by,
  createdByUsername: r.created_by_username,
  note: r.note,
  usedBy: r.used_by ?? "",
  usedByUsername: r.used_by_username ?? "",
  usedAt: ms(r.used_at),
});

const auditRecord = (r: audit.AuditRow) => ({
  id: r.id,
  at: timestampFromMs(r.at),
  actorId: r.actor_id,
  actorUsername: r.actor_username,
  action: r.action,
  targetId: r.target_id,
  targetUsername: r.target_username,
  clientAddress: r.client_address,
  details: r.details,
});

const required = (value: string, field: string): string => {
  if (!value) throw invalidArgument(`${field} is required`);
  return value;
};

const rethrow = (err: unknown): never => {
  if (err instanceof admins.NoSuchUserError) throw notFound("no such user");
  if (err instanceof admins.LastAdminError)
    throw failedPrecondition("this is the last administrator: make another user an administrator first");
  if (err instanceof audit.BadPageTokenError)
    throw invalidArgument("page_token is not one this service gave");
  throw err;
};

export function adminDataService(
  { db, now, quota: rules }: MetaDeps,
  stats: (now: number) => Promise<InstanceStats>,
): ServiceImpl<typeof AdminDataService> {
  const managed = async (id: string) => managedRecord(await admins.getManagedUser(db, rules, { id }));
  return {
    async listManagedUsers(req) {
      const page = { query: req.query, limit: pageSize(req.pageSize), after: req.after };
      const res = await admins.listManagedUsers(db, rules, page);
      return { users: res.users.map(managedRecord), nextAfter: res.next };
    },
    async getManagedUser(req) {
      const key = req.key;
      if (!key.case || !key.value) throw invalidArgument("give an id or a username");
      const m = await admins
        .getManagedUser(db, rules, key.case === "id" ? { id: key.value } : { username: key.value })
        .catch(rethrow);
      return { user: managedRecord(m) };
    },
    async setUserAdmin(req) {
      const id = required(req.userId, "user_id");
      await admins.setUserAdmin(db, id, req.admin).catch(rethrow);
      return { user: await managed(id) };
    },
    async setUserDisabled(req) {
      const id = required(req.userId, "user_id");
      const n = await admins
        .setUserDisabled(db, id, req.disabled, now(), expiry(req.revocationExpiresAt))
        .catch(rethrow);
      return { user: await managed(id), sessionsRevoked: n };
    },
    async resetUserPassword(req) {
      const id = required(req.userId, "user_id");
      const hash = required(req.passwordHash, "password_hash");
      const n = await admins
        .resetUserPassword(db, id, hash, now(), expiry(req.revocationExpiresAt))
        .catch(rethrow);
      return { sessionsRevoked: n };
    },
    async createInvite(req) {
      if (!req.expiresAt) throw invalidArgument("expires_at is required");
      if ([...req.note].length > 200) throw invalidArgument("note must be at most 200 characters");
      const row = await invites.createInvite(
        db,
        {
          code_hash: hex(req.codeHash, 64, "code_hash"),
          created_by: required(req.createdBy, "created_by"),
          created_by_username: required(req.createdByUsername, "created_by_username"),
          note: req.note,
          expires_at: timestampDate(req.expiresAt).getTime(),
        },
        now(),
      );
      return { invite: inviteRecord(row) };
    },
    async listInvites(req) {
      return { invites: (await invites.listInvites(db, req.includeInactive, now())).map(inviteRecord) };
    },
    async revokeInvite(req) {
      return { revoked: await invites.revokeInvite(db, required(req.id, "id")) };
    },
    async appendAuditEvent(req) {
      const e = req.event;
      if (!e) throw invalidArgument("event is required");
      const row = await audit.appendAuditEvent(
        db,
        {
          actor_id: required(e.actorId, "actor_id"),
          actor_username: e.actorUsername,
          action: required(e.action, "action"),
          target_id: e.targetId,
          target_username: e.targetUsername,
          client_address: e.clientAddress,
          details: e.details,
        },
        now(),
      );
      return { event: auditRecord(row) };
    },
    async listAuditEvents(req) {
      const page = { limit: pageSize(req.pageSize), token: req.pageToken, targetId: req.targetId };
      const res = await audit.listAuditEvents(db, page).catch(rethrow);
      return { events: res.events.map(auditRecord), nextPageToken: res.next };
    },
    async getInstanceStats() {
      const s = await stats(now());
      const big = BigInt;
      return {
        users: big(s.users),
        admins: big(s.admins),
        disabledUsers: big(s.disabledUsers),
        files: big(s.files),
        logicalBytes: big(s.logicalBytes),
        storedBytes: big(s.storedBytes),
        reservedBytes: big(s.reservedBytes),
        trashBytes: big(s.trashBytes),
        backends: s.backends.map((b) => ({
          backend: b.backend,
          blobs: big(b.blobs),
          storedBytes: big(b.storedBytes),
        })),
      };
    },
  };
}
