// The client of bench:upload's chunked rows: `bun bench/upload-client.ts '<json>'` runs one chunked upload
// (multipart parts or tus PATCHes, file slices sent with fetch over keep-alive connections) and prints its
// result as JSON. A child process of its own, so that its CPU time is not the harness's.
import { BenchError } from "./harness.ts";

const MiB = 1024 * 1024;
export const TUS_CHUNK = 8 * MiB;
export const PARALLEL_PARTS = 4;

export interface ClientSpec {
  kind: "multipart" | "tus";
  file: string;
  size: number;
  /** multipart: the gateway; tus: the tus server's origin. */
  base: string;
  token?: string;
  name?: string;
}

async function check(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new BenchError(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function uploadRpc(spec: ClientSpec, method: string, body: unknown) {
  const res = await fetch(`${spec.base}/filestore.upload.v1.UploadService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${spec.token}` },
    body: JSON.stringify(body),
  });
  return (await check(res, method)).json();
}

async function multipartClient(spec: ClientSpec) {
  const session = await uploadRpc(spec, "CreateUploadSession", { name: spec.name, size: String(spec.size) });
  const partSize = Number(session.partSize);
  const partCount = Number(session.partCount);
  if (!session.sessionId || !(partSize > 0) || !(partCount > 0))
    throw new BenchError(`CreateUploadSession answered ${JSON.stringify(session)}`);
  const source = Bun.file(spec.file);
  let next = 1;
  const worker = async () => {
    while (next <= partCount) {
      const n = next++;
      const from = (n - 1) * partSize;
      const res = await fetch(`${spec.base}/upload/v1/sessions/${session.sessionId}/parts/${n}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${spec.token}` },
        body: source.slice(from, Math.min(spec.size, from + partSize)),
      });
      await (await check(res, `part ${n}`)).arrayBuffer();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, partCount) }, worker));
  const t1 = performance.now();
  const done = await uploadRpc(spec, "CompleteUploadSession", { sessionId: session.sessionId });
  const seconds = { parts: (t1 - t0) / 1000, complete: (performance.now() - t1) / 1000 };
  return { sha256: done.file?.sha256, size: Number(done.file?.size), parts: partCount, partSize, seconds };
}

async function tusClient(spec: ClientSpec) {
  const created = await check(
    await fetch(`${spec.base}/files`, {
      method: "POST",
      headers: { "tus-resumable": "1.0.0", "upload-length": String(spec.size) },
    }),
    "tus creation",
  );
  await created.arrayBuffer();
  const location = created.headers.get("location");
  if (!location) throw new BenchError("tus creation answered no Location");
  const url = new URL(location, spec.base).href;
  const source = Bun.file(spec.file);
  let offset = 0;
  while (offset < spec.size) {
    const end = Math.min(spec.size, offset + TUS_CHUNK);
    const res = await check(
      await fetch(url, {
        method: "PATCH",
        headers: {
          "tus-resumable": "1.0.0",
          "upload-offset": String(offset),
          "content-type": "application/offset+octet-stream",
        },
        body: source.slice(offset, end),
      }),
      `tus PATCH at ${offset}`,
    );
    await res.arrayBuffer();
    const got = Number(res.headers.get("upload-offset"));
    if (got !== end) throw new BenchError(`tus PATCH at ${offset} answered Upload-Offset ${got}, not ${end}`);
    offset = end;
  }
  return { id: url.slice(url.lastIndexOf("/") + 1), size: offset };
}

if (import.meta.main) {
  try {
    const spec = JSON.parse(process.argv[2] ?? "") as ClientSpec;
    const result = spec.kind === "multipart" ? await multipartClient(spec) : await tusClient(spec);
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (err) {
    console.error(err instanceof BenchError ? err.message : err);
    process.exit(1);
  }
}
