// Debian's nginx in front of a filestore, configured by the file operators get (deploy/nginx/filestore.conf)
// with its marked lines filled in; also a bare nginx serving a folder (the speed a download is held to).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
export const NGINX_CONF = join(ROOT, "deploy/nginx/filestore.conf");

export interface NginxServer {
  url: string;
  proc: Bun.Subprocess;
  /** The worker process (worker_processes 1), which serves the requests. */
  workerPid(): number;
  /** nginx's error log so far. */
  errors(): string;
  stop(): Promise<void>;
}

/** The shipped server block with its EDIT lines set: the gateway, the port, the blob store's folder. */
export function renderFilestoreConf(opts: { gateway: string; port: number; blobDir: string }): string {
  let conf = readFileSync(NGINX_CONF, "utf8");
  const edits: [RegExp, string][] = [
    [/server 127\.0\.0\.1:8080;.*$/m, `server ${opts.gateway};`],
    [/listen 80;.*$/m, `listen 127.0.0.1:${opts.port};`],
    [/alias \/var\/lib\/filestore\/blobs-root\/blobs\/;.*$/m, `alias ${resolve(opts.blobDir)}/blobs/;`],
  ];
  for (const [line, value] of edits) {
    if (!line.test(conf)) throw new Error(`${NGINX_CONF} no longer has the line ${line}`);
    conf = conf.replace(line, value);
  }
  return conf;
}

/** nginx (no daemon, its temp files and logs in a fresh folder) with `server` inside http {}. */
export async function startNginx(server: string, port: number): Promise<NginxServer> {
  const dir = mkdtempSync(join(tmpdir(), "filestore-nginx-"));
  const conf = join(dir, "nginx.conf");
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((k) => `${k}_temp_path ${dir}/${k};`)
    .join(" ");
  writeFileSync(
    conf,
    // As root (CI), nginx's workers would drop to nobody, who cannot enter the test's private folders.
    `${process.getuid?.() === 0 ? "user root; " : ""}daemon off; master_process on; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; ${temp}
  default_type application/octet-stream;
${server}
}
`,
  );
  const proc = Bun.spawn(["nginx", "-c", conf, "-e", `${dir}/error.log`], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  const errors = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  for (const until = Date.now() + 15_000; ; await Bun.sleep(50)) {
    if (
      await fetch(url, { method: "HEAD" }).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > until || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`nginx did not start on ${port}: ${await new Response(proc.stderr).text()}${errors()}`);
    }
  }
  const workerPid = () => {
    const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(/\s+/);
    if (!children[0]) throw new Error("nginx has no worker process");
    return Number(children[0]);
  };
  return {
    url,
    proc,
    workerPid,
    errors,
    async stop() {
      proc.kill("SIGQUIT");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bare nginx serving `dir` at / (sendfile): what the filestore's downloads behind nginx compare with. */
export const staticServer = (port: number, dir: string) =>
  `server { listen 127.0.0.1:${port}; location / { root ${resolve(dir)}; } }`;
