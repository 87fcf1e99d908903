// The edge gateway: CORS for Connect-Web, edge JWT checks, RPC pass-through, legacy HTTP routes.
// Web-standard only, so the same app runs under `deno serve`, Bun and Node.
import { cors as connectCors } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  JWKS_PATH,
  remoteKeys,
} from "../core/access-token.ts";
import { clientAddressOf, trustedProxies } from "../core/client-address.ts";
import { clientError, failureHeaders, httpStatusOf } from "../core/failure.ts";
import { DEFAULT_MAX_DATA_REQUESTS_PER_CLIENT } from "../core/http-limits.ts";
import { requestIdFrom } from "../core/request-id.ts";
import { activeTracer } from "../core/tracing/tracer.ts";
import { clientCap } from "./data/client-cap.ts";
import { DAV_ROUTES, dataPlane, davPlane } from "./data/plane.ts";
import { legacyFileRoutes } from "./legacy/file.ts";
import { legacyUserRoutes } from "./legacy/user.ts";
import { accessLog, log } from "./log.ts";
import { type GatewayMetrics, useMetrics } from "./metrics.ts";
import { rpcProxy } from "./rpc/proxy.ts";
import { LiveSpans, tracedUpstreams, traceRequests } from "./tracing.ts";
import type { Upstreams } from "./upstreams.ts";
import { webApp } from "./web/static.ts";

export interface GatewayOptions {
  upstreams: Upstreams;
  issuer: string;
  /** Browser origins allowed to call; "*" allows any (tokens travel in headers, not cookies). */
  corsOrigins: string[] | "*";
  verifier?: AccessTokenVerifier;
  /** Sessions whose tokens the edge refuses (kept current by main.ts); only with no `verifier` given. */
  revoked?: { has(sid: string): boolean };
  uploadEntry?: string;
  downloadEntry?: string;
  /**
   * Proxies in front of the gateway whose X-Forwarded-For is believed (TRUSTED_PROXIES: addresses or
   * networks); none by default, so a client cannot pick its own address.
   */
  trustedProxies?: string[];
  /** Data-plane requests one client may have in progress (GATEWAY_MAX_DATA_REQUESTS_PER_CLIENT; 0: no cap). */
  maxDataRequestsPerClient?: number;
  /** One access-log line per request (ACCESS_LOG). */
  accessLog?: boolean;
  /** Request metrics and GET /metrics (gateway/metrics.ts); none without. */
  metrics?: GatewayMetrics;
}

// Routes whose requests carry file bytes (data plane, legacy uploads and downloads).
const dataRoutes = ["/upload/*", "/download/*", "/file/upload", "/file/mpupload/uppart", "/file/download"];

// Headers of the upload data plane and of tus, for browser clients (tus-js-client, Uppy).
const uploadHeaders = [
  "X-Content-SHA256",
  "X-Content-SHA1",
  "Tus-Resumable",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Offset",
  "Upload-Checksum",
];
// Headers of ranged and conditional downloads.
const downloadHeaders = ["Range", "If-Range", "If-None-Match"];
const downloadExposed = ["Accept-Ranges", "Content-Range", "Content-Disposition", "Content-Length", "ETag"];
const tusExposed = [
  "Location",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  "Upload-Offset",
  "Upload-Length",
];

export function createGateway(options: GatewayOptions) {
  // Tracing (when it is on): the requests' spans, and the calls to workers as their children.
  const tracer = activeTracer();
  const live = new LiveSpans();
  const opts = tracer ? { ...options, upstreams: tracedUpstreams(options.upstreams, tracer, live) } : options;
  const verifier =
    opts.verifier ??
    createAccessTokenVerifier({
      keys: remoteKeys(opts.upstreams.account.url, opts.upstreams.account.fetch),
      issuer: opts.issuer,
      revoked: opts.revoked,
    });
  const trusted = trustedProxies(opts.trustedProxies ?? []);
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();
  useMetrics(app, opts.metrics);

  app.use("*", async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = requestIdFrom(given) ?? crypto.randomUUID();
    c.set("requestId", id);
    c.set("clientIp", clientAddressOf(c.req.raw, c.env, trusted));
    await next();
    c.res.headers.set("x-request-id", id);
  });
  if (tracer) app.use("*", traceRequests(tracer, live));
  if (opts.accessLog) app.use("*", accessLog(live));
  const corsHeaders = cors({
    origin: opts.corsOrigins === "*" ? "*" : opts.corsOrigins,
    allowMethods: [...connectCors.allowedMethods, "PUT", "PATCH", "HEAD", "DELETE"],
    allowHeaders: [
      ...connectCors.allowedHeaders,
      "Authorization",
      "X-Request-Id",
      ...uploadHeaders,
      ...downloadHeaders,
    ],
    exposeHeaders: [...connectCors.exposedHeaders, "X-Request-Id", ...tusExposed, ...downloadExposed],
    maxAge: 7200,
  });
  // A plain OPTIONS (no Access-Control-Request-Method) is not a CORS preflight: tus clients ask the
  // server's capabilities with it, so it goes on to the route.
  app.use("*", (c, next) =>
    c.req.method === "OPTIONS" && !c.req.header("access-control-request-method")
      ? next()
      : corsHeaders(c, next),
  );

  const cap = clientCap(opts.maxDataRequestsPerClient ?? DEFAULT_MAX_DATA_REQUESTS_PER_CLIENT);
  for (const route of [...dataRoutes, ...DAV_ROUTES]) app.use(route, cap);

  app.get("/healthz", (c) => c.text("ok\n"));
  app.get(JWKS_PATH, () =>
    opts.upstreams.account.fetch(new Request(new URL(JWKS_PATH, opts.upstreams.account.url))),
  );
  app.route("/", webApp(opts.downloadEntry));
  app.route("/", dataPlane(opts.upstreams, verifier));
  app.route("/", davPlane(opts.upstreams));
  app.route(
    "/file",
    legacyFileRoutes({
      upload: opts.upstreams.upload,
      file: opts.upstreams.file,
      download: opts.upstreams.download,
      verifier,
    }),
  );
  app.route(
    "/user",
    legacyUserRoutes({
      account: opts.upstreams.account,
      verifier,
      uploadEntry: opts.uploadEntry,
      downloadEntry: opts.downloadEntry,
    }),
  );
  // Connect / gRPC-Web calls: POST /<package>.<Service>/<Method>
  app.route("/", rpcProxy({ upstreams: opts.upstreams, verifier }));

  // What a route did not answer itself: a worker's error passed on, else mapped like a worker's (a service
  // unavailable → 503 with Retry-After, anything unexpected → 500), with the request id.
  app.onError((err, c) => {
    // An answer a route chose to throw (legacy parameters too large).
    if (err instanceof HTTPException) return err.getResponse();
    const rid = c.get("requestId");
    log("error", "gateway error", { rid, err: String(err) });
    const e = clientError(err, rid);
    const status = httpStatusOf(e) as ContentfulStatusCode;
    return c.json(errorToJson(e, undefined), status, failureHeaders(e, rid));
  });
  return app;
}
