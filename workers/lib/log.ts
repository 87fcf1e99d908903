// One JSON line per event on stderr; ops tools parse it, humans can grep it: ts, level, service, msg, the
// request id and trace ids of the request being served (when one is), then the event's fields, with
// credentials masked (core/redact.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { trace } from "@opentelemetry/api";
import { redactFields } from "../../core/redact.ts";
import { traceFields } from "../../core/tracing/tracer.ts";

/**
 * The request id of the call (or data-plane request) being served, so that the calls it makes to other
 * services carry it and its log lines name it: one id follows a request from the gateway through every
 * worker's log.
 */
export const currentRequestId = new AsyncLocalStorage<string>();

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = order[(process.env.LOG_LEVEL as Level) || "info"] ?? 20;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(service: string): Logger {
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (order[level] < threshold) return;
    const { rid, ...rest } = fields;
    const line = {
      ts: new Date().toISOString(),
      level,
      service,
      msg,
      request_id: rid ?? currentRequestId.getStore(),
      ...traceFields(trace.getActiveSpan()),
      ...redactFields(rest),
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** An error as a log field: its stack when it has one, and its causes' (the address a call could not reach). */
export function errorText(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return String(err);
  const text = err.stack ?? err.message;
  return err.cause === undefined || depth >= 4
    ? text
    : `${text}\ncaused by: ${errorText(err.cause, depth + 1)}`;
}

/** An error callback that logs `msg` with the error's stack (and the request id it was answered under). */
export const logErrors =
  (log: Logger, msg: string) =>
  (err: unknown, rid?: string): void =>
    log.error(msg, { ...(rid ? { rid } : {}), err: errorText(err) });
