// Request ids: one id follows a request from the gateway through every worker's log and into the answer.
export { REQUEST_ID_HEADER } from "./failure.ts";

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A sane request id from a header value, else undefined (the caller then makes one). */
export const requestIdFrom = (value: string | null | undefined): string | undefined =>
  value && requestIdPattern.test(value) ? value : undefined;
