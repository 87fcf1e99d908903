// Where the workers are: a URL each, and the fetch that reaches it (network, or in process).
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

export interface Upstream {
  url: string;
  fetch: (req: Request) => Promise<Response>;
}

export type UpstreamName = "account" | "file" | "upload" | "download" | "transfer";
export type Upstreams = Record<UpstreamName, Upstream>;

export function networkUpstreams(urls: Record<UpstreamName, string>): Upstreams {
  const f = (req: Request) => fetch(req);
  return Object.fromEntries(Object.entries(urls).map(([k, url]) => [k, { url, fetch: f }])) as Upstreams;
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
