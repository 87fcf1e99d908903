// The rows of `npm run bench:download` behind nginx, the usual deployment: a second all-in-one filestore
// with DOWNLOAD_ACCEL=nginx behind Debian's nginx configured by deploy/nginx/filestore.conf (the worker
// checks each request and hands the bytes to nginx with X-Accel-Redirect), next to a bare nginx serving
// the very same blob file with sendfile: the speed downloads are held to (≥ 0.95 × nginx).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type NginxServer, renderFilestoreConf, startNginx, staticServer } from "../e2e/nginx-server.ts";
import { freePorts } from "../e2e/ports.ts";
import { BenchError, benchUserToken } from "./harness.ts";

export interface BehindNginx {
  /** The blob file served by a bare nginx. */
  staticUrl: string;
  /** The same content as a filestore file, through the nginx in front of it. */
  fileUrl: string;
  token: string;
  staticNginx: NginxServer;
  frontNginx: NginxServer;
  /** The filestore behind nginx. */
  filestorePid: number;
}

interface Harness {
  tmp: string;
  children: Bun.Subprocess[];
  run(cmd: string[]): Promise<string>;
  startFilestore(extra: {
    name?: string;
    env?: Record<string, string>;
  }): Promise<{ proc: Bun.Subprocess; url: string }>;
}

/** Starts the filestore behind nginx and the bare nginx; uploads `payload` (SHA-256 `sha256`) to it. */
export async function startBehindNginx(h: Harness, payload: string, sha256: string): Promise<BehindNginx> {
  if (!Bun.which("nginx"))
    throw new BenchError("nginx is not installed: run `apt-get install -y nginx-light`");
  const store = await h.startFilestore({ name: "accel", env: { DOWNLOAD_ACCEL: "nginx" } });
  const token = await benchUserToken(store.url);
  const uploaded = JSON.parse(
    await h.run([
      "curl",
      "-sS",
      "--fail-with-body",
      "-H",
      "Expect:",
      "-H",
      `authorization: Bearer ${token}`,
      "-T",
      payload,
      `${store.url}/upload/v1/files?name=bench.bin`,
    ]),
  ).file;
  if (uploaded?.sha256 !== sha256) throw new BenchError(`the upload answered ${JSON.stringify(uploaded)}`);
  const root = join(h.tmp, "data-accel", "blobs-root");
  const blobDir = join(root, "blobs", sha256.slice(0, 2), sha256.slice(2, 4));
  const blobName = readdirSync(blobDir).find((f) => f.startsWith(`${sha256}.`));
  if (!blobName) throw new BenchError(`no blob of ${sha256} under ${blobDir}`);
  const [staticPort, frontPort] = (await freePorts(2)) as [number, number];
  const staticNginx = await startNginx(staticServer(staticPort, blobDir), staticPort);
  h.children.push(staticNginx.proc);
  const conf = renderFilestoreConf({ gateway: new URL(store.url).host, port: frontPort, blobDir: root });
  const frontNginx = await startNginx(conf, frontPort);
  h.children.push(frontNginx.proc);
  return {
    staticUrl: `${staticNginx.url}/${blobName}`,
    fileUrl: `${frontNginx.url}/download/v1/files/${uploaded.id}`,
    token,
    staticNginx,
    frontNginx,
    filestorePid: store.proc.pid,
  };
}
