// Serving the gateway under Deno with the timeouts Deno.serve does not have (no header, idle or keep-alive
// timeout: a connection that sends nothing stays open for ever, denoland/deno#3515). Each accepted
// connection is served on its own (Deno's serveHttpOnConnection, the per-connection half of Deno.serve),
// so that it can be closed:
//   head        no complete request head within headerTimeoutMs of opening → closed;
//   keep-alive  no request in progress for keepAliveMs → closed;
//   body        a request body that sends no byte for idleTimeoutMs → the request fails (the upstream
//               fetch is aborted, so the worker drops its upload), the client gets 408 and the
//               connection closes (what a handler left unread of a body is dropped once it answered).
// Only the Deno global is used (no imports from Deno's std): the gateway stays free of runtime modules.
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { REQUEST_ID_HEADER, withRequestId } from "../../core/failure.ts";
import type { HttpLimits } from "../../core/http-limits.ts";
import { type BodyIdleError, idleBody } from "./idle-body.ts";

interface HandlerInfo {
  remoteAddr: { hostname: string };
  completed: Promise<void>;
}
type Handler = (req: Request, info: HandlerInfo) => Response | Promise<Response>;
interface Conn {
  close(): void;
}
type ServeOnConnection = (
  conn: Conn,
  signal: AbortSignal,
  handler: Handler,
  onError: (err: unknown) => Response,
  onListen: (scheme: string) => void,
) => { finished: Promise<void> };
interface Listener {
  addr: { port: number };
  accept(): Promise<Conn>;
}
interface DenoGlobal {
  listen(opts: { hostname: string; port: number }): Listener;
  serve(opts: { hostname: string; port: number }, handler: Handler): unknown;
  internal: symbol;
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

// An error no route answered (the app answers its own): a 500 that names a request id, as every 5xx does.
export const onError = (err: unknown) => {
  const rid = crypto.randomUUID();
  console.error(JSON.stringify({ msg: "gateway connection error", rid, err: String(err) }));
  return new Response(`${withRequestId("internal error", rid)}\n`, {
    status: 500,
    headers: { [REQUEST_ID_HEADER]: rid },
  });
};

/** Runs `handler` with a request body that is cut after `idleMs` without a byte (then calls `onCut`). */
async function withIdleBody(
  handler: Handler,
  req: Request,
  info: HandlerInfo,
  idleMs: number,
  onCut: () => void,
): Promise<Response> {
  if (!req.body) return handler(req, info);
  let cut: BodyIdleError | undefined;
  const aborted = new AbortController();
  const body = idleBody(req.body, idleMs, (err) => {
    cut = err;
    aborted.abort(err);
    onCut();
  });
  try {
    const res = await handler(
      new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: body.stream,
        // The upstream fetch stops too: the worker drops the upload.
        signal: AbortSignal.any([req.signal, aborted.signal]),
        duplex: "half",
      } as RequestInit),
      info,
    );
    if (!cut) return res;
    return Response.json(errorToJson(new ConnectError(cut.message, Code.DeadlineExceeded), undefined), {
      status: 408,
    });
  } finally {
    body.release();
  }
}

/** Serves one connection, closing it when a deadline passes (see the file comment). */
function serveConnection(serveOn: ServeOnConnection, conn: Conn, handler: Handler, limits: HttpLimits): void {
  const closing = new AbortController();
  // Once the connection is served to its end, aborting would throw (uncatchably) in Deno's listener.
  let over = false;
  const close = () => {
    if (!over && !closing.signal.aborted) closing.abort();
  };
  let inProgress = 0;
  // A request was cut: the connection closes once the answers are out (its client is stuck).
  let cut = false;
  let deadline = setTimeout(close, limits.headerTimeoutMs);
  const served = serveOn(
    conn,
    closing.signal,
    (req, info) => {
      if (inProgress++ === 0) clearTimeout(deadline);
      const done = () => {
        if (--inProgress === 0) deadline = setTimeout(close, cut ? 0 : limits.keepAliveMs);
      };
      info.completed.then(done, done);
      return withIdleBody(handler, req, info, limits.idleTimeoutMs, () => {
        cut = true;
      });
    },
    onError,
    () => undefined,
  );
  served.finished
    .finally(() => {
      over = true;
      clearTimeout(deadline);
    })
    .catch(() => undefined);
}

/** Listens on hostname:port and serves `handler` under Deno with the connection timeouts of `limits`. */
export async function serveWithTimeouts(
  handler: Handler,
  opts: { hostname: string; port: number; limits: HttpLimits },
): Promise<void> {
  const internals = (deno as unknown as Record<symbol, { serveHttpOnConnection?: ServeOnConnection }>)[
    deno.internal
  ];
  const serveOn = internals?.serveHttpOnConnection;
  const { limits } = opts;
  if (typeof serveOn !== "function") {
    // A Deno without it: bodies still time out; heads and kept-alive connections do not.
    console.warn(
      JSON.stringify({ msg: "this Deno cannot time out connections: only request bodies are timed" }),
    );
    deno.serve({ hostname: opts.hostname, port: opts.port }, (req, info) =>
      withIdleBody(handler, req, info, limits.idleTimeoutMs, () => undefined),
    );
    return;
  }
  const listener = deno.listen({ hostname: opts.hostname, port: opts.port });
  console.log(`gateway: listening on http://${opts.hostname}:${listener.addr.port}/`);
  for (;;) {
    let conn: Conn;
    try {
      conn = await listener.accept();
    } catch (err) {
      // Out of file descriptors, say: keep accepting once some are free again.
      console.error(JSON.stringify({ msg: "gateway accept failed", err: String(err) }));
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      serveConnection(serveOn, conn, handler, limits);
    } catch (err) {
      onError(err);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }
}
