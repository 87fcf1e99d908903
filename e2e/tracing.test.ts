// Traces end to end: every process exports its spans to a small OTLP/HTTP receiver; one upload through
// the gateway is one trace whose spans (gateway, upload worker, meta, the database, the blob store) form a
// tree rooted at the gateway's span; with S3 at hand (TEST_S3_*: the transfer policy) the transfer job the
// upload recorded joins that trace through the outbox and the queue; and a client's own traceparent is
// honoured (the trace is the client's).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, MODE, type Stack, signedInUser, startStack, uniqueName } from "./harness.ts";
import { type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.ts";
import { dropBucket, S3, s3Admin, transferPolicyEnv } from "./s3.ts";

const SERVER = 2;
const CONSUMER = 5;
const onS3 = S3.endPoint !== "";
const bucket = uniqueName("traces").toLowerCase();
let receiver: ReturnType<typeof startOtlpReceiver>;
let stack: Stack;
let user: Awaited<ReturnType<typeof signedInUser>>;

beforeAll(async () => {
  receiver = startOtlpReceiver();
  stack = await startStack({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    ...(onS3 ? transferPolicyEnv(bucket) : {}),
  });
  user = await signedInUser(stack.gatewayUrl);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  receiver?.stop();
  if (onS3) await dropBucket(s3Admin(S3.endPoint), bucket);
});

const upload = (name: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.gatewayUrl}/upload/v1/files?name=${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${user.accessToken}`, ...headers },
    body: `bytes of ${name}`,
  });

/**
 * The spans of the trace of the first upload's request, once all are in: each process exports on its own,
 * so until its database spans (meta), with S3 its transfer job's, and every span's parent have arrived.
 */
async function firstUploadTrace(): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = [];
  const ok = await eventually(async () => {
    const root = receiver.spans.find(
      (s) => s.kind === SERVER && s.parentSpanId === "" && s.attributes["http.route"] === "/upload/v1/files",
    );
    spans = root ? receiver.trace(root.traceId) : [];
    const ids = new Set(spans.map((s) => s.spanId));
    return (
      spans.some((s) => s.attributes["db.system.name"] !== undefined) &&
      (!onS3 ||
        spans.some((s) => s.kind === CONSUMER && s.attributes["filestore.job.outcome"] === "moved")) &&
      spans.every((s) => s.parentSpanId === "" || ids.has(s.parentSpanId))
    );
  }, 30_000);
  expect(ok).toBe(true);
  return spans;
}

describe(`traces (${MODE})`, () => {
  test("one upload through the gateway is one trace: gateway → upload → meta → database, a tree", async () => {
    const res = await upload("traced.txt");
    expect(res.status).toBe(201);
    const spans = await firstUploadTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const roots = spans.filter((s) => s.parentSpanId === "");
    // One root, the gateway's server span; every other span's parent is in the trace.
    expect(roots.map((s) => [s.name, s.kind])).toEqual([["PUT /upload/v1/files", SERVER]]);
    for (const s of spans) if (s !== roots[0]) expect(byId.has(s.parentSpanId)).toBe(true);
    const ancestry = (s: ReceivedSpan): ReceivedSpan[] => {
      const parent = byId.get(s.parentSpanId);
      return parent ? [parent, ...ancestry(parent)] : [];
    };
    // The upload worker's data-plane span, under the gateway's call to it.
    const dataPlane = spans.find(
      (s) => s.kind === SERVER && s.name === "PUT /upload/v1/files" && s !== roots[0],
    );
    expect(dataPlane).toBeDefined();
    // A meta RPC served under the upload worker's span, with the RPC attributes.
    const metaCall = spans.find(
      (s) => s.kind === SERVER && String(s.attributes["rpc.service"]).startsWith("filestore.meta.v1."),
    );
    expect(metaCall?.attributes["rpc.system"]).toBe("connect_rpc");
    expect(metaCall?.name).toBe(
      `${metaCall?.attributes["rpc.service"]}/${metaCall?.attributes["rpc.method"]}`,
    );
    expect(ancestry(metaCall as ReceivedSpan)).toContain(dataPlane as ReceivedSpan);
    // A database statement under a meta call, with no parameter values (placeholders only).
    const db = spans.filter((s) => s.attributes["db.system.name"] !== undefined);
    expect(db.length).toBeGreaterThan(0);
    for (const d of db) {
      expect(
        ancestry(d).some((a) => String(a.attributes["rpc.service"]).startsWith("filestore.meta.v1.")),
      ).toBe(true);
      expect(String(d.attributes["db.query.text"])).not.toContain("traced.txt");
    }
    expect(db.map((d) => d.attributes["db.operation.name"])).toContain("INSERT");
    // The blob store's stage and commit, in the upload worker's span.
    const stage = spans.find((s) => s.name === "blob stage");
    expect(ancestry(stage as ReceivedSpan)).toContain(dataPlane as ReceivedSpan);
    if (onS3) {
      // The transfer job joined the upload's trace: consumed under the meta call that recorded it, its
      // copy to S3 (a blob store span on S3) and its meta calls under the consumer's span.
      const job = spans.find((s) => s.kind === CONSUMER) as ReceivedSpan;
      expect(job.name).toBe("process transfer");
      expect(
        ancestry(job).some((a) => String(a.attributes["rpc.service"]).startsWith("filestore.meta.v1.")),
      ).toBe(true);
      const copy = spans.find(
        (s) => s.name === "blob stage" && s.attributes["filestore.blob.backend"] === "s3",
      );
      expect(ancestry(copy as ReceivedSpan)).toContain(job);
      if (MODE === "services") expect(job.service).toBe("transfer");
    }
    if (MODE === "services") {
      const services = new Set(spans.map((s) => s.service));
      for (const name of ["gateway", "upload", "meta"]) expect(services.has(name)).toBe(true);
      expect(roots[0]?.service).toBe("gateway");
      expect(dataPlane?.service).toBe("upload");
      expect(metaCall?.service).toBe("meta");
      expect(db[0]?.service).toBe("meta");
    } else {
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(["filestore"]));
    }
  }, 60_000);

  test("a call past the gateway (all-in-one: no Origin, a known token) is one SERVER span of the RPC", async () => {
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const parent = "00f067aa0ba902b8";
    const res = await fetch(`${stack.gatewayUrl}/filestore.account.v1.AccountService/GetUserInfo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${user.accessToken}`,
        traceparent: `00-${traceId}-${parent}-01`,
      },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const served = (s: ReceivedSpan) => s.kind === SERVER && s.attributes["rpc.method"] === "GetUserInfo";
    // Services mode: the gateway (the edge span) and the account worker export on their own; wait for both.
    const arrived = async () => {
      const got = receiver.trace(traceId);
      return got.some(served) && got.some((s) => s.parentSpanId === parent);
    };
    expect(await eventually(arrived)).toBe(true);
    const spans = receiver.trace(traceId);
    // One span for the request at the edge, not an HTTP span and an RPC span beside it (which were two
    // spans of one call, the RPC's in a trace of its own without a client's traceparent).
    const edge = spans.filter((s) => s.parentSpanId === parent);
    expect(edge.length).toBe(1);
    expect(spans.filter(served).length).toBe(1);
    expect(spans.find(served)?.attributes["rpc.system"]).toBe("connect_rpc");
    if (MODE === "allinone") expect(edge[0]?.name).toBe("filestore.account.v1.AccountService/GetUserInfo");
  }, 60_000);

  test("a client's traceparent is honoured: the gateway's span continues the client's trace", async () => {
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const parent = "00f067aa0ba902b7";
    const res = await upload("client-traced.txt", { traceparent: `00-${traceId}-${parent}-01` });
    expect(res.status).toBe(201);
    // Each process exports on its own: wait for the database spans (meta) and the gateway's.
    const ok = await eventually(async () => {
      const spans = receiver.trace(traceId);
      return (
        spans.some((s) => s.attributes["db.system.name"] !== undefined) &&
        spans.some((s) => s.parentSpanId === parent)
      );
    });
    expect(ok).toBe(true);
    const spans = receiver.trace(traceId);
    const edge = spans.filter((s) => s.parentSpanId === parent);
    expect(edge.map((s) => [s.name, s.kind])).toEqual([["PUT /upload/v1/files", SERVER]]);
    expect(spans.some((s) => String(s.attributes["rpc.service"]).startsWith("filestore.meta.v1."))).toBe(
      true,
    );
  }, 60_000);
});
