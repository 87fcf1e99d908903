// filestore.account.v1.AccountService (sign-in and self-service), filestore.admin.v1.AdminService
// (admin-service.ts), AppPasswordAuthService (internal) and the JWKS endpoint.
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { JWKS_PATH } from "../../core/access-token.ts";
import {
  AccountService,
  AppPasswordAuthService,
  SignupPolicy,
} from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { AdminService } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { clientIpKey, requireIdentity } from "../lib/context.ts";
import type { ServiceModule } from "../lib/server.ts";
import * as account from "./account.ts";
import { adminRoutes } from "./admin-service.ts";
import * as apps from "./app-passwords.ts";
import * as self from "./self-service.ts";

const clientIp = (ctx: HandlerContext) => ctx.values.get(clientIpKey);
/** The caller of a settings RPC: signed in with their password, not an app password. */
const owner = (ctx: HandlerContext) => self.requireOwnSignin(requireIdentity(ctx));
const POLICIES = {
  open: SignupPolicy.OPEN,
  invite: SignupPolicy.INVITE,
  closed: SignupPolicy.CLOSED,
} as const;
const userAgent = (ctx: HandlerContext) => ctx.requestHeader.get("user-agent") ?? "";

export function accountModule(deps: account.AccountDeps): ServiceModule {
  const jwks = JSON.stringify(deps.key.jwks);
  return {
    services: [AccountService, AdminService, AppPasswordAuthService],
    routes(router: ConnectRouter) {
      router.service(AccountService, {
        async signup(req) {
          return { user: await account.signup(deps, req.username, req.password, req.inviteCode) };
        },
        async signin(req, ctx) {
          return account.signin(deps, req.username, req.password, clientIp(ctx), {
            secondFactor: req.secondFactor,
            userAgent: userAgent(ctx),
            newPassword: req.newPassword,
          });
        },
        async refresh(req, ctx) {
          const caller = { clientIp: clientIp(ctx), userAgent: userAgent(ctx) };
          return { tokens: await account.refresh(deps, req.refreshToken, caller) };
        },
        async signout(req) {
          await account.signout(deps, req.refreshToken);
          return {};
        },
        async getUserInfo(_req, ctx) {
          return account.userInfo(deps, requireIdentity(ctx));
        },
        async getSignupPolicy() {
          return { policy: POLICIES[deps.signup ?? "open"] };
        },
        async listRevokedSessions(req) {
          return account.listRevokedSessions(deps, req.since);
        },
        async changePassword(req, ctx) {
          const n = await self.changePassword(
            deps,
            owner(ctx),
            clientIp(ctx),
            req.currentPassword,
            req.newPassword,
          );
          return { sessionsRevoked: n };
        },
        async listSessions(_req, ctx) {
          return self.listSessions(deps, owner(ctx));
        },
        async revokeSession(req, ctx) {
          await self.revokeSession(deps, owner(ctx), req.sessionId);
          return {};
        },
        async signOutEverywhere(req, ctx) {
          return { sessionsRevoked: await self.signOutEverywhere(deps, owner(ctx), req.keepCurrent) };
        },
        async deleteAccount(req, ctx) {
          const who = owner(ctx);
          return {
            filesDeleted: await self.deleteAccount(deps, who, clientIp(ctx), req.password, req.secondFactor),
          };
        },
        async getTwoFactorStatus(_req, ctx) {
          return self.twoFactorStatus(deps, owner(ctx));
        },
        async beginTotpEnrollment(req, ctx) {
          return self.beginTotp(deps, owner(ctx), clientIp(ctx), req.password);
        },
        async confirmTotpEnrollment(req, ctx) {
          return { recoveryCodes: await self.confirmTotp(deps, owner(ctx), req.code) };
        },
        async disableTotp(req, ctx) {
          await self.disableTotp(deps, owner(ctx), clientIp(ctx), req.password, req.code);
          return {};
        },
        async regenerateRecoveryCodes(req, ctx) {
          const codes = await self.regenerateRecoveryCodes(
            deps,
            owner(ctx),
            clientIp(ctx),
            req.password,
            req.code,
          );
          return { recoveryCodes: codes };
        },
        async createAppPassword(req, ctx) {
          return apps.createAppPassword(deps, owner(ctx), req.name);
        },
        async listAppPasswords(_req, ctx) {
          return { appPasswords: await apps.listAppPasswords(deps, owner(ctx)) };
        },
        async revokeAppPassword(req, ctx) {
          await apps.revokeAppPassword(deps, owner(ctx), req.id);
          return {};
        },
      });
      adminRoutes(router, deps);
      router.service(AppPasswordAuthService, {
        async exchangeAppPassword(req, ctx) {
          return apps.exchangeAppPassword(
            deps,
            req.username,
            req.appPassword,
            req.clientAddress || clientIp(ctx),
          );
        },
      });
    },
    http(req) {
      if (req.method === "GET" && new URL(req.url).pathname === JWKS_PATH) {
        return new Response(jwks, {
          headers: { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" },
        });
      }
      return undefined;
    },
  };
}
