// A cap on the data-plane requests one client (the address the gateway derives for it) has in progress:
// from arrival until the worker's answer starts, the span in which a request holds the gateway's memory
// and a worker's upload. One client cannot crowd everyone else out of either.
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import type { MiddlewareHandler } from "hono";

type Env = { Variables: { clientIp: string; requestId: string } };

/** Hono middleware answering 429 past `max` requests in progress per client; 0 turns it off. */
export function clientCap(max: number): MiddlewareHandler<Env> {
  const inProgress = new Map<string, number>();
  return async (c, next) => {
    if (max <= 0) return next();
    const client = c.get("clientIp");
    const n = inProgress.get(client) ?? 0;
    if (n >= max) {
      const message = `too many uploads and downloads at once: at most ${max} data-plane requests per client may be in progress; wait for one to finish`;
      return c.json(errorToJson(new ConnectError(message, Code.ResourceExhausted), undefined), 429, {
        "retry-after": "1",
      });
    }
    inProgress.set(client, n + 1);
    try {
      await next();
    } finally {
      const left = (inProgress.get(client) ?? 1) - 1;
      if (left > 0) inProgress.set(client, left);
      else inProgress.delete(client);
    }
  };
}
