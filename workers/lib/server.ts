// Server bootstrap shared by every worker: one Connect router served as Connect (JSON and binary),
// gRPC and gRPC-Web over HTTP/1.1 and h2c on a single port, plus in-process fetch access.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Readable } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import {
  type UniversalHandler,
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
} from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { clientAddress, trustedProxies } from "../../core/client-address.ts";
import { defaultHttpLimits, type HttpLimits } from "../../core/http-limits.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import { ServerReflection as ReflectionV1 } from "../../proto/gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ReflectionV1alpha } from "../../proto/gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { withAccessLog } from "./access-log.ts";
import { ConnectionTimers } from "./connection-timers.ts";
import { clientIpKey, lazyClientIp } from "./context.ts";
import { FastUnary } from "./fast-unary.ts";
import { HealthState, healthRoutes } from "./health.ts";
import { currentRequestId, REQUEST_ID_HEADER, requestIdFrom } from "./interceptors.ts";
import type { Logger } from "./log.ts";
import { reflectionRoutes } from "./reflection.ts";
import { traceHttp } from "./tracing/http.ts";
import { recordRequestId } from "./tracing/record.ts";

/** What a worker contributes: Connect services and, optionally, plain HTTP endpoints. */
export interface ServiceModule {
  services: DescService[];
  routes(router: ConnectRouter): void;
  /** Plain HTTP beside the RPCs (JWKS, data planes); undefined means "not mine". */
  http?(req: Request, clientIp: string): Promise<Response | undefined> | Response | undefined;
}

/** Plain HTTP beside the RPCs, as a function a middleware can wrap (metrics: workers/lib/metrics/). */
export type PlainHttp = (req: Request, clientIp: string) => Promise<Response>;

export interface RpcHostOptions {
  interceptors: Interceptor[];
  /** Wraps the plain-HTTP handler (every module's http, then 404): request metrics, /metrics. */
  plainHttp?: (next: PlainHttp) => PlainHttp;
  maxRpcBytes: number;
  trustedProxies: string[];
  log: Logger;
  /** One access-log line per request (ACCESS_LOG). */
  accessLog?: boolean;
}

/** The path of an absolute URL, without parsing the whole URL (hot path). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

const IN_PROCESS = "in-process";
const isInProcess = (addr: string) => addr === IN_PROCESS;

export class RpcHost {
  readonly health = new HealthState();
  private readonly paths = new Map<string, UniversalHandler>();
  private readonly fast: FastUnary;
  private readonly plain: PlainHttp;
  readonly #trusted: (peer: string) => boolean;

  constructor(
    readonly modules: ServiceModule[],
    readonly options: RpcHostOptions,
  ) {
    const router = createConnectRouter({
      interceptors: options.interceptors,
      readMaxBytes: options.maxRpcBytes,
      acceptCompression: [compressionGzip, compressionBrotli],
    });
    this.#trusted = trustedProxies(options.trustedProxies);
    const services = modules.flatMap((m) => m.services);
    this.fast = new FastUnary(options.interceptors, options.maxRpcBytes);
    const capturing = this.fast.capture(router);
    for (const m of modules) m.routes(capturing);
    healthRoutes(this.health)(router);
    reflectionRoutes([...services, Health, ReflectionV1, ReflectionV1alpha])(router);
    for (const h of router.handlers) this.paths.set(h.requestPath, h);
    this.plain = options.plainHttp ? options.plainHttp(this.modulesHttp) : this.modulesHttp;
    this.health.set("", HealthCheckResponse_ServingStatus.SERVING);
    for (const s of services) this.health.set(s.typeName, HealthCheckResponse_ServingStatus.SERVING);
    if (options.accessLog) this.node = withAccessLog(this.node, options.log, (req) => this.clientOf(req));
  }

  /** The client's address as this port believes it (X-Forwarded-For only from trusted proxies). */
  private clientOf(req: http.IncomingMessage | http2.Http2ServerRequest): string {
    const xff = req.headers["x-forwarded-for"];
    return clientAddress(
      req.socket?.remoteAddress ?? "",
      Array.isArray(xff) ? xff.join(",") : xff,
      this.#trusted,
    );
  }

  private async plainHttp(req: Request, ip: string): Promise<Response> {
    // Data-plane requests carry their request id into the calls they make (meta), like RPCs.
    const id = requestIdFrom(req.headers.get(REQUEST_ID_HEADER)) ?? crypto.randomUUID();
    recordRequestId(id);
    return currentRequestId.run(id, () => traceHttp(req, pathOf(req.url), () => this.plain(req, ip)));
  }

  private modulesHttp: PlainHttp = async (req, ip) => {
    for (const m of this.modules) {
      const res = await m.http?.(req, ip);
      if (res) return res;
    }
    return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
  };

  /**
   * In-process entry (all-in-one gateway, tests). The caller is trusted to set X-Forwarded-For to the
   * client's address (one hop: the gateway's answer, which must not be walked past).
   */
  fetch = (req: Request): Promise<Response> =>
    this.serve(req, () => clientAddress(IN_PROCESS, req.headers.get("x-forwarded-for"), isInProcess));

  /**
   * In-process entry of a caller that knows the client (all-in-one's own port): `clientIp` is asked only
   * when something reads the address. Finding a Bun peer's address is a native call per request, and most
   * calls (GetUserInfo, listings) never read it.
   */
  serve = async (req: Request, clientIp: () => string): Promise<Response> => {
    const path = pathOf(req.url);
    const handler = this.paths.get(path);
    if (!handler) return this.plainHttp(req, clientIp());
    const values = lazyClientIp(createContextValues(), clientIp);
    const fast = await this.fast.handle(path, req, values);
    if (fast) return fast;
    const uReq = universalServerRequestFromFetch(req, { httpVersion: "1.1" });
    uReq.contextValues = values;
    return universalServerResponseToFetch(await handler(uReq));
  };

  /** node:http / node:http2 request listener. */
  node: (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => void = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const ip = this.clientOf(req);
    const handler = this.paths.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (!handler) {
      void this.nodeFallback(req, res, ip);
      return;
    }
    const uReq = universalRequestFromNodeRequest(
      req,
      res,
      undefined,
      createContextValues().set(clientIpKey, ip),
    );
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((err) =>
        this.options.log.warn("response aborted", { rpc: handler.requestPath, err: String(err) }),
      );
  };

  private async nodeFallback(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
    ip: string,
  ) {
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (k.startsWith(":") || v === undefined) continue;
        headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(
        `http://${req.headers.host ?? req.headers[":authority"] ?? "localhost"}${req.url}`,
        {
          method: req.method,
          headers,
          body: hasBody
            ? (Readable.toWeb(req as http.IncomingMessage) as unknown as ReadableStream)
            : undefined,
          duplex: "half",
        } as RequestInit,
      );
      const out = await this.plainHttp(request, ip);
      const head: Record<string, string> = {};
      out.headers.forEach((v, k) => {
        head[k] = v;
      });
      const w = res as http.ServerResponse;
      w.writeHead(out.status, head);
      if (out.body && req.method !== "HEAD") {
        // Backpressure: wait for the socket to drain before reading on (a slow client of a large download
        // must not pile the file up in memory), and stop reading when the client has gone.
        const reader = out.body.getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
          if (!w.write(r.value)) await drained(w);
          if (w.destroyed) {
            await reader.cancel();
            break;
          }
        }
      }
      res.end();
    } catch (err) {
      this.options.log.error("http handler failed", { url: req.url, err: String(err) });
      if (!res.headersSent) (res as http.ServerResponse).writeHead(500);
      res.end();
    }
  }
}

