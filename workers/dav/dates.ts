// The two date formats of WebDAV properties: getlastmodified (RFC 1123, as HTTP dates) and creationdate
// (RFC 3339, with milliseconds). A Depth 1 listing writes both for thousands of entries, whose times
// share far fewer seconds: each second's strings are made once and kept (a bounded cache).
const MAX_SECONDS = 4096;
const seconds = new Map<number, { http: string; iso: string }>();

function ofSecond(s: number): { http: string; iso: string } {
  let hit = seconds.get(s);
  if (!hit) {
    const d = new Date(s * 1000);
    // "2026-12-04T18:16:48.000Z" without its ".000Z": the milliseconds are added per time.
    hit = { http: d.toUTCString(), iso: d.toISOString().slice(0, -5) };
    if (seconds.size >= MAX_SECONDS) seconds.clear();
    seconds.set(s, hit);
  }
  return hit;
}

/** new Date(ms).toUTCString(), e.g. "Fri, 04 Dec 2026 18:16:48 GMT". */
export const httpDate = (ms: number): string => ofSecond(Math.floor(ms / 1000)).http;

/** new Date(ms).toISOString(), e.g. "2026-12-04T18:16:48.123Z". */
export function isoDate(ms: number): string {
  const s = Math.floor(ms / 1000);
  const milli = ms - s * 1000;
  return `${ofSecond(s).iso}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}
