// Keys in an S3 store's bucket: blobs/<uuid> for content, parts/<sessionId>/<n> for parts.
import { randomUUID } from "node:crypto";
import { InvalidLocationError } from "../errors.ts";

const BLOB_KEY = /^blobs\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isBlobKey = (key: string): boolean => BLOB_KEY.test(key);

export function checkBlobKey(location: string): string {
  if (typeof location !== "string" || !BLOB_KEY.test(location)) throw new InvalidLocationError(location);
  return location;
}

export const newLocation = () => `blobs/${randomUUID()}`;
/** Where a session's completion attempt assembles its parts (found again from the attempt alone). */
export const attemptKey = (attempt: string) => checkBlobKey(`blobs/${attempt}`);

export const partPrefix = (sessionId: string) => `parts/${sessionId}/`;
export const partKey = (sessionId: string, n: number) => `parts/${sessionId}/${n}`;
