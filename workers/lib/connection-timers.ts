// Timeouts of the port every worker serves (server.ts listen(): HTTP/1.1 and h2c on one TCP port), kept
// per socket here because Bun's node:http applies none of its own (headersTimeout, keepAliveTimeout,
// timeout) to a socket handed to it with emit("connection"):
//   head        a connection must deliver a complete request head within headerTimeoutMs of opening, and
//               a socket that sends nothing at all is destroyed then;
//   body        while a request body is arriving, a socket that moves no byte for idleTimeoutMs is
//               destroyed: the upload reading it fails and removes its temporary file;
//   keep-alive  after an answer, the next request head must be complete within keepAliveMs.
// Between the end of a body and the answer nothing runs: a long RPC (a large completion) is not cut.
// HTTP/2 connections (gRPC clients, whose streams may rightly stay quiet for long) keep only the first:
// the preface must come in time.
import type * as http from "node:http";
import type * as net from "node:net";
import type { HttpLimits } from "../../core/http-limits.ts";

export class ConnectionTimers {
  readonly #deadlines = new WeakMap<net.Socket, ReturnType<typeof setTimeout>>();

  constructor(readonly limits: HttpLimits) {}

  /** A new connection: destroyed unless a complete request head (or the HTTP/2 preface) comes in time. */
  opened(sock: net.Socket): void {
    this.#deadline(sock, this.limits.headerTimeoutMs);
    // setTimeout (below) arms this while a body arrives.
    sock.on("timeout", () => sock.destroy());
    sock.once("close", () => clearTimeout(this.#deadlines.get(sock)));
  }

  /** The connection speaks HTTP/2 (its preface came): no deadline from here on. */
  http2(sock: net.Socket): void {
    clearTimeout(this.#deadlines.get(sock));
    this.#deadlines.delete(sock);
  }

  /** The HTTP/1.1 server's "request" listener: the head is complete. */
  readonly request = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const sock = req.socket;
    clearTimeout(this.#deadlines.get(sock));
    const te = req.headers["transfer-encoding"];
    const length = req.headers["content-length"];
    if (te !== undefined || (length !== undefined && length !== "0")) {
      sock.setTimeout(this.limits.idleTimeoutMs);
      req.once("end", () => sock.setTimeout(0));
    }
    res.once("finish", () => {
      sock.setTimeout(0);
      if (!sock.destroyed) this.#deadline(sock, this.limits.keepAliveMs);
    });
  };

  #deadline(sock: net.Socket, ms: number): void {
    clearTimeout(this.#deadlines.get(sock));
    this.#deadlines.set(
      sock,
      setTimeout(() => sock.destroy(), ms),
    );
  }
}
