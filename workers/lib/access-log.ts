// ACCESS_LOG=1: one line per HTTP request a worker serves (RPCs and data planes alike), when its response
// is done or cut: method, route template (never a query string: links and presigned URLs sign there),
// status, bytes in and out, duration, client address, request id and trace ids.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { accessFields, whenSent } from "../../core/log-line.ts";
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
    // Bytes out, on HTTP/1.1: what the connection carried meanwhile (it serves one request at a time);
    // HTTP/2 multiplexes, so there the declared lengths. Bytes in: the declared length, else likewise.
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
        bytes_in: lengthOf(req.headers["content-length"]) || (h1 ? socket.bytesRead - read0 : 0),
        bytes_out: h1 ? socket.bytesWritten - written0 : lengthOf(res.getHeader("content-length")),
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        client: clientOf(req),
        ...(res.writableFinished ? {} : { completed: false }),
      });
    });
    requestRecord.run(record, () => handler(req, res));
  };
}

/**
 * The access-log line of a request served as a Web Request (the all-in-one port's direct ways to the
 * services, past the gateway, which logs its own): declared lengths, as the gateway's lines.
 */
export async function accessLogged(
  req: Request,
  client: string,
  log: Logger,
  serve: () => Response | Promise<Response>,
): Promise<Response> {
  const startedMs = performance.now();
  const record: RequestRecord = {};
  const res = await requestRecord.run(record, serve);
  return whenSent(res, (bytesOut, completed) =>
    log.info("access", {
      ...accessFields(
        {
          method: req.method,
          route: routeOf(new URL(req.url).pathname),
          status: res.status,
          bytesIn: lengthOf(req.headers.get("content-length")),
          bytesOut,
          startedMs,
          client,
          requestId: record.requestId ?? req.headers.get("x-request-id") ?? "",
          traceId: record.span?.spanContext().traceId,
          spanId: record.span?.spanContext().spanId,
        },
        performance.now(),
      ),
      ...(completed ? {} : { completed }),
    }),
  );
}
