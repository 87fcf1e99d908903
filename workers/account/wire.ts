// The account service from its configuration and clients: sign-in limits (in Redis when the process has
// one, shared by every replica), the user-info cache; the same in its own process (main.ts) and in the
// all-in-one process.

import { createClient, type Transport } from "@connectrpc/connect";
import { ExpiringCache } from "../../core/cache.ts";
import { FileAdminService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { publishers } from "../lib/bus/events.ts";
import { loadEventsConfig, openEventBus } from "../lib/bus/open.ts";
import type { ConfigOf } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { authMetrics } from "../lib/metrics/auth.ts";
import type { RateLimiter } from "../lib/ratelimit.ts";
import { openSharedLimiter } from "../lib/shared-limiter.ts";
import type { Worker, WorkerClients } from "../lib/worker.ts";
import type { CheckIntegrity } from "./account.ts";
import { loadAccountConfig } from "./config.ts";
import type { SigningKey } from "./keys.ts";
import { accountModule } from "./service.ts";

/** The sections of the configuration the account service reads. */
export const accountSections = { account: loadAccountConfig, events: loadEventsConfig };
export type AccountWorkerConfig = ConfigOf<typeof accountSections>;

/**
 * AccountService and the JWKS, signing with `key` (loadSigningKey(config.account.jwt): the composer needs
 * it too, for its token verifier). `limiter`: the composer's choice (all-in-one: this process's memory);
 * without it the limits live in Redis when REDIS_URL is set (in memory while it is down), else in memory.
 */
/** FileAdminService.CheckIntegrity over a transport to the file worker (its port, or in process). */
export function fileIntegrityCheck(transport: Transport): CheckIntegrity {
  const client = createClient(FileAdminService, transport);
  return (req, signal) => client.checkIntegrity(req, { signal });
}

export async function createAccountWorker(
  config: AccountWorkerConfig,
  clients: Pick<WorkerClients, "meta" | "metrics" | "bus"> & {
    key: SigningKey;
    limiter?: RateLimiter;
    /** The file worker's consistency checker (AdminService.CheckIntegrity streams it on). */
    checkIntegrity?: CheckIntegrity;
  },
): Promise<Worker> {
  const log = createLogger("account");
  const limits = await openSharedLimiter(config, log, clients.limiter);
  const limiter = limits.limiter;
  const events = openEventBus(config, log, clients.bus);
  return {
    metrics: clients.metrics,
    module: accountModule({
      meta: clients.meta,
      key: clients.key,
      limiter,
      issuer: config.issuer,
      accessTtlSeconds: config.account.jwt.accessTtlSeconds,
      refreshTtlSeconds: config.account.jwt.refreshTtlSeconds,
      signinLimit: config.account.signinLimit,
      log,
      now: Date.now,
      userCache: new ExpiringCache(10_000),
      totpIssuer: config.account.totpIssuer,
      signup: config.account.signup,
      adminUsers: new Set(config.adminUsers.map((u) => u.toLowerCase())),
      metrics: clients.metrics && authMetrics(clients.metrics.forService("account")),
      checkIntegrity: clients.checkIntegrity,
      events: publishers(events.bus),
    }),
    start() {},
    async stop() {
      await limits.close();
      await events.close();
    },
  };
}
