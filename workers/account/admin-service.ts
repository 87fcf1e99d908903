// filestore.admin.v1.AdminService: a thin body per RPC. Each one first establishes that the caller is an
// administrator (admin-access.ts: the role read from the database, app-password tokens refused), then
// runs the logic in admin-users.ts or admin-instance.ts, which audits every change with the client address.
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { AdminService } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { clientIpKey, requireIdentity } from "../lib/context.ts";
import type { AccountDeps } from "./account.ts";
import { requireAdmin } from "./admin-access.ts";
import * as instance from "./admin-instance.ts";
import * as users from "./admin-users.ts";

export function adminRoutes(router: ConnectRouter, deps: AccountDeps): void {
  const admin = (ctx: HandlerContext) =>
    requireAdmin(deps, requireIdentity(ctx), ctx.values.get(clientIpKey));
  router.service(AdminService, {
    async listUsers(req, ctx) {
      await admin(ctx);
      return users.listUsers(deps, req.query, req.pageSize, req.pageToken);
    },
    async getUser(req, ctx) {
      await admin(ctx);
      const key = req.key;
      return {
        user: await users.getUser(
          deps,
          key.case === "username" ? { username: key.value } : { id: key.case === "userId" ? key.value : "" },
        ),
      };
    },
    async createUser(req, ctx) {
      return { user: await users.createUser(deps, await admin(ctx), req) };
    },
    async setQuota(req, ctx) {
      return { user: await users.setQuota(deps, await admin(ctx), req) };
    },
    async disableUser(req, ctx) {
      return users.setDisabled(deps, await admin(ctx), req.userId, true, req.reason);
    },
    async enableUser(req, ctx) {
      const { user } = await users.setDisabled(deps, await admin(ctx), req.userId, false);
      return { user };
    },
    async resetPassword(req, ctx) {
      return users.resetPassword(deps, await admin(ctx), req.userId, req.newPassword);
    },
    async deleteUser(req, ctx) {
      return users.deleteUser(deps, await admin(ctx), req.userId, req.confirmUsername);
    },
    async setAdmin(req, ctx) {
      return { user: await users.setAdmin(deps, await admin(ctx), req.userId, req.admin) };
    },
    async createInvite(req, ctx) {
      return instance.createInvite(deps, await admin(ctx), req.ttlSeconds, req.note);
    },
    async listInvites(req, ctx) {
      await admin(ctx);
      return instance.listInvites(deps, req.includeInactive);
    },
    async revokeInvite(req, ctx) {
      await instance.revokeInvite(deps, await admin(ctx), req.id);
      return {};
    },
    async listAuditEvents(req, ctx) {
      await admin(ctx);
      return instance.listAuditEvents(deps, req.pageSize, req.pageToken, req.targetId);
    },
    async getInstanceStats(_req, ctx) {
      await admin(ctx);
      return instance.instanceStats(deps);
    },
    async *checkIntegrity(req, ctx) {
      yield* instance.checkIntegrity(deps, await admin(ctx), req, ctx.signal);
    },
  });
}
