// What a worker learns about an HTTP request while serving it (its request id, its server span), kept for
// the access-log line written when the response is done: the interceptors and the data plane fill it in.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Span } from "@opentelemetry/api";

export interface RequestRecord {
  requestId?: string;
  span?: Span;
}

/** The record of the request being served (only while access logging is on). */
export const requestRecord = new AsyncLocalStorage<RequestRecord>();

/** Notes the request id of the request being served, if it is being recorded. */
export function recordRequestId(id: string): void {
  const record = requestRecord.getStore();
  if (record) record.requestId = id;
}

/** Notes the server span of the request being served, if it is being recorded. */
export function recordSpan(span: Span): void {
  const record = requestRecord.getStore();
  if (record) record.span = span;
}
