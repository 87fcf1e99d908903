// Entry for `bun gateway/main.ts` (and `deno serve gateway/main.ts`, which has no connection timeouts:
// Deno deployments run gateway/deno-main.ts): configuration from the environment.

import { parseProxyList } from "../core/client-address.ts";
import { bunIdleTimeoutSeconds, httpLimitsFrom, maxDataRequestsPerClientFrom } from "../core/http-limits.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../core/revoked-sessions.ts";
import { startTracing } from "../core/tracing/provider.ts";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { createGateway } from "./app.ts";
import { readEnv } from "./env.ts";
import { log } from "./log.ts";
import { metricsPortFrom, standaloneGatewayMetrics } from "./metrics.ts";
import { flushOnExit } from "./tracing.ts";
import { networkUpstreams, upstreamClient } from "./upstreams.ts";

const env = readEnv();
// Tracing first, when OTEL_EXPORTER_OTLP_ENDPOINT asks for it: createGateway instruments itself then.
flushOnExit(startTracing({ env, service: "gateway" }));
const ACCESS_LOG_ON = ["1", "true", "yes", "on"];
const url = (name: string, port: number) => env[`${name.toUpperCase()}_URL`] || `http://127.0.0.1:${port}`;

/** Header, idle-body and keep-alive timeouts (HTTP_*_SECONDS). */
export const limits = httpLimitsFrom(env);
export const address = { port: Number(env.PORT || 8080), hostname: env.HOST || "127.0.0.1" };

const upstreams = networkUpstreams({
  account: url("account", 9101),
  file: url("file", 9103),
  upload: url("upload", 28080),
  download: url("download", 38080),
  transfer: url("transfer", 9106),
  dav: url("dav", 9107),
});

// The edge refuses the tokens of ended sessions too: it reads them from the account service (it holds no
// internal secret for meta) every REVOCATION_POLL_MS, as every worker reads them from meta.
const revoked = new RevokedSessions();
pollRevokedSessions(revoked, {
  intervalMs: Math.max(100, Number(env.REVOCATION_POLL_MS) || 1000),
  list: listThrough(upstreamClient(AccountService, upstreams.account)),
  log: { info: (msg, f) => log("info", msg, f), warn: (msg, f) => log("warn", msg, f) },
});

export const app = createGateway({
  upstreams,
  revoked,
  issuer: env.JWT_ISSUER || "filestore",
  corsOrigins: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(",").map((s) => s.trim()) : "*",
  uploadEntry: env.PUBLIC_UPLOAD_URL,
  downloadEntry: env.PUBLIC_DOWNLOAD_URL,
  trustedProxies: parseProxyList(env.TRUSTED_PROXIES),
  maxDataRequestsPerClient: maxDataRequestsPerClientFrom(env),
  accessLog: ACCESS_LOG_ON.includes((env.ACCESS_LOG ?? "").trim().toLowerCase()),
  // GET /metrics only with METRICS_TOKEN set (Authorization: Bearer <token>): this port is public. Or on
  // METRICS_PORT, a port of its own that stays inside the network.
  metrics: standaloneGatewayMetrics({
    token: env.METRICS_TOKEN || undefined,
    port: metricsPortFrom(env.METRICS_PORT),
    hostname: address.hostname,
  }),
});

// Bun reads `port`, `hostname` and `idleTimeout` from the default export (Bun closes a connection that
// sends no complete head within about 10 s by itself); `deno serve` takes --port and ignores them.
export default { fetch: app.fetch, ...address, idleTimeout: bunIdleTimeoutSeconds(limits) };
