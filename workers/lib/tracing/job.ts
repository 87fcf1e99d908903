// A CONSUMER span per queue delivery, a child of the traceparent the message carries (the work that made
// the job: an upload's meta call), so that a background job joins the trace of the request behind it.
// With tracing off, or no traceparent, the job runs as it is (an untraced message starts no trace).
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { activeTracer, contextFrom, withSpan } from "../../../core/tracing/tracer.ts";
import type { Message } from "../queue/types.ts";

export async function traceDelivery<T>(queue: string, msg: Message, run: () => Promise<T>): Promise<T> {
  const tracer = activeTracer();
  if (!tracer || !msg.trace) return run();
  const parent = contextFrom(new Headers({ traceparent: msg.trace }));
  const span = tracer.startSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.operation.type": "process",
        "messaging.destination.name": queue,
        "messaging.message.id": msg.id,
        "filestore.job.attempt": msg.attempt,
      },
    },
    parent,
  );
  try {
    const outcome = await withSpan(span, run);
    span.setAttribute("filestore.job.outcome", String(outcome));
    return outcome;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "error" });
    throw err;
  } finally {
    span.end();
  }
}
