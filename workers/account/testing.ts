// The account service over an in-memory SQLite meta, through the real interceptors, for its unit tests:
// AccountService and AdminService as a user calls them, AppPasswordAuthService as another service calls it.
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createAccessTokenVerifier } from "../../core/access-token.ts";
import { AccountService, AppPasswordAuthService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { AdminService } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { memoryTransport } from "../lib/clients.ts";
import { authInterceptor, errorInterceptor, internalCallerInterceptor } from "../lib/interceptors.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { createMetaClient } from "../lib/meta-client.ts";
import { memoryRateLimiter, type RateLimiter } from "../lib/ratelimit.ts";
import { type Db, migrateToLatest, openDatabase } from "../meta/db/database.ts";
import { metaModule } from "../meta/service.ts";
import type * as account from "./account.ts";
import { generatePrivateJwk, signingKeyFromJwk } from "./keys.ts";
import { accountModule } from "./service.ts";

export const testSecret = "0123456789abcdef0123456789abcdef";
export const testKey = await signingKeyFromJwk(await generatePrivateJwk());

export interface SetupOptions {
  perUser?: number;
  perUserTotal?: number;
  perClient?: number;
  limiter?: RateLimiter;
  log?: Logger;
  now?: () => number;
  signup?: account.AccountDeps["signup"];
  /** ADMIN_USERS. */
  adminUsers?: string[];
  /** The file worker's consistency checker (AdminService.CheckIntegrity). */
  checkIntegrity?: account.CheckIntegrity;
}

export async function setupAccount(opts: SetupOptions = {}) {
  const db: Db = openDatabase("sqlite::memory:");
  await migrateToLatest(db);
  const log = createLogger("test");
  const verifier = createAccessTokenVerifier({ keys: testKey.localKeys, issuer: "filestore", now: opts.now });
  const interceptors = [errorInterceptor(log), authInterceptor({ verifier, internalSecret: testSecret })];
  const meta = metaModule(db, opts.now, { serverSecret: testSecret });
  const deps: account.AccountDeps = {
    meta: createMetaClient(memoryTransport(meta, interceptors, testSecret)),
    key: testKey,
    limiter: opts.limiter ?? memoryRateLimiter(),
    issuer: "filestore",
    accessTtlSeconds: 900,
    refreshTtlSeconds: 3600,
    signinLimit: {
      perUser: opts.perUser ?? 5,
      perUserTotal: opts.perUserTotal ?? 1000,
      perClient: opts.perClient ?? 1000,
      windowSeconds: 60,
    },
    log: opts.log ?? log,
    now: opts.now ?? Date.now,
    signup: opts.signup,
    adminUsers: new Set((opts.adminUsers ?? []).map((u) => u.toLowerCase())),
    checkIntegrity: opts.checkIntegrity,
  };
  const mod = accountModule(deps);
  const transport = (internal: boolean) =>
    createRouterTransport((r) => mod.routes(r), {
      router: { interceptors },
      transport: { interceptors: internal ? [internalCallerInterceptor(testSecret)] : [] },
    });
  const client = createClient(AccountService, transport(false));
  const appAuth = createClient(AppPasswordAuthService, transport(true));
  const admin = createClient(AdminService, transport(false));
  return { db, deps, client, appAuth, admin, mod, verifier, interceptors };
}