/** Resolves when a response can take more data, or when its connection is gone. */
function drained(w: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off("drain", done);
      w.off("close", done);
      resolve();
    };
    w.on("drain", done);
    w.on("close", done);
  });
}

export interface Listener {
  port: number;
  /** Connections open now (HTTP/1.1 and h2c). */
  connections(): number;
  close(graceMs: number): Promise<void>;
}

const H2_PREFACE = "PRI * HTTP/2.0";

/**
 * Serves a request listener over HTTP/1.1 and h2c (prior knowledge) on one TCP port: the first bytes of
 * each connection decide which server gets the socket (an HTTP/2 connection starts with "PRI * HTTP/2.0").
 * Connections are held to `limits` (connection-timers.ts).
 */
export function listen(
  handler: (req: never, res: never) => void,
  host: string,
  port: number,
  limits: HttpLimits = defaultHttpLimits,
): Promise<Listener> {
  const timers = new ConnectionTimers(limits);
  const h1 = http.createServer();
  // Before the handler, which may answer at once.
  h1.on("request", timers.request);
  h1.on("request", handler as http.RequestListener);
  // Node's own timers, where the runtime applies them (Bun does not to these sockets: see timers).
  h1.headersTimeout = limits.headerTimeoutMs;
  h1.keepAliveTimeout = limits.keepAliveMs;
  h1.requestTimeout = 0; // an upload may take hours; the idle timer cuts a stalled one
  const h2 = http2.createServer(
    {},
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    timers.opened(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => sock.destroy());
    sock.once("readable", () => {
      const head = sock.read(Math.min(H2_PREFACE.length, sock.readableLength)) as Buffer | null;
      if (!head) return void sock.destroy();
      sock.unshift(head);
      const isH2 = head.subarray(0, 3).toString("latin1") === "PRI";
      if (isH2) timers.http2(sock);
      (isH2 ? h2 : h1).emit("connection", sock);
    });
  });
  return new Promise((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      const addr = tcp.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        connections: () => sockets.size,
        async close(graceMs) {
          tcp.close();
          h1.closeIdleConnections();
          for (const s of sessions) s.close(); // GOAWAY: in-flight streams finish
          const deadline = Date.now() + graceMs;
          while (sockets.size > 0 && Date.now() < deadline) {
            h1.closeIdleConnections();
            await new Promise((r) => setTimeout(r, 25));
          }
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}

/** Runs cleanups once on SIGTERM/SIGINT, then exits. */
export function onShutdown(log: Logger, cleanup: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    cleanup()
      .then(() => {
        log.info("stopped");
        process.exit(0);
      })
      .catch((err) => {
        log.error("unclean shutdown", { err: String(err) });
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
