// What every worker is (a module of services plus the timers behind it, from its wire.ts), and how one runs
// as its own process: one port (Connect, gRPC, gRPC-Web; HTTP/1.1 and h2c) until SIGTERM.
import type { JWTVerifyGetKey } from "jose";
import { type AccessTokenVerifier, createAccessTokenVerifier, remoteKeys } from "../../core/access-token.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../../core/revoked-sessions.ts";
import type { EventBus } from "./bus/types.ts";
import { httpTransport } from "./clients.ts";
import type { BaseConfig } from "./config.ts";
import { authInterceptor, errorInterceptor } from "./interceptors.ts";
import { requireStrongSecret } from "./internal-secret.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetaClient, type MetaClient } from "./meta-client.ts";
import { metricsHttp } from "./metrics/http.ts";
import { connectionsGauge } from "./metrics/process.ts";
import { createProcessMetrics, type Metrics } from "./metrics/registry.ts";
import { rpcMetricsInterceptor } from "./metrics/rpc.ts";
import { type Listener, listen, onShutdown, RpcHost, type ServiceModule } from "./server.ts";
import { stopWorkerTracing, traceServedCalls } from "./tracing/index.ts";

/** A service as its wire.ts builds it (create<Svc>Worker): the same in its own process and all-in-one. */
export interface Worker<M extends ServiceModule = ServiceModule> {
  module: M;
  /** The metrics it records into (its clients'); runWorker serves them at /metrics. */
  metrics?: Metrics;
  /** Starts its timers and sweepers: once it is composed, before it serves. */
  start(): void;
  /** Stops them and closes what the wire opened (blob stores, queue, database, Redis). */
  stop(): Promise<void>;
}

/** What a wire takes from its composer: its way to MetaService, the token verifier, the internal secret. */
export interface WorkerClients {
  meta: MetaClient;
  verifier: AccessTokenVerifier;
  internalSecret: string;
  /** The process's metrics (services mode: serviceClients; all-in-one: one for all); none in most tests. */
  metrics?: Metrics;
  /**
   * The composer's event bus (all-in-one: one in memory for every service); without it a wire that
   * publishes or listens opens its own (bus/open.ts: Redis Streams when REDIS_URL is set).
   */
  bus?: EventBus;
}

export function hostFor(opts: {
  config: Pick<
    BaseConfig,
    "maxRpcBytes" | "trustedProxies" | "internalSecret" | "accessLog" | "metricsToken"
  >;
  modules: ServiceModule[];
  verifier: AccessTokenVerifier;
  log: Logger;
  /** RPC and plain-HTTP metrics, and GET /metrics on this port. */
  metrics?: Metrics;
  /** The port is public (all-in-one): GET /metrics only with METRICS_TOKEN set. */
  publicPort?: boolean;
}): RpcHost {
  const m = opts.metrics;
  return new RpcHost(opts.modules, {
    plainHttp: m && metricsHttp(m, opts.config.metricsToken, opts.publicPort ?? false),
    interceptors: [
      traceServedCalls(),
      ...(m ? [rpcMetricsInterceptor(m)] : []),
      errorInterceptor(opts.log),
      authInterceptor({ verifier: opts.verifier, internalSecret: opts.config.internalSecret }),
    ],
    maxRpcBytes: opts.config.maxRpcBytes,
    trustedProxies: opts.config.trustedProxies,
    log: opts.log,
    accessLog: opts.config.accessLog,
  });
}

/**
 * Serves `worker` on config.port until SIGTERM: starts it, listens, and on shutdown drains the listener
 * before stopping the worker (which closes its databases, stores and the like).
 */
export async function runWorker(
  name: string,
  config: BaseConfig,
  verifier: AccessTokenVerifier,
  worker: Worker,
): Promise<{ host: RpcHost; listener: Listener }> {
  const log = createLogger(name);
  const metrics = worker.metrics ?? createProcessMetrics(name);
  worker.start();
  const host = hostFor({ config, modules: [worker.module], verifier, log, metrics });
  const listener = await listen(host.node, config.host, config.port, config.http);
  connectionsGauge(metrics, listener.connections);
  log.info("listening", {
    url: `http://${config.host}:${listener.port}`,
    protocols: "connect,grpc,grpc-web",
  });
  onShutdown(log, async () => {
    host.health.drain();
    await listener.close(config.shutdownGraceMs);
    await worker.stop();
    await stopWorkerTracing();
  });
  return { host, listener };
}

/**
 * The internal secret is mandatory once services talk over the network, and must be a real one (no
 * placeholder, 32 bytes or more): signed links are derived from it.
 */
export function requireInternalSecret(config: Pick<BaseConfig, "internalSecret">): string {
  return requireStrongSecret("INTERNAL_SECRET", config.internalSecret);
}

/**
 * A worker's clients in services mode: the internal secret (required), a MetaService client over the
 * network, and an access-token verifier over the account service's JWKS (`keys`: the account process
 * passes its own) that refuses the tokens of sessions ended, as MetaService reports them.
 */
export function serviceClients(
  name: string,
  config: BaseConfig,
  keys: JWTVerifyGetKey = remoteKeys(config.serviceUrls.account),
): WorkerClients {
  const internalSecret = requireInternalSecret(config);
  const meta = createMetaClient(httpTransport(config.serviceUrls.meta, internalSecret));
  const revoked = new RevokedSessions();
  pollRevokedSessions(revoked, {
    intervalMs: config.revocationPollMs,
    list: listThrough(meta),
    log: createLogger(name),
  });
  return {
    internalSecret,
    meta,
    metrics: createProcessMetrics(name),
    verifier: createAccessTokenVerifier({ keys, issuer: config.issuer, revoked }),
  };
}
