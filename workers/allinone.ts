// The all-in-one composition: every service in one process, wired by the same wire.ts functions as
// their own processes, through in-memory transports, SQLite and a local data directory. Used by
// `npm start` and by end-to-end tests. One event bus in memory serves every service (services mode: Redis).

import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { type AccessTokenVerifier, createAccessTokenVerifier } from "../core/access-token.ts";
import { isPublicCall, isPublicService } from "../core/call-policy.ts";
import { clientAddressOf, parseProxyList, trustedProxies } from "../core/client-address.ts";
import { FILES_PATH } from "../core/data-paths.ts";
import { bunIdleTimeoutSeconds, maxDataRequestsPerClientFrom } from "../core/http-limits.ts";
import { metricsEndpoint } from "../core/metrics/expose.ts";
import { measured } from "../core/metrics/http.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../core/revoked-sessions.ts";
import { activeTracer } from "../core/tracing/tracer.ts";
import { createGateway } from "../gateway/app.ts";
import type { Upstreams } from "../gateway/upstreams.ts";
import type { CheckIntegrity } from "./account/account.ts";
import { loadSigningKey } from "./account/keys.ts";
import { accountSections, createAccountWorker, fileIntegrityCheck } from "./account/wire.ts";
import { createDavWorker } from "./dav/wire.ts";
import { FILE_ROUTE, isDownloadUrl } from "./download/service.ts";
import { createDownloadWorker, downloadHotMetaMethods, downloadSections } from "./download/wire.ts";
import { createFileWorker, fileHotMetaMethods, fileSections } from "./file/wire.ts";
import { accessLogged } from "./lib/access-log.ts";
import { openBlobStores } from "./lib/blobstore/index.ts";
import { memoryBus } from "./lib/bus/memory.ts";
import { memoryTransport } from "./lib/clients.ts";
import { type ConfigOf, defaultPorts, type Env, int } from "./lib/config.ts";
import { authInterceptor, errorInterceptor } from "./lib/interceptors.ts";
import { persistedSecret } from "./lib/internal-secret.ts";
import { createLogger } from "./lib/log.ts";
import { createMetaClient } from "./lib/meta-client.ts";
import { connectionsGauge } from "./lib/metrics/process.ts";
import { createProcessMetrics, type Metrics } from "./lib/metrics/registry.ts";
import { rpcMetricsInterceptor } from "./lib/metrics/rpc.ts";
import { memoryRateLimiter } from "./lib/ratelimit.ts";
import { listen, pathOf, type ServiceModule } from "./lib/server.ts";
import { traceHttp } from "./lib/tracing/http.ts";
import { traceServedCalls } from "./lib/tracing/rpc.ts";
import { hostFor } from "./lib/worker.ts";
import { createMetaWorker, metaSections } from "./meta/wire.ts";
import { createTransferWorker, sqliteTransferQueue, transferSections } from "./transfer/wire.ts";
import { createUploadWorker, uploadSections } from "./upload/wire.ts";

/** The all-in-one process's own settings: its second port, and the public face of both. */
function loadEdgeConfig(env: Env) {
  return {
    /** Every service over gRPC, Connect and gRPC-Web (GRPC_PORT); PORT is the gateway's. */
    grpcPort: int(env, "GRPC_PORT", defaultPorts.grpc),
    /**
     * TRUSTED_PROXIES as the public entries read it (the gateway, all-in-one's ports): nobody by default,
     * since their peers are clients unless a proxy (Ingress, load balancer) is named.
     */
    trustedProxies: parseProxyList(env.TRUSTED_PROXIES),
    /** Data-plane requests one client may have in progress at the gateway (0: no cap). */
    maxDataRequestsPerClient: maxDataRequestsPerClientFrom(env),
  };
}

/** Every service's sections: the all-in-one process reads them all. */
export const allInOneSections = {
  ...metaSections,
  ...accountSections,
  ...uploadSections,
  ...downloadSections,
  ...fileSections,
  ...transferSections,
  edge: loadEdgeConfig,
};
export type AllInOneConfig = ConfigOf<typeof allInOneSections>;

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

/**
 * FileAdminService.CheckIntegrity in process for the account worker (AdminService.CheckIntegrity), which
 * is created before the file worker: bound to the file worker's module once it exists.
 */
