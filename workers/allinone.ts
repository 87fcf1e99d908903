// The all-in-one composition: every service in one process, wired through in-memory transports,
// SQLite and a local data directory. Used by `npm start` and by end-to-end tests.

import { join } from "node:path";
import { createAccessTokenVerifier } from "../core/access-token.ts";
import { ExpiringCache } from "../core/cache.ts";
import { isPublicCall, isPublicService } from "../core/call-policy.ts";
import { clientAddressOf, trustedProxies } from "../core/client-address.ts";
import { bunIdleTimeoutSeconds } from "../core/http-limits.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../core/revoked-sessions.ts";
import { createGateway } from "../gateway/app.ts";
import type { Upstreams } from "../gateway/upstreams.ts";
import { loadSigningKey } from "./account/keys.ts";
import { accountModule } from "./account/routes.ts";
import { downloadDeps } from "./download/deps.ts";
import { downloadModule, FILE_ROUTE, isDownloadUrl } from "./download/routes.ts";
import { startFileService } from "./file/deps.ts";
import { openBlobStores } from "./lib/blobstore/index.ts";
import { memoryTransport } from "./lib/clients.ts";
import type { Config } from "./lib/config.ts";
import { authInterceptor, errorInterceptor } from "./lib/interceptors.ts";
import { createLogger, logErrors } from "./lib/log.ts";
import { createMetaClient } from "./lib/meta-client.ts";
import { openSqliteQueue } from "./lib/queue/sqlite.ts";
import { memoryRateLimiter } from "./lib/ratelimit.ts";
import { listen, pathOf } from "./lib/server.ts";
import { hostFor } from "./lib/worker.ts";
import { migrateToLatest, openDatabase } from "./meta/db/database.ts";
import { metaModule } from "./meta/service.ts";
import { startTransfer, TRANSFER_QUEUE, transferQueueOptions } from "./transfer/deps.ts";
import { startSweeper, uploadDeps } from "./upload/deps.ts";
import { uploadModule } from "./upload/routes.ts";

/** "pkg.Service" of an RPC URL "http://host/pkg.Service/Method", if it has that shape. */
function serviceOf(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2) + 1;
  const end = url.indexOf("/", start);
  return start > 0 && end > start ? url.slice(start, end) : undefined;
}

export interface AllInOne {
  httpUrl: string;
  grpcUrl: string;
  stop(): Promise<void>;
}

