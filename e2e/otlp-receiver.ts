// A small OTLP/HTTP receiver for the end-to-end tests: takes the exports (POST /v1/traces) of every
// process, in protobuf (the default encoding) or JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json), and keeps
// their spans. The protobuf is read field by field after opentelemetry-proto's trace.proto and
// common.proto (only the fields these tests look at; the others are skipped).
import { BinaryReader, type WireType } from "@bufbuild/protobuf/wire";

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValue = { key: string; value: AnyValue };
interface Export {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: KeyValue[];
      }[];
    }[];
  }[];
}

const plainValue = (v: AnyValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ""));
const attributes = (kvs: KeyValue[] = []) =>
  Object.fromEntries(kvs.map((kv) => [kv.key, plainValue(kv.value)]));

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Each length-delimited or varint field of a message: `on(field, reader)` reads it or returns false. */
function fields(bytes: Uint8Array, on: (field: number, r: BinaryReader, wire: WireType) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (!on(field, r, wire)) r.skip(wire);
  }
}

function anyValue(bytes: Uint8Array): AnyValue {
  const v: AnyValue = {};
  fields(bytes, (f, r) => {
    if (f === 1) v.stringValue = r.string();
    else if (f === 2) v.boolValue = r.bool();
    else if (f === 3) v.intValue = String(r.int64());
    else if (f === 4) v.doubleValue = r.double();
    else return false;
    return true;
  });
  return v;
}

function keyValue(bytes: Uint8Array): KeyValue {
  const kv: KeyValue = { key: "", value: {} };
  fields(bytes, (f, r) => {
    if (f === 1) kv.key = r.string();
    else if (f === 2) kv.value = anyValue(r.bytes());
    else return false;
    return true;
  });
  return kv;
}

type Span = NonNullable<
  NonNullable<NonNullable<Export["resourceSpans"]>[number]["scopeSpans"]>[number]["spans"]
>[number];

function span(bytes: Uint8Array): Span {
  const s: Span = { traceId: "", spanId: "", name: "", kind: 0, attributes: [] };
  fields(bytes, (f, r) => {
    if (f === 1) s.traceId = hex(r.bytes());
    else if (f === 2) s.spanId = hex(r.bytes());
    else if (f === 4) s.parentSpanId = hex(r.bytes());
    else if (f === 5) s.name = r.string();
    else if (f === 6) s.kind = r.int32();
    else if (f === 9) s.attributes?.push(keyValue(r.bytes()));
    else return false;
    return true;
  });
  return s;
}

/** ExportTraceServiceRequest in protobuf, as the JSON encoding's shape. */
function decodeProtobuf(bytes: Uint8Array): Export {
  const resourceSpans: NonNullable<Export["resourceSpans"]> = [];
  fields(bytes, (f, r) => {
    if (f !== 1) return false; // resource_spans
    const resource: KeyValue[] = [];
    const scopeSpans: { spans: Span[] }[] = [];
    fields(r.bytes(), (f2, r2) => {
      const inner = f2 === 1 || f2 === 2 ? r2.bytes() : undefined;
      if (!inner) return false;
      if (f2 === 1) {
        // resource: its attributes (field 1)
        fields(inner, (f3, r3) => f3 === 1 && resource.push(keyValue(r3.bytes())) > 0);
      } else {
        // scope_spans: their spans (field 2)
        const spans: Span[] = [];
        fields(inner, (f3, r3) => f3 === 2 && spans.push(span(r3.bytes())) > 0);
        scopeSpans.push({ spans });
      }
      return true;
    });
    resourceSpans.push({ resource: { attributes: resource }, scopeSpans });
    return true;
  });
  return { resourceSpans };
}

export function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/traces")
        return new Response("not found", { status: 404 });
      const body = req.headers.get("content-type")?.startsWith("application/json")
        ? ((await req.json()) as Export)
        : decodeProtobuf(new Uint8Array(await req.arrayBuffer()));
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attributes(rs.resource?.attributes)["service.name"] ?? "");
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              name: s.name,
              kind: s.kind,
              attributes: attributes(s.attributes),
            });
      }
      return Response.json({});
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans,
    /** The spans of one trace. */
    trace: (traceId: string) => spans.filter((s) => s.traceId === traceId),
    stop: () => server.stop(true),
  };
}
