// Byte-for-byte forwarding of Connect and gRPC-Web calls to the owning worker, after an edge JWT check.

import { Code } from "@connectrpc/connect";
import { Hono } from "hono";
import { type AccessTokenVerifier, bearer, InvalidTokenError } from "../../core/access-token.ts";
import type { SendOptions } from "../../core/balance.ts";
import { isPublicCall, ownerOf } from "../../core/call-policy.ts";
import { ANNOUNCED_LENGTH_HEADER } from "../../core/data-paths.ts";
import { log } from "../log.ts";
import type { Upstream, Upstreams } from "../upstreams.ts";
import { rpcError, rpcErrorOf, upstreamUnavailable } from "./errors.ts";

// Hop-by-hop headers (RFC 9110 §7.6.1) and ones the gateway sets itself.
const dropRequest = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "te",
];

/**
 * Sends a request on to a worker as it came (method, body streamed, end-to-end headers), with the client
 * address as X-Forwarded-For and the request id; the worker's response comes back as it is.
 * `send` says whether the body may be kept for a re-send (SendOptions); `extraHeaders` are set on top.
 */
export async function forward(
  req: Request,
  pathAndQuery: string,
  upstream: Upstream,
  clientIp: string,
  requestId: string,
  send?: SendOptions,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const headers = new Headers(req.headers);
  for (const h of dropRequest) headers.delete(h);
  for (const [k, v] of Object.entries(extraHeaders)) headers.set(k, v);
  // fetch() would transparently decompress a compressed response while keeping its Content-Encoding
  // header, and Deno's and Bun's fetch ask for gzip/br when no Accept-Encoding is set: asking the worker
  // for identity keeps the bytes exact.
  headers.set("accept-encoding", "identity");
  // Only the address the edge derived (the client's own X-Forwarded-For stays behind): a worker believes the
  // last hop from us, and must not walk on into hops the client wrote when its address is one it trusts.
  headers.set("x-forwarded-for", clientIp);
  headers.set("x-request-id", requestId);
  // A body this runtime streams on chunked keeps the length its client announced (the upload worker
  // holds that much of the caller's quota before reading it).
  const length = headers.get("content-length");
  if (length !== null) headers.set(ANNOUNCED_LENGTH_HEADER, length);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const res = await upstream.fetch(
    new Request(new URL(pathAndQuery, upstream.url), {
      method: req.method,
      headers,
      body: hasBody ? req.body : undefined,
      signal: req.signal,
      // Required for streaming request bodies.
      duplex: "half",
    } as RequestInit),
    send,
  );
  return new Response(res.body, { status: res.status, headers: res.headers });
}

export interface ProxyOptions {
  upstreams: Upstreams;
  verifier: AccessTokenVerifier;
}

export function rpcProxy(opts: ProxyOptions) {
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();
  app.post("/:service/:method", async (c) => {
    const service = c.req.param("service");
    const call = `${service}/${c.req.param("method")}`;
    const contentType = c.req.header("content-type") ?? "";
    const owner = ownerOf(service);
    if (!owner) return rpcError(contentType, Code.NotFound, `no public service "${service}"`);
    const open = isPublicCall(call);
    if (!open) {
      const token = bearer(c.req.header("authorization"));
      if (!token)
        return rpcError(
          contentType,
          Code.Unauthenticated,
          "sign in first: send Authorization: Bearer <access token>",
        );
      try {
        await opts.verifier.verify(token);
      } catch (err) {
        if (err instanceof InvalidTokenError) return rpcError(contentType, Code.Unauthenticated, err.message);
        throw err;
      }
    }
    try {
      return await forward(
        c.req.raw,
        `${c.req.path}`,
        opts.upstreams[owner],
        c.get("clientIp"),
        c.get("requestId"),
        // A public call's sender is not known yet: its body is not kept.
        { replayable: !open },
      );
    } catch (err) {
      // The client gone, or its body cut for idleness, is no failure of the worker.
      if (!c.req.raw.signal.aborted)
        log("error", "upstream failed", { service: owner, rid: c.get("requestId"), err: String(err) });
      const rid = c.get("requestId");
      return rpcErrorOf(contentType, upstreamUnavailable(err, owner, rid), rid);
    }
  });
  return app;
}
