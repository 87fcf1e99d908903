// filestore.account.v1.AccountService and the JWKS endpoint.
import type { ConnectRouter } from "@connectrpc/connect";
import { JWKS_PATH } from "../../core/access-token.ts";
import { AccountService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { clientIpKey, requireIdentity } from "../lib/context.ts";
import type { ServiceModule } from "../lib/server.ts";
import * as account from "./account.ts";

export function accountModule(deps: account.AccountDeps): ServiceModule {
  const jwks = JSON.stringify(deps.key.jwks);
  return {
    services: [AccountService],
    routes(router: ConnectRouter) {
      router.service(AccountService, {
        async signup(req) {
          return { user: await account.signup(deps, req.username, req.password) };
        },
        async signin(req, ctx) {
          return account.signin(deps, req.username, req.password, ctx.values.get(clientIpKey));
        },
        async refresh(req) {
          return { tokens: await account.refresh(deps, req.refreshToken) };
        },
        async signout(req) {
          await account.signout(deps, req.refreshToken);
          return {};
        },
        async getUserInfo(_req, ctx) {
          return account.userInfo(deps, requireIdentity(ctx));
        },
        async listRevokedSessions(req) {
          return account.listRevokedSessions(deps, req.since);
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
