// Connect clients between services: over HTTP in services mode, in memory in the all-in-one mode.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createRouterTransport,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AddressPool, backoffMs, type RetryOptions, sleep, splitUrls } from "../../core/balance.ts";
import { classifyFailure, UnreachableError } from "../../core/failure.ts";
import { directTransport } from "./direct-transport.ts";
import { internalCallerInterceptor, requestIdPropagation } from "./interceptors.ts";
import type { ServiceModule } from "./server.ts";
import { propagateCalls, traceCalls } from "./tracing/rpc.ts";

export interface HttpTransportOptions extends RetryOptions {
  /** Deadline of a call that sets none itself (ms). Every call between services has one. */
  timeoutMs?: number;
  /** How often host names are resolved again into their addresses (ms); 0 turns resolving off. */
  resolveEveryMs?: number;
}

/**
 * A binary Connect transport to another service, presenting the internal secret. `baseUrls` is one URL
 * or a comma-separated list (the replicas); a host name that resolves to several addresses (a headless
 * Kubernetes Service, compose replicas) counts as one address per IP. Unary calls go round-robin and are
 * retried on another replica with backoff when one is Unavailable; streaming calls are not retried
 * (their input may already be consumed).
 */
export function httpTransport(
  baseUrls: string,
  internalSecret: string | undefined,
  opts: HttpTransportOptions = {},
): Transport {
  const configured = splitUrls(baseUrls);
  const pool = new AddressPool(configured);
  const transports = new Map<string, Transport>();
  const transportFor = (baseUrl: string): Transport => {
    let t = transports.get(baseUrl);
    if (!t) {
      t = createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        defaultTimeoutMs: opts.timeoutMs ?? 15_000,
        interceptors: [
          traceCalls(),
          requestIdPropagation(),
          ...(internalSecret ? [internalCallerInterceptor(internalSecret)] : []),
        ],
      });
      transports.set(baseUrl, t);
    }
    return t;
  };
  const resolveEveryMs = opts.resolveEveryMs ?? 10_000;
  if (resolveEveryMs > 0 && configured.some(resolvable)) {
    const refresh = async () => {
      const expanded = (await Promise.all(configured.map(expand))).flat();
      pool.set(expanded);
      // Drop transports (and their connections) of addresses that went away.
      for (const url of transports.keys()) if (!expanded.includes(url)) transports.delete(url);
    };
    void refresh().catch(() => {});
    setInterval(() => void refresh().catch(() => {}), resolveEveryMs).unref?.();
  }
  const attempts = Math.max(1, opts.attempts ?? 3);
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      let last: string | undefined;
      for (let attempt = 0; ; attempt++) {
        const url = pool.pick(last);
        try {
          return await transportFor(url).unary(method, signal, timeoutMs, header, input, contextValues);
        } catch (err) {
          if (signal?.aborted) throw err;
          // Only Unavailable is sure to have done nothing (a reset connection may have been served).
          if (ConnectError.from(err).code !== Code.Unavailable) throw unreachable(method, err);
          pool.rest(url);
          last = url;
          if (attempt + 1 >= attempts) throw unreachable(method, err);
          await sleep(backoffMs(attempt, opts), signal);
        }
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      try {
        return await transportFor(pool.pick()).stream(
          method,
          signal,
          timeoutMs,
          header,
          input,
          contextValues,
        );
      } catch (err) {
        throw unreachable(method, err);
      }
    },
  };
}

/**
 * A call that could not reach its service or lost its connection (the transport's Unavailable or Aborted,
 * which name the address it tried) as an Unavailable that names the service instead: "the meta service is
 * unavailable, retry in a moment". Any other error, the service's own answers included, is returned as it is.
 */
function unreachable(method: DescMethod, err: unknown): unknown {
  if (!(err instanceof ConnectError) || classifyFailure(err).kind !== "unavailable") return err;
  // filestore.meta.v1's services (one per subject) are all the meta worker: "the meta service".
  const service = method.parent.typeName.startsWith("filestore.meta.v1.")
    ? "meta"
    : method.parent.name.replace(/Service$/, "").toLowerCase();
  const cause = new UnreachableError(`the ${service} service`, { cause: err });
  return new ConnectError(cause.message, Code.Unavailable, undefined, undefined, cause);
}

// Plain-HTTP names only: an https certificate names the host, not its addresses.
const resolvable = (baseUrl: string): boolean => {
  const { protocol, hostname } = new URL(baseUrl);
  return protocol === "http:" && isIP(hostname.replace(/^\[|\]$/g, "")) === 0 && hostname !== "localhost";
};

/** A base URL whose host is a name → one base URL per address it resolves to (itself when it cannot). */
async function expand(baseUrl: string): Promise<string[]> {
  if (!resolvable(baseUrl)) return [baseUrl];
  const addrs = await lookup(new URL(baseUrl).hostname, { all: true }).catch(() => []);
  if (addrs.length === 0) return [baseUrl];
  return addrs.map(({ address, family }) => {
    const u = new URL(baseUrl);
    u.hostname = family === 6 ? `[${address}]` : address;
    return u.toString().replace(/\/+$/, "");
  });
}

/**
 * An in-memory transport to a module, through the same server-side interceptors as the network. Traced,
 * a call is one span, the served side's (propagateCalls: nothing crosses a network to time twice).
 */
export function memoryTransport(
  module: ServiceModule,
  serverInterceptors: Interceptor[],
  internalSecret: string,
  direct: readonly string[] = [],
): Transport {
  const clientInterceptors = [
    propagateCalls(),
    requestIdPropagation(),
    internalCallerInterceptor(internalSecret),
  ];
  const transport = createRouterTransport((router) => module.routes(router), {
    router: { interceptors: serverInterceptors },
    transport: { interceptors: clientInterceptors },
  });
  // Hot unary methods (`direct`, "/pkg.Service/Method") skip the encoding (direct-transport.ts).
  if (direct.length === 0) return transport;
  return directTransport({ module, direct, clientInterceptors, serverInterceptors, fallback: transport });
}
