// Runs one process's modules on one port (Connect, gRPC, gRPC-Web; HTTP/1.1 and h2c) until SIGTERM.
import { type AccessTokenVerifier, createAccessTokenVerifier, remoteKeys } from "../../core/access-token.ts";
import { listThrough, pollRevokedSessions, RevokedSessions } from "../../core/revoked-sessions.ts";
import { httpTransport } from "./clients.ts";
import { type Config, loadConfig } from "./config.ts";
import { authInterceptor, errorInterceptor } from "./interceptors.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetaClient, type MetaClient } from "./meta-client.ts";
import { type Listener, listen, onShutdown, RpcHost, type ServiceModule } from "./server.ts";

export interface WorkerOptions {
  name: string;
  port: number;
  config: Config;
  modules: ServiceModule[];
  verifier: AccessTokenVerifier;
  /** Closes databases, Redis and the like after the listener has drained. */
  close?: () => Promise<void>;
  log?: Logger;
}

export function hostFor(opts: Omit<WorkerOptions, "port" | "name"> & { log: Logger }): RpcHost {
  return new RpcHost(opts.modules, {
    interceptors: [
      errorInterceptor(opts.log),
      authInterceptor({ verifier: opts.verifier, internalSecret: opts.config.internalSecret }),
    ],
    maxRpcBytes: opts.config.maxRpcBytes,
    trustedProxies: opts.config.trustedProxies,
    log: opts.log,
  });
}

export async function runWorker(opts: WorkerOptions): Promise<{ host: RpcHost; listener: Listener }> {
  const log = opts.log ?? createLogger(opts.name);
  const host = hostFor({ ...opts, log });
  const listener = await listen(host.node, opts.config.host, opts.port, opts.config.http);
  log.info("listening", {
    url: `http://${opts.config.host}:${listener.port}`,
    protocols: "connect,grpc,grpc-web",
  });
  onShutdown(log, async () => {
    host.health.drain();
    await listener.close(opts.config.shutdownGraceMs);
    await opts.close?.();
  });
  return { host, listener };
}

/** The internal secret is mandatory once services talk over the network. */
export function requireInternalSecret(config: Config): string {
  if (!config.internalSecret || config.internalSecret.length < 16) {
    throw new Error("INTERNAL_SECRET must be set (16+ characters) in services mode");
  }
  return config.internalSecret;
}

/** The sessions this process refuses the tokens of, kept current from meta (revoked-sessions.ts). */
export function revokedSessionsFrom(meta: MetaClient, config: Config, log: Logger) {
  const revoked = new RevokedSessions();
  const poller = pollRevokedSessions(revoked, {
    intervalMs: config.revocationPollMs,
    list: listThrough(meta),
    log,
  });
  return { revoked, poller };
}

/**
 * What a worker that serves users and keeps its data through meta starts from (file, upload,
 * download, transfer): its configuration, the internal secret, a logger, an access-token verifier over
 * the account service's JWKS that refuses the tokens of ended sessions, and a meta client.
 */
export function workerBasics(name: string) {
  const config = loadConfig();
  const secret = requireInternalSecret(config);
  const log = createLogger(name);
  const meta = createMetaClient(httpTransport(config.serviceUrls.meta, secret));
  return {
    config,
    secret,
    log,
    verifier: createAccessTokenVerifier({
      keys: remoteKeys(config.serviceUrls.account),
      issuer: config.jwt.issuer,
      revoked: revokedSessionsFrom(meta, config, log).revoked,
    }),
    meta,
  };
}