export async function startAllInOne(
  config: Config,
  ports: { http: number; grpc: number },
): Promise<AllInOne> {
  const log = createLogger("all-in-one");
  const internalSecret =
    config.internalSecret ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  // Both ports are public here: the gRPC port believes X-Forwarded-For only from proxies the edge trusts.
  const cfg: Config = { ...config, internalSecret, trustedProxies: config.edgeTrustedProxies };
  const db = openDatabase(cfg.databaseUrl);
  await migrateToLatest(db);
  const key = await loadSigningKey(cfg.jwt);
  // One set of ended sessions for the whole process (edge and services alike), read from the database.
  const revoked = new RevokedSessions();
  const verifier = createAccessTokenVerifier({ keys: key.localKeys, issuer: cfg.jwt.issuer, revoked });
  const serverInterceptors = [errorInterceptor(log), authInterceptor({ verifier, internalSecret })];

  const meta = metaModule(db, Date.now, { maxFolderDepth: cfg.maxFolderDepth });
  const account = accountModule({
    meta: createMetaClient(memoryTransport(meta, serverInterceptors, internalSecret)),
    key,
    limiter: memoryRateLimiter(),
    issuer: cfg.jwt.issuer,
    accessTtlSeconds: cfg.jwt.accessTtlSeconds,
    refreshTtlSeconds: cfg.jwt.refreshTtlSeconds,
    signinLimit: cfg.signinLimit,
    log: createLogger("account"),
    now: Date.now,
    userCache: new ExpiringCache(10_000),
  });
  const metaClient = createMetaClient(memoryTransport(meta, serverInterceptors, internalSecret));
  const revocations = pollRevokedSessions(revoked, {
    intervalMs: cfg.revocationPollMs,
    list: listThrough(metaClient),
    log,
  });
  const stores = await openBlobStores(cfg.blobStores);
  const uploadWorker = uploadDeps(cfg, metaClient, stores, internalSecret, log);
  const file = startFileService(cfg, metaClient, stores.storeFor, log);
  const stopSweeper = startSweeper(uploadWorker, cfg.uploadSweepSeconds, log);
  const upload = uploadModule(uploadWorker, verifier, logErrors(log, "upload failed"));
  const download = downloadModule(
    downloadDeps(cfg, metaClient, stores.storeFor, internalSecret, true),
    verifier,
    logErrors(log, "download failed"),
  );
  // The durable SQLite queue beside the database: no Redis in this mode.
  const queue = openSqliteQueue(join(cfg.dataDir, "queue.db"), TRANSFER_QUEUE, transferQueueOptions(cfg));
  const transfer = startTransfer(cfg, metaClient, stores.stores, queue, createLogger("transfer"));
  const host = hostFor({
    config: cfg,
    modules: [meta, account, upload, download, file.module, transfer.module],
    verifier,
    log,
  });
  const grpc = await listen(host.node, cfg.host, ports.grpc, cfg.http);

  const inProcess = { url: "http://in-process", fetch: host.fetch };
  const upstreams: Upstreams = {
    account: inProcess,
    file: inProcess,
    upload: inProcess,
    download: inProcess,
    transfer: inProcess,
  };
  const gateway = createGateway({
    upstreams,
    issuer: cfg.jwt.issuer,
    corsOrigins: "*",
    verifier,
    trustedProxies: cfg.edgeTrustedProxies,
    maxDataRequestsPerClient: cfg.gatewayMaxDataRequestsPerClient,
  });
  const edgeTrusted = trustedProxies(cfg.edgeTrustedProxies);
  const http = Bun.serve({
    hostname: cfg.host,
    port: ports.http,
    development: false,
    // One timer for a connection that moves no bytes (a stalled body, an idle keep-alive); Bun closes a
    // connection without a complete head after about 10 s by itself.
    idleTimeout: bunIdleTimeoutSeconds(cfg.http),
    // Uploads stream through here; 2 ** 40 rather than 1 << 40, which overflows to 256 in JavaScript.
    maxRequestBodySize: 2 ** 40,
    routes: {
      // Downloads by file id (every range request) are matched by Bun's router: no URL string to build and
      // parse in JavaScript. Browser requests (Origin) still go through the gateway, for CORS.
      [FILE_ROUTE]: { GET: fileRoute, HEAD: fileRoute },
    },
    fetch: handle,
  });
  /** The request carries an access token verified before (a cache lookup: this is every RPC's path). */
  function knownCaller(req: Request): boolean {
    const authorization = req.headers.get("authorization");
    return (
      authorization?.startsWith("Bearer ") === true && verifier.cached?.(authorization.slice(7)) !== undefined
    );
  }
  function fileRoute(req: Bun.BunRequest<typeof FILE_ROUTE>, server: Bun.Server<undefined>) {
    return req.headers.has("origin") ? handle(req, server) : download.serveFile(req, req.params.id);
  }
  function handle(req: Request, server: Bun.Server<undefined>) {
    // Non-browser calls (no Origin: no CORS to answer) to a public service skip the Hono router and go
    // straight to the in-process service when they need no token or carry one verified before (the
    // gateway's edge check and the worker's interceptor use the same verifier here). Any other call takes
    // the gateway's way, whose edge check comes before its body is read.
    // Downloads likewise go straight to the download worker's data plane: its answer (a file Blob) then
    // reaches Bun.serve as it is, which sends it with sendfile(2) instead of streaming it through JavaScript.
    if (
      (req.method === "GET" || req.method === "HEAD") &&
      isDownloadUrl(req.url) &&
      !req.headers.has("origin")
    ) {
      return download.serve(req);
    }
    if (req.method === "POST" && !req.headers.has("origin")) {
      const service = serviceOf(req.url);
      if (
        service &&
        isPublicService(service) &&
        (knownCaller(req) || isPublicCall(pathOf(req.url).slice(1)))
      ) {
        // As the gateway does: the in-process host believes the one hop it is handed.
        req.headers.set("x-forwarded-for", clientAddressOf(req, server, edgeTrusted));
        return host.fetch(req);
      }
    }
    return gateway.fetch(req, server);
  }
  return {
    httpUrl: `http://${cfg.host}:${http.port}`,
    grpcUrl: `http://${cfg.host}:${grpc.port}`,
    async stop() {
      host.health.drain();
      revocations.stop();
      stopSweeper();
      file.stop();
      await transfer.stop();
      await http.stop();
      await grpc.close(cfg.shutdownGraceMs);
      await db.destroy();
    },
  };
}
