// Argument checks the services share: lower-case hex ids (content hashes, token hashes), sizes that fit a
// JavaScript number, and page sizes clamped to one range. Callers phrase their own InvalidArgument
// messages; meta's RPCs use the throwing forms below.
import { invalidArgument } from "./errors.ts";

const LOWER_HEX = /^[0-9a-f]*$/;

/** True for exactly `length` lower-case hex digits (40: a SHA-1, 64: a SHA-256). */
export const isHex = (value: string, length: number): boolean =>
  value.length === length && LOWER_HEX.test(value);

const MAX_SIZE = BigInt(Number.MAX_SAFE_INTEGER);

/** True for a size (bytes) between 0 and 2^53 - 1, which a JavaScript number holds exactly. */
export const isSafeSize = (value: bigint): boolean => value >= 0n && value <= MAX_SIZE;

/** The page size when none is asked for, and the largest one served. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** A page size between 1 and MAX_PAGE_SIZE: DEFAULT_PAGE_SIZE when unset (0 or less). */
export const pageSize = (requested: number): number =>
  requested > 0 ? Math.min(requested, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;

/** `value` when it is `length` lower-case hex digits; InvalidArgument naming `field` otherwise. */
export function hex(value: string, length: 40 | 64, field: string): string {
  if (!isHex(value, length)) throw invalidArgument(`${field} must be ${length} lower-case hex characters`);
  return value;
}

/** `value` as a number when it is a safe size; InvalidArgument otherwise. */
export function size(value: bigint): number {
  if (!isSafeSize(value)) throw invalidArgument("sizes must be between 0 and 2^53");
  return Number(value);
}
