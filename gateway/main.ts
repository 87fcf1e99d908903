// Entry for `deno serve gateway/main.ts` and `bun gateway/main.ts`: configuration from the environment.
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../workers/lib/revoked-sessions.ts";
import { parseProxyList } from "../workers/lib/web/client-address.ts";
import { createGateway } from "./app.ts";
import { readEnv } from "./env.ts";
import { networkUpstreams, upstreamClient } from "./upstreams.ts";

const env = readEnv();
const url = (name: string, port: number) => env[`${name.toUpperCase()}_URL`] || `http://127.0.0.1:${port}`;

const upstreams = networkUpstreams({
  account: url("account", 9101),
  file: url("file", 9103),
  upload: url("upload", 28080),
  download: url("download", 38080),
  transfer: url("transfer", 9106),
});

const line = (level: string, msg: string, fields?: Record<string, unknown>) =>
  console.error(JSON.stringify({ t: new Date().toISOString(), level, service: "gateway", msg, ...fields }));
// The edge refuses the tokens of ended sessions too: it reads them from the account service (it holds no
// internal secret for MetaService) every REVOCATION_POLL_MS, as every worker reads them from MetaService.
const revoked = new RevokedSessions();
pollRevokedSessions(revoked, {
  intervalMs: Math.max(100, Number(env.REVOCATION_POLL_MS) || 1000),
  list: listThrough(upstreamClient(AccountService, upstreams.account)),
  log: { info: (msg, f) => line("info", msg, f), warn: (msg, f) => line("warn", msg, f) },
});

const app = createGateway({
  upstreams,
  revoked,
  issuer: env.JWT_ISSUER || "filestore",
  corsOrigins: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(",").map((s) => s.trim()) : "*",
  uploadEntry: env.PUBLIC_UPLOAD_URL,
  downloadEntry: env.PUBLIC_DOWNLOAD_URL,
  trustedProxies: parseProxyList(env.TRUSTED_PROXIES),
});

// Bun reads `port` from the default export; `deno serve` takes --port and ignores it.
export default { fetch: app.fetch, port: Number(env.PORT || 8080), hostname: env.HOST || "127.0.0.1" };
