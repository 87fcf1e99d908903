// Sizes typed by people (a quota: "10" GiB, "1.5" TiB) to bytes and back. Binary units, like bytes() in
// format.ts shows them, so that what the admin types is what the table then shows.

export const SIZE_UNITS = ["MiB", "GiB", "TiB"] as const;
export type SizeUnit = (typeof SIZE_UNITS)[number];

const factor: Record<SizeUnit, number> = { MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };
/** Larger than any disk this runs on, and still exact as a double. */
const MAX_BYTES = 2 ** 53 - 1;

/**
 * Bytes of `amount` `unit`, rounded to a whole byte; undefined when `amount` is not a plain non-negative
 * number ("", "-1", "1e3", "ten") or the result is too large.
 */
export function toBytes(amount: string, unit: SizeUnit): bigint | undefined {
  const text = amount.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Math.round(Number(text) * factor[unit]);
  return Number.isSafeInteger(n) && n <= MAX_BYTES ? BigInt(n) : undefined;
}

/** The largest unit that shows `bytes` as at least 1, with at most 2 decimals ("10", "GiB"). */
export function fromBytes(bytes: bigint): { amount: string; unit: SizeUnit } {
  const n = Number(bytes);
  const unit = [...SIZE_UNITS].reverse().find((u) => n >= factor[u]) ?? "MiB";
  return { amount: String(Math.round((n / factor[unit]) * 100) / 100), unit };
}
