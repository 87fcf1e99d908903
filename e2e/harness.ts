// Starts the whole file store for end-to-end tests, in the mode named by FILESTORE_TEST_MODE:
// "allinone" (default: one process, SQLite, temp data dir) or "services" (scripts/start-all.sh: every
// service its own process against MariaDB + Redis, gateway under Deno).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createConnection } from "mysql2/promise";
import { freePorts, portRange } from "./ports.ts";

export { freePorts, portRange };

export const ROOT = resolve(import.meta.dir, "..");
export const BIN = join(ROOT, "node_modules", ".bin");
export const MODE = (process.env.FILESTORE_TEST_MODE ?? "allinone") as "allinone" | "services";

export interface Stack {
  mode: typeof MODE;
  /** The Hono gateway (legacy routes, pass-through of Connect / gRPC-Web). */
  gatewayUrl: string;
  /** A worker port serving AccountService (all-in-one: the GRPC_PORT serving every service). */
  accountUrl: string;
  /** A worker port serving meta. */
  metaUrl: string;
  /** A worker port serving UploadService. */
  uploadUrl: string;
  /** Services mode: start-all.sh's RUN_DIR (pids/, logs/). */
  runDir?: string;
  /** A worker port serving FileService and FileAdminService. */
  fileUrl: string;
  /** The data directory (local blobs under blobs-root/; the SQLite queue in all-in-one mode). */
  dataDir: string;
  /** Services mode: how start-all.sh ran the processes, to kill and restart one of them. */
  services?: { runDir: string; env: Record<string, string>; ports: Record<string, number> };
  /** Everything the processes logged so far (stderr; services mode: every process's log file). */
  logs(): string;
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const gatewayUp = (url: string) => async () => (await fetch(`${url}/healthz`)).ok;

export async function startAllInOne(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "filestore-e2e-"));
  const [http, grpc] = (await freePorts(2)) as [number, number];
  const proc = Bun.spawn([join(BIN, "bun"), join(ROOT, "workers/main.ts")], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(http),
      GRPC_PORT: String(grpc),
      HOST: "127.0.0.1",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const gatewayUrl = `http://127.0.0.1:${http}`;
  const grpcUrl = `http://127.0.0.1:${grpc}`;
  // Its log, read as it comes (a full pipe would stall the process).
  const logged: string[] = [];
  const draining = (async () => {
    const decoder = new TextDecoder();
    const reader = proc.stderr.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read())
      logged.push(decoder.decode(r.value, { stream: true }));
  })();
  try {
    await waitFor(gatewayUp(gatewayUrl), "the all-in-one gateway");
  } catch (err) {
    proc.kill("SIGKILL");
    await draining;
    throw new Error(`${err}\n${logged.join("")}`);
  }
  return {
    proc,
    dataDir,
    gatewayUrl,
    grpcUrl,
    logs: () => logged.join(""),
    async stop(keepData = false) {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** A database of its own on the MariaDB at `base` (named `prefix…`), and how to drop it (bench:metadata too). */
export async function freshMysqlDatabase(
  base = process.env.TEST_MYSQL_URL,
  prefix = "filestore_e2e",
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!base) throw new Error("services mode needs TEST_MYSQL_URL (scripts/test-deps.sh start prints it)");
  const name = `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const admin = await createConnection(base);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    },
  };
}

/** The workers start-all.sh starts, with their replica counts in the tests. */
export const SERVICE_REPLICAS = {
  meta: 1,
  account: 1,
  file: 1,
  upload: 2,
  download: 2,
  transfer: 1,
  dav: 1,
} as const;

/** Replica counts a test wants other than SERVICE_REPLICAS' (services mode). */
export type ReplicaCounts = Partial<Record<keyof typeof SERVICE_REPLICAS, number>>;

/** PID of a running service process of a services-mode stack ("upload-2", "gateway", "meta"). */
export function servicePid(runDir: string, name: string): number {
  return Number(readFileSync(join(runDir, "pids", `${name}.pid`), "utf8").trim());
}

async function startServices(env: Record<string, string> = {}, counts: ReplicaCounts = {}): Promise<Stack> {
  const replicaCounts = { ...SERVICE_REPLICAS, ...counts };
  const runDir = mkdtempSync(join(tmpdir(), "filestore-services-"));
  const db = await freshMysqlDatabase();
  // Free ports for the gateway and every replica of every worker (start-all.sh takes <NAME>_PORTS, one
  // per replica), all distinct.
  const pool = await freePorts(1 + Object.values(replicaCounts).reduce((a, b) => a + b, 0));
  const gatewayPort = pool.shift() as number;
  const replicaPorts: Record<string, number[]> = {};
  const portEnv: Record<string, string> = {};
  for (const [name, replicas] of Object.entries(replicaCounts)) {
    const ports = pool.splice(0, replicas);
    replicaPorts[name] = ports;
    portEnv[`${name.toUpperCase()}_REPLICAS`] = String(replicas);
    portEnv[`${name.toUpperCase()}_PORTS`] = ports.join(",");
  }
  const first = (name: keyof typeof SERVICE_REPLICAS) => replicaPorts[name]?.[0] as number;
  const ports = {
    gateway: gatewayPort,
    account: first("account"),
    meta: first("meta"),
    upload: first("upload"),
    file: first("file"),
    transfer: first("transfer"),
  };
  const fullEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    REDIS_URL: process.env.TEST_REDIS_URL ?? "",
    RUN_DIR: runDir,
    HOST: "127.0.0.1",
    GATEWAY_PORT: String(ports.gateway),
    ...portEnv,
    GATEWAY_RUNTIME: process.env.GATEWAY_RUNTIME ?? "deno",
    // Each stack gets its own Redis key space for rate limits.
    REDIS_PREFIX: `e2e${ports.gateway}:`,
    ...env,
  };
  const start = Bun.spawn(["bash", join(ROOT, "scripts/start-all.sh")], {
    env: fullEnv,
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await start.exited) !== 0) {
    const out = `${await new Response(start.stdout).text()}\n${await new Response(start.stderr).text()}`;
    await Bun.spawn(["bash", join(ROOT, "scripts/stop-all.sh")], { env: fullEnv }).exited;
    await db.drop();
    throw new Error(`start-all.sh failed:\n${out}`);
  }
  return {
    mode: "services",
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    accountUrl: `http://127.0.0.1:${ports.account}`,
    metaUrl: `http://127.0.0.1:${ports.meta}`,
    uploadUrl: `http://127.0.0.1:${ports.upload}`,
    runDir,
    fileUrl: `http://127.0.0.1:${ports.file}`,
    dataDir: join(runDir, "data"),
    services: { runDir, env: fullEnv as Record<string, string>, ports },
    logs: () =>
      readdirSync(join(runDir, "logs"))
        .map((f) => readFileSync(join(runDir, "logs", f), "utf8"))
        .join("\n"),
    async stop() {
      await Bun.spawn(["bash", join(ROOT, "scripts/stop-all.sh")], {
        env: fullEnv,
        stdout: "inherit",
        stderr: "inherit",
      }).exited;
      await db.drop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/**
 * Services mode: starts service `name` ("meta", "upload-2", …) again on its own port after a test killed
 * it, with the environment start-all.sh gave it, and records its PID for stop-all.sh.
 */
export async function restartService(stack: Stack, name: string): Promise<void> {
  const svc = stack.services;
  if (!svc) throw new Error("restartService is for services mode");
  const base = name.replace(/-\d+$/, "");
  const replica = Number(/-(\d+)$/.exec(name)?.[1] ?? "1");
  const portsOf = (s: string) => (svc.env[`${s.toUpperCase()}_PORTS`] ?? "").split(",");
  const urls = (s: string) =>
    portsOf(s)
      .map((p) => `http://127.0.0.1:${p}`)
      .join(",");
  const port = portsOf(base)[replica - 1] as string;
  const proc = Bun.spawn([join(BIN, "bun"), join(ROOT, "workers", base, "main.ts")], {
    env: {
      ...svc.env,
      PORT: port,
      DATABASE_URL: base === "meta" ? svc.env.DATABASE_URL : "",
      INTERNAL_SECRET: readFileSync(join(svc.runDir, "internal-secret"), "utf8").trim(),
      DATA_DIR: stack.dataDir,
      JWT_KEY_FILE: join(svc.runDir, "jwt-signing-key.jwk"),
      ...Object.fromEntries(
        Object.keys(SERVICE_REPLICAS).map((s) => [`${s.toUpperCase()}_URL`, urls(s)] as const),
      ),
    },
    stdout: "ignore",
    stderr: Bun.file(join(svc.runDir, "logs", `${name}-restarted-${Date.now()}.log`)),
  });
  writeFileSync(join(svc.runDir, "pids", `${name}.pid`), String(proc.pid)); // stop-all.sh stops it
  await waitFor(async () => {
    const r = await connectCall(`http://127.0.0.1:${port}`, "grpc.health.v1.Health/Check", {});
    return r.json.status === "SERVING";
  }, `${name} to serve again`);
}

/**
 * Starts a stack in the configured mode; `env` overrides settings (e.g. rate limits), `replicas` the
 * replica counts of services mode.
 */
export async function startStack(
  env: Record<string, string> = {},
  replicas: ReplicaCounts = {},
): Promise<Stack> {
  if (MODE === "services") return startServices(env, replicas);
  const aio = await startAllInOne(env);
  return {
    mode: "allinone",
    gatewayUrl: aio.gatewayUrl,
    accountUrl: aio.grpcUrl,
    metaUrl: aio.grpcUrl,
    uploadUrl: aio.grpcUrl,
    fileUrl: aio.grpcUrl,
    dataDir: aio.dataDir,
    logs: aio.logs,
    async stop() {
      await aio.stop();
    },
  };
}

/** Runs a command, returning exit code and output (for buf curl, curl, the CLI). */
export async function run(
  cmd: string[],
  input?: string,
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
) {
  const p = Bun.spawn(cmd, {
    ...opts,
    stdin: input === undefined ? "ignore" : new Blob([input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

let counter = 0;
export const uniqueName = (prefix = "user") =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`;

/** Connect JSON call (HTTP/1.1 via fetch). */
export async function connectCall(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${baseUrl}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {}, headers: res.headers };
}

export const ACCOUNT = "filestore.account.v1.AccountService";
export const FILES = "filestore.file.v1.FileService";
export const UPLOAD = "filestore.upload.v1.UploadService";
export const MiB = 1024 * 1024;
export const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

export async function signedInUser(gatewayUrl: string, password = "correct horse battery") {
  const username = uniqueName();
  const up = await connectCall(gatewayUrl, `${ACCOUNT}/Signup`, { username, password });
  if (up.status !== 200) throw new Error(`signup failed: ${JSON.stringify(up.json)}`);
  const r = await connectCall(gatewayUrl, `${ACCOUNT}/Signin`, { username, password });
  const tokens = r.json.tokens as { accessToken: string; refreshToken: string };
  return { username, password, ...tokens, user: r.json.user as { id: string } };
}

/**
 * True once `check` holds, polling until timeoutMs (work done in the background after a request, such as
 * the SHA-1 backfill of a modern upload); false if it never does.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; ; await Bun.sleep(50)) {
    if (await check()) return true;
    if (Date.now() > end) return false;
  }
}

/** The legacy fast upload by SHA-1 (filehash) as `who`; the answer's code (0: linked, -1: miss). */
export async function legacyFastUpload(
  gatewayUrl: string,
  who: { username: string; accessToken: string },
  data: Uint8Array,
  filename = `fast-${Math.random()}`,
  token = who.accessToken,
): Promise<number> {
  const res = await fetch(`${gatewayUrl}/file/fastupload`, {
    method: "POST",
    body: new URLSearchParams({
      username: who.username,
      token,
      filehash: new Bun.CryptoHasher("sha1").update(data).digest("hex"),
      filename,
      filesize: String(data.length),
    }),
  });
  return ((await res.json()) as { code: number }).code;
}

/** n random bytes (crypto.getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** CreateUploadSession's answer as Connect JSON. */
export interface UploadSessionJson {
  sessionId: string;
  partSize: string;
  partCount: number;
}

/** A client of one user against one gateway: UploadService RPCs and part PUTs to the data plane. */
export function uploadClient(gatewayUrl: string, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  return {
    rpc: (method: string, body: unknown) => connectCall(gatewayUrl, `${UPLOAD}/${method}`, body, auth),
    put: (sessionId: string, n: number | string, body: Uint8Array<ArrayBuffer> | string) =>
      fetch(`${gatewayUrl}/upload/v1/sessions/${sessionId}/parts/${n}`, {
        method: "PUT",
        headers: auth,
        body,
      }),
  };
}

/** Part n (1-based) of `data` cut in parts of partSize. */
export const partOf = (data: Uint8Array<ArrayBuffer>, partSize: number, n: number) =>
  data.subarray((n - 1) * partSize, Math.min(n * partSize, data.length));
