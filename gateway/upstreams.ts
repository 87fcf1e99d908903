// Where the workers are: a URL each, and the fetch that reaches it (network, or in process).
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AddressPool, balancedFetch, splitUrls, type UpstreamFetch } from "../workers/lib/balance.ts";

export interface Upstream {
  url: string;
  fetch: UpstreamFetch;
}

export type UpstreamName = "account" | "file" | "upload" | "download" | "transfer";
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
      return [k, { url: replicas[0], fetch: balancedFetch(new AddressPool(replicas)) }];
    }),
  ) as Upstreams;
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
