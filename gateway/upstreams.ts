// Where the workers are: a URL each, and the fetch that reaches it (network, or in process).
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
