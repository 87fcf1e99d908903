// Entry for `bun gateway/main.ts` (and `deno serve gateway/main.ts`, which has no connection timeouts:
// Deno deployments run gateway/deno-main.ts): configuration from the environment.
import {
  bunIdleTimeoutSeconds,
  httpLimitsFrom,
  maxDataRequestsPerClientFrom,
} from "../workers/lib/http-limits.ts";
import { createGateway } from "./app.ts";
import { readEnv } from "./env.ts";
import { networkUpstreams } from "./upstreams.ts";

const env = readEnv();
const url = (name: string, port: number) => env[`${name.toUpperCase()}_URL`] || `http://127.0.0.1:${port}`;

/** Header, idle-body and keep-alive timeouts (HTTP_*_SECONDS). */
export const limits = httpLimitsFrom(env);
export const address = { port: Number(env.PORT || 8080), hostname: env.HOST || "127.0.0.1" };

export const app = createGateway({
  upstreams: networkUpstreams({
    account: url("account", 9101),
    file: url("file", 9103),
    upload: url("upload", 28080),
    download: url("download", 38080),
    transfer: url("transfer", 9106),
  }),
  issuer: env.JWT_ISSUER || "filestore",
  corsOrigins: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(",").map((s) => s.trim()) : "*",
  uploadEntry: env.PUBLIC_UPLOAD_URL,
  downloadEntry: env.PUBLIC_DOWNLOAD_URL,
  maxDataRequestsPerClient: maxDataRequestsPerClientFrom(env),
});

// Bun reads `port`, `hostname` and `idleTimeout` from the default export (Bun closes a connection that
// sends no complete head within about 10 s by itself); `deno serve` takes --port and ignores them.
export default { fetch: app.fetch, ...address, idleTimeout: bunIdleTimeoutSeconds(limits) };
