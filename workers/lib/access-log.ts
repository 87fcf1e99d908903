// ACCESS_LOG=1: one line per HTTP request a worker serves (RPCs and data planes alike), when its response
// is done or cut: method, route template (never a query string: links and presigned URLs sign there),
// status, bytes in and out, duration, client address, request id and trace ids.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { routeOf } from "../../core/tracing/routes.ts";
import { traceFields } from "../../core/tracing/tracer.ts";
import type { Logger } from "./log.ts";
import { type RequestRecord, requestRecord } from "./tracing/record.ts";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type NodeHandler = (req: Req, res: Res) => void;

const lengthOf = (v: unknown): number => (Number.isFinite(Number(v)) ? Number(v) : 0);

/** `handler` with an access-log line per request; `clientOf` gives the address the handler believes. */
export function withAccessLog(
  handler: NodeHandler,
  log: Logger,
  clientOf: (req: Req) => string,
): NodeHandler {
  return (req, res) => {
    const started = performance.now();
    // HTTP/1.1: what the connection carried meanwhile (a connection serves one request at a time);
    // HTTP/2 multiplexes, so there the declared lengths.
    const h1 = !("stream" in req);
    const socket = req.socket;
    const [read0, written0] = h1 ? [socket.bytesRead, socket.bytesWritten] : [0, 0];
    const record: RequestRecord = {};
    res.once("close", () => {
      log.info("access", {
        rid: record.requestId ?? req.headers["x-request-id"],
        ...traceFields(record.span),
        method: req.method,
        route: routeOf((req.url ?? "").split("?", 1)[0] ?? ""),
        status: res.statusCode,
        bytes_in: h1 ? socket.bytesRead - read0 : lengthOf(req.headers["content-length"]),
        bytes_out: h1 ? socket.bytesWritten - written0 : lengthOf(res.getHeader("content-length")),
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        client: clientOf(req),
        completed: res.writableFinished,
      });
    });
    requestRecord.run(record, () => handler(req, res));
  };
}
