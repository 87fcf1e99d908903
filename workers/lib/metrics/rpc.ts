// RPC server metrics as a Connect interceptor, named after OpenTelemetry's RPC semantic conventions:
// filestore_rpc_server_duration_seconds{rpc_system, rpc_service, rpc_method, code} and an in-flight gauge.
// It runs first (outermost), so that it sees the code a client gets after the error interceptor's mapping,
// and a streamed answer is timed until its last message. The protocol comes from the request's content type
// (Connect's handler context is not visible to interceptors): application/grpc-web… is gRPC-Web,
// application/grpc… gRPC, anything else Connect (application/json, application/proto, application/connect+…).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { DURATION_BUCKETS, type Metrics } from "./registry.ts";

export type RpcSystem = "connect_rpc" | "grpc" | "grpc_web";

export function rpcSystemOf(contentType: string | null): RpcSystem {
  if (contentType?.startsWith("application/grpc-web")) return "grpc_web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect_rpc";
}

/** "ok", or the Connect code name of an error ("not_found", "unavailable", …). */
export const codeOf = (err: unknown): string => codeToString(ConnectError.from(err).code ?? Code.Unknown);

export function rpcMetricsInterceptor(metrics: Metrics): Interceptor {
  // In the process's Web-standard registry (core/metrics/): a bound series there is a plain object whose
  // numbers an observation adds to, where prom-client hashes the labels again on every observation.
  const duration = metrics.core.histogram(
    "filestore_rpc_server_duration_seconds",
    "RPCs served, by service, method, protocol (rpc_system) and answer code; streams until their last message",
    ["service", "rpc_system", "rpc_service", "rpc_method", "code"],
    DURATION_BUCKETS,
  );
  const inFlight = metrics.core.gauge(
    "filestore_rpc_server_in_flight",
    "RPCs being served (streams until their last message)",
    ["service", "rpc_service"],
  );
  const service = metrics.service;
  // The series of a method, looked up once per method, protocol and code rather than per call.
  type Observer = { observe(seconds: number): void };
  interface Series {
    flight: { add(by: number): void };
    durations: Partial<Record<RpcSystem, Map<string, Observer>>>;
  }
  const series = new WeakMap<object, Series>();
  const seriesOf = (req: { service: { typeName: string }; method: object }): Series => {
    let s = series.get(req.method);
    if (!s) {
      s = { flight: inFlight.child(service, req.service.typeName), durations: {} };
      series.set(req.method, s);
    }
    return s;
  };
  return (next) => async (req) => {
    const system = rpcSystemOf(req.header.get("content-type"));
    const { flight, durations } = seriesOf(req);
    let byCode = durations[system];
    if (!byCode) {
      byCode = new Map();
      durations[system] = byCode;
    }
    const started = performance.now();
    flight.add(1);
    let open = true;
    const done = (code: string) => {
      if (!open) return;
      open = false;
      flight.add(-1);
      let observer = byCode.get(code);
      if (!observer) {
        observer = duration.child(service, system, req.service.typeName, req.method.name, code);
        byCode.set(code, observer);
      }
      observer.observe((performance.now() - started) / 1000);
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        done("ok");
        return res;
      }
      const inner = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* inner;
            done("ok");
          } catch (err) {
            done(codeOf(err));
            throw err;
          } finally {
            done("cancelled"); // the client stopped reading before the end
          }
        })(),
      };
    } catch (err) {
      done(codeOf(err));
      throw err;
    }
  };
}