function lateIntegrityCheck(interceptors: Interceptor[], internalSecret: string) {
  let check: CheckIntegrity | undefined;
  return {
    checkIntegrity: ((req, signal) => {
      if (!check) throw new Error("the file worker is not started");
      return check(req, signal);
    }) satisfies CheckIntegrity,
    bind(module: ServiceModule) {
      check = fileIntegrityCheck(memoryTransport(module, interceptors, internalSecret));
    },
  };
}

/**
 * What every in-process call passes and every worker gets: one /metrics for the process (on the public
 * port, with METRICS_TOKEN only; every worker records with its own `service` label, the RPC host and data
 * planes as "all-in-one", the gateway as "gateway"), the server interceptors, and the clients.
 */
function inProcessClients(
  cfg: AllInOneConfig,
  meta: Awaited<ReturnType<typeof createMetaWorker>>,
  verifier: ReturnType<typeof createAccessTokenVerifier>,
  internalSecret: string,
  log: ReturnType<typeof createLogger>,
) {
  const metrics = createProcessMetrics("all-in-one");
  const interceptors = [
    traceServedCalls(),
    rpcMetricsInterceptor(metrics.forService("meta")),
    errorInterceptor(log),
    authInterceptor({ verifier, internalSecret }),
  ];
  const metaClient = createMetaClient(
    memoryTransport(meta.module, interceptors, internalSecret, [
      ...downloadHotMetaMethods,
      ...fileHotMetaMethods,
    ]),
  );
  const clients = { meta: metaClient, verifier, internalSecret, metrics, bus: memoryBus(cfg.events) };
  return { metrics, interceptors, metaClient, clients };
}

