// Sizes as people type them: "500M", "10G", "1.5GiB", "2T", "4096" (bytes). Units are binary (K = 1024),
// as formatBytes prints them, so what `admin quota bob 10G` sets is what `df` shows as 10 GiB.
import { UsageError } from "./args.ts";

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
};

export function parseSize(text: string): bigint {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? "").toUpperCase()];
  if (!m || unit === undefined)
    throw new UsageError(`"${text}" is not a size: write bytes or a number with K, M, G, T (e.g. 500M, 10G)`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`"${text}" is too large`);
  return BigInt(bytes);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** A duration such as "7d", "12h", "90m" or "2w", in seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError(`"${text}" is not a duration: write e.g. 12h, 7d or 2w`);
  return Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
}
