// Blob store spans: stage (and the staged blob's commit), read, delete, putPart and assembleParts each in
// an INTERNAL span, a child of the request or job that asked. Applied when a store is opened, and only
// when tracing is on: with tracing off the store is handed out as it is.
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import { activeTracer, withSpan } from "../../../core/tracing/tracer.ts";
import type { BlobStore, StagedBlob } from "./types.ts";

async function spanned<T>(name: string, backend: string, run: () => Promise<T>): Promise<T> {
  const tracer = activeTracer();
  if (!tracer) return run();
  const span: Span = tracer.startSpan(name, { attributes: { "filestore.blob.backend": backend } });
  try {
    return await withSpan(span, run);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "error" });
    throw err;
  } finally {
    span.end();
  }
}

/** A staged blob whose commit is a span too. */
function tracedStaged(staged: StagedBlob, backend: string): StagedBlob {
  const commit = staged.commit.bind(staged);
  return Object.assign(staged, { commit: () => spanned("blob commit", backend, commit) });
}

/** `store` with spans around its core calls (stores are plain objects of closures: a copy keeps them). */
export function traceBlobStore<S extends BlobStore>(store: S): S {
  if (!activeTracer()) return store;
  const b = store.backend;
  return {
    ...store,
    stage: async (body, opts) =>
      tracedStaged(await spanned("blob stage", b, () => store.stage(body, opts)), b),
    read: (location, range) => spanned("blob read", b, () => store.read(location, range)),
    delete: (location) => spanned("blob delete", b, () => store.delete(location)),
    putPart: (id, n, body, opts) => spanned("blob put part", b, () => store.putPart(id, n, body, opts)),
    assembleParts: async (id, count, opts) =>
      tracedStaged(await spanned("blob assemble", b, () => store.assembleParts(id, count, opts)), b),
  } satisfies BlobStore as S;
}