export async function startAllInOne(config: AllInOneConfig): Promise<AllInOne> {
  const log = createLogger("all-in-one");
  // Zero configuration: a random secret kept in the data directory (links it signs outlive a restart).
  const internalSecret = config.internalSecret ?? persistedSecret(join(config.dataDir, "internal-secret"));
  // Both ports are public here: the gRPC port believes X-Forwarded-For only from proxies the edge trusts.
  const cfg: AllInOneConfig = { ...config, internalSecret, trustedProxies: config.edge.trustedProxies };
  const meta = await createMetaWorker(cfg);
  const key = await loadSigningKey(cfg.account.jwt);
  // One set of ended sessions for the whole process (edge and services alike), read from the database.
  const revoked = new RevokedSessions();
  const verifier = createAccessTokenVerifier({ keys: key.localKeys, issuer: cfg.issuer, revoked });
  const { metrics, interceptors, metaClient, clients } = inProcessClients(
    cfg,
    meta,
    verifier,
    internalSecret,
    log,
  );
  // One set of stores for every service (one local store's sweeps, file handles and session hashes).
  const stores = await openBlobStores(cfg.storage.stores);
  const shared = { ...clients, stores };
  const late = lateIntegrityCheck(interceptors, internalSecret);
  const account = await createAccountWorker(cfg, { ...clients, key, limiter: memoryRateLimiter(), ...late });
  const upload = await createUploadWorker(cfg, shared);
  const download = await createDownloadWorker(cfg, shared, { bunServe: true });
  // Its data plane, called straight from Bun.serve below (the download fast paths).
  const downloads = download.module;
  // The download fast paths below skip the host: timed and counted here.
  const serveDownload = measured(metrics.http, downloads.serve);
  const serveFile = measured(metrics.http, downloads.serveFile);
  const file = await createFileWorker(cfg, { ...shared, limiter: memoryRateLimiter() });
  late.bind(file.module);
  const transfer = await createTransferWorker(cfg, { ...shared, queue: sqliteTransferQueue(cfg) });
  // WebDAV is a client of the other services: here of the in-process host (set just below), as it is of
  // their ports in services mode.
  const inHost = { url: "http://in-process", fetch: (req: Request) => host.fetch(req) };
  const dav = createDavWorker(clients, { account: inHost, file: inHost, upload: inHost, download: inHost });
  const workers = [meta, account, upload, download, file, transfer, dav];
  const revocations = pollRevokedSessions(revoked, {
    intervalMs: cfg.revocationPollMs,
    list: listThrough(metaClient),
    log,
  });
  for (const worker of workers) worker.start();
  const host = hostFor({
    config: cfg,
    modules: workers.map((w) => w.module),
    verifier,
    log,
    metrics,
    publicPort: true,
  });
  const grpc = await listen(host.node, cfg.host, cfg.edge.grpcPort, cfg.http);

  const gateway = inProcessGateway(cfg, host.fetch, verifier, metrics);
  const edgeTrusted = trustedProxies(cfg.edge.trustedProxies);
  connectionsGauge(metrics, grpc.connections);
  const http = Bun.serve({
    hostname: cfg.host,
    port: cfg.port,
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
    return req.headers.has("origin")
      ? handle(req, server)
      : // The span needs the route only: FILES_PATH names it without building req.url.
        direct(req, server, () => serveFile(req, req.params.id), false, FILES_PATH);
  }
  /**
   * The ways past the gateway: traced as the data planes are, and (ACCESS_LOG) logged by themselves; the
   * gateway's way is traced and logged in the gateway. An RPC (`rpc`) gets no HTTP span here: the host's
   * interceptor makes its SERVER span, as a worker's port does; a second one for the same request would
   * double the cost of tracing and start a second trace (the RPC span takes its parent from the headers).
   */
  function direct(
    req: Request,
    server: Bun.Server<undefined>,
    serve: () => Response | Promise<Response>,
    rpc = false,
    path?: string,
  ) {
    const tracing = !rpc && activeTracer() !== undefined;
    if (!cfg.accessLog && !tracing) return serve(); // the hot path, as it was
    const traced = tracing ? () => traceHttp(req, path ?? pathOf(req.url), serve) : serve;
    return cfg.accessLog
      ? accessLogged(req, clientAddressOf(req, server, edgeTrusted), log, traced)
      : traced();
  }
  function handle(req: Request, server: Bun.Server<undefined>) {
    // Non-browser calls (no Origin: no CORS to answer) to a public service skip the Hono router and go
    // straight to the in-process service when they need no token or carry one verified before (the
    // gateway's edge check and the worker's interceptor use the same verifier here). Any other call takes
    // the gateway's way, whose edge check comes before its body is read.
    // Downloads likewise go straight to the download worker's data plane: its answer (a file Blob) then
    // reaches Bun.serve as it is, which sends it with sendfile(2) instead of streaming it through JavaScript.
    // Bun builds `req.url` anew on every read: read once.
    const url = req.url;
    const method = req.method;
    if ((method === "GET" || method === "HEAD") && isDownloadUrl(url) && !req.headers.has("origin")) {
      return direct(req, server, () => serveDownload(req), false, pathOf(url));
    }
    if (method === "POST" && !req.headers.has("origin")) {
      const service = serviceOf(url);
      if (service && isPublicService(service) && (knownCaller(req) || isPublicCall(pathOf(url).slice(1)))) {
        // The client's address as the gateway would hand it on, worked out only if a handler reads it.
        return direct(
          req,
          server,
          () => host.serve(req, () => clientAddressOf(req, server, edgeTrusted)),
          true,
        );
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
      for (const worker of workers) if (worker !== meta) await worker.stop();
      await http.stop();
      await grpc.close(cfg.shutdownGraceMs);
      stores.close();
      metrics.close();
      await meta.stop();
    },
  };
}

/** The gateway of the all-in-one process: every service in process, one /metrics for all. */
function inProcessGateway(
  cfg: AllInOneConfig,
  fetch: Upstreams["account"]["fetch"],
  verifier: AccessTokenVerifier,
  metrics: Metrics,
) {
  const inProcess = { url: "http://in-process", fetch };
  const upstreams: Upstreams = {
    account: inProcess,
    file: inProcess,
    upload: inProcess,
    download: inProcess,
    transfer: inProcess,
    dav: inProcess,
  };
  return createGateway({
    upstreams,
    issuer: cfg.issuer,
    corsOrigins: "*",
    verifier,
    trustedProxies: cfg.edge.trustedProxies,
    maxDataRequestsPerClient: cfg.edge.maxDataRequestsPerClient,
    accessLog: cfg.accessLog,
    metrics: {
      http: metrics.forService("gateway").http,
      endpoint: metricsEndpoint({ token: cfg.metricsToken, requireToken: true, text: () => metrics.text() }),
    },
  });
}
