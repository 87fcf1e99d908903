// The container health check (the runtime image has no curl): exits 0 when the process on $PORT is
// healthy, 1 otherwise.
//   bun workers/healthcheck.ts        a worker: grpc.health.v1.Health answers SERVING (NOT_SERVING while it
//                                     drains also answers 200, so the status is read)
//   bun workers/healthcheck.ts http   the all-in-one store (or a gateway): GET /healthz answers 200
import process from "node:process";

const port = process.env.PORT || "8080";
const base = `http://127.0.0.1:${port}`;
const signal = AbortSignal.timeout(2500);

async function healthy(): Promise<boolean> {
  if (process.argv[2] === "http") return (await fetch(`${base}/healthz`, { signal })).ok;
  const res = await fetch(`${base}/grpc.health.v1.Health/Check`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    signal,
  });
  return res.ok && ((await res.json()) as { status?: string }).status === "SERVING";
}

process.exit((await healthy().catch(() => false)) ? 0 : 1);
