// Where the workers are: a URL each, and the fetch that reaches it (network, or in process).
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AddressPool, balancedFetch, splitUrls, type UpstreamFetch } from "../core/balance.ts";
import { UnreachableError } from "../core/failure.ts";

export interface Upstream {
  url: string;
  fetch: UpstreamFetch;
}

export type UpstreamName = "account" | "file" | "upload" | "download" | "transfer" | "dav";
export type Upstreams = Record<UpstreamName, Upstream>;

/**
 * Upstreams over the network. Each URL may be a comma-separated list of replicas: requests go
 * round-robin, a replica that refuses connections rests for a while, and requests that can be re-sent
 * (no body, or a small one whose sender is known: see SendOptions) go to another replica.
 */
export function networkUpstreams(urls: Record<UpstreamName, string>): Upstreams {
  return Object.fromEntries(
    Object.entries(urls).map(([k, list]) => {
      const replicas = splitUrls(list);
      return [k, { url: replicas[0], fetch: naming(k, balancedFetch(new AddressPool(replicas))) }];
    }),
  ) as Upstreams;
}

/**
 * A fetch whose failures to connect say which service could not be reached (UnreachableError, see
 * core/failure.ts), so that every route answers "the <name> service is unavailable" and never the
 * address that refused. An abort by the caller stays an abort.
 */
function naming(
  name: string,
  send: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      return await send(req);
    } catch (err) {
      if (req.signal.aborted) throw err;
      throw new UnreachableError(`the ${name} service`, { cause: err });
    }
  };
}

/** A Connect client of a worker's service, over that worker's fetch. */
export function upstreamClient<S extends DescService>(service: S, upstream: Upstream): Client<S> {
  return createClient(
    service,
    createConnectTransport({
      baseUrl: upstream.url,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        upstream.fetch(new Request(input, init))) as typeof fetch,
    }),
  );
}
