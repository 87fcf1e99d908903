// bench:metadata's timed calls through the gateway: FileService over Connect JSON, CONCURRENCY clients each
// a keep-alive connection doing one call after another, every call's latency recorded.
import { BenchError } from "./harness.ts";

export interface Latencies {
  /** Milliseconds, sorted. */
  ms: number[];
  seconds: number;
}

export const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** A FileService call; throws on anything but 200. */
export async function fileCall(base: string, token: string, method: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}/filestore.file.v1.FileService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new BenchError(`${method} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Runs call(0..count-1) with `concurrency` clients; each call's latency. */
export async function timed(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<Latencies> {
  let next = 0;
  const ms: number[] = [];
  const t0 = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) {
      const s = performance.now();
      await call(i);
      ms.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { ms: ms.sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000 };
}

interface ListPage {
  files?: { id: string }[];
  nextPageToken?: string;
}

/** The page token `depth` entries into the folder (keyset: it names the last entry before that page). */
export async function tokenAt(base: string, token: string, parentId: string, depth: number): Promise<string> {
  let pageToken = "";
  for (let seen = 0; seen < depth; ) {
    const pageSize = Math.min(1000, depth - seen);
    const page = (await fileCall(base, token, "ListFiles", { parentId, pageSize, pageToken })) as ListPage;
    seen += page.files?.length ?? 0;
    pageToken = page.nextPageToken ?? "";
    if (!pageToken) throw new BenchError(`the folder ended before entry ${depth}`);
  }
  return pageToken;
}
