// The container health check (the runtime image has no curl): exits 0 when the process on $PORT is
// healthy, 1 otherwise. One command for every process the image runs:
//   a worker     grpc.health.v1.Health answers SERVING (NOT_SERVING while it drains also answers 200,
//                so the status is read)
//   all-in-one   (or a gateway) GET /healthz answers 200
import process from "node:process";

const base = `http://127.0.0.1:${process.env.PORT || "8080"}`;
const signal = AbortSignal.timeout(2500);

async function serving(): Promise<boolean> {
  const res = await fetch(`${base}/grpc.health.v1.Health/Check`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    signal,
  });
  return res.ok && ((await res.json().catch(() => ({}))) as { status?: string }).status === "SERVING";
}

async function healthz(): Promise<boolean> {
  return (await fetch(`${base}/healthz`, { signal })).ok;
}

const ok = (await serving().catch(() => false)) || (await healthz().catch(() => false));
process.exit(ok ? 0 : 1);
