// Entry for `deno serve gateway/main.ts` and `bun gateway/main.ts`: configuration from the environment.

import { parseProxyList } from "../workers/lib/web/client-address.ts";
import { createGateway } from "./app.ts";
import { readEnv } from "./env.ts";
import { networkUpstreams } from "./upstreams.ts";

const env = readEnv();
const url = (name: string, port: number) => env[`${name.toUpperCase()}_URL`] || `http://127.0.0.1:${port}`;

const app = createGateway({
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
  trustedProxies: parseProxyList(env.TRUSTED_PROXIES),
});

// Bun reads `port` from the default export; `deno serve` takes --port and ignores it.
export default { fetch: app.fetch, port: Number(env.PORT || 8080), hostname: env.HOST || "127.0.0.1" };
