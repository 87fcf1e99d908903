// The transfer storage policy end to end, in the mode FILESTORE_TEST_MODE names (all-in-one: the SQLite
// queue, in process; services: every service its own process, the Redis Streams queue, MariaDB), against
// Ceph RGW: content lands on local disk, moves to S3 verified, stays readable throughout (read back by
// the upload worker's proof-of-possession check, which reads a range of the stored content from wherever
// the blob row says it is), survives a kill -9 of the transfer worker mid-copy, and survives S3 going
// away (backoff, dead letter, retry once it is back — on a private RGW, so the shared one stays up).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Client } from "minio";
import { JobState, TransferService } from "../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import {
  ACCOUNT,
  BIN,
  connectCall,
  freePorts,
  MODE,
  ROOT,
  run,
  type Stack,
  startAllInOne,
  startStack,
  uniqueName,
} from "./harness.ts";
import { dropBucket, S3, s3Admin } from "./s3.ts";

const TRANSFER = "filestore.transfer.v1.TransferService";
const UPLOAD = "filestore.upload.v1.UploadService";
const MiB = 1024 * 1024;
if (!S3.endPoint && process.env.CI) throw new Error("CI must set TEST_S3_*: the transfer tests need S3");

const sha256Hex = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** What a bucket holds: its objects with their SHA-256, and its unfinished multipart uploads. */
async function bucketContents(admin: Client, bucket: string) {
  const objects: { key: string; sha256: string }[] = [];
  for await (const item of admin.listObjectsV2(bucket, "blobs/", true)) {
    const key = (item as { name: string }).name;
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of await admin.getObject(bucket, key)) hasher.update(chunk as Uint8Array);
    objects.push({ key, sha256: hasher.digest("hex") });
  }
  const { uploads } = await admin.listIncompleteUploadsQuery(bucket, "blobs/", "", "", "");
  return { objects, unfinished: uploads.map((u) => u.key) };
}

/** The settings of a transfer-policy stack on `endPoint`, with short timings. */
const transferEnv = (endPoint: string, bucket: string, admin: string) => ({
  STORAGE_POLICY: "transfer",
  S3_ENDPOINT: endPoint,
  S3_ACCESS_KEY: S3.accessKey,
  S3_SECRET_KEY: S3.secretKey,
  S3_REGION: S3.region,
  S3_BUCKET: bucket,
  ADMIN_USERS: admin,
  TRANSFER_DELETE_GRACE_SECONDS: "4",
  TRANSFER_POLL_MS: "200",
  TRANSFER_VISIBILITY_SECONDS: "3",
  TRANSFER_MAX_ATTEMPTS: "3",
  TRANSFER_BACKOFF_BASE_MS: "1000",
  TRANSFER_BACKOFF_MAX_MS: "4000",
});

/**
 * A stack whose transfer worker can be killed and restarted: in services mode the transfer process (by
 * the PID start-all.sh recorded); in all-in-one mode the one process, restarted on the same data.
 */
interface TransferStack {
  url(): string;
  dataDir: string;
  kill(): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function startTransferStack(env: Record<string, string>): Promise<TransferStack> {
  if (MODE === "services") {
    const stack: Stack = await startStack(env);
    const svc = stack.services as NonNullable<Stack["services"]>;
    const pidFile = join(svc.runDir, "pids", "transfer.pid");
    return {
      url: () => stack.gatewayUrl,
      dataDir: stack.dataDir,
      kill: () => process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL"),
      async restart() {
        const host = (name: string) => `http://127.0.0.1:${svc.ports[name]}`;
        const proc = Bun.spawn([join(BIN, "bun"), join(ROOT, "workers/transfer/main.ts")], {
          env: {
            ...svc.env,
            DATABASE_URL: "",
            PORT: String(svc.ports.transfer),
            INTERNAL_SECRET: readFileSync(join(svc.runDir, "internal-secret"), "utf8").trim(),
            DATA_DIR: stack.dataDir,
            JWT_KEY_FILE: join(svc.runDir, "jwt-signing-key.jwk"),
            META_URL: host("meta"),
            ACCOUNT_URL: host("account"),
          },
          stdout: "ignore",
          stderr: Bun.file(join(svc.runDir, "logs", "transfer-restarted.log")),
        });
        writeFileSync(pidFile, String(proc.pid)); // stop-all.sh stops it
        for (let i = 0; ; i++) {
          const health = await connectCall(host("transfer"), "grpc.health.v1.Health/Check", {}).catch(
            () => undefined,
          );
          if (health?.json.status === "SERVING") return;
          if (i > 200) throw new Error("the restarted transfer worker never became healthy");
          await Bun.sleep(100);
        }
      },
      stop: () => stack.stop(),
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "filestore-transfer-e2e-"));
  let aio = await startAllInOne({ ...env, DATA_DIR: dataDir });
  return {
    url: () => aio.gatewayUrl,
    dataDir,
    kill: () => aio.proc.kill("SIGKILL"),
    async restart() {
      await aio.proc.exited;
      aio = await startAllInOne({ ...env, DATA_DIR: dataDir });
    },
    async stop() {
      await aio.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function signup(url: string, username = uniqueName()) {
  const password = "correct horse battery";
  const up = await connectCall(url, `${ACCOUNT}/Signup`, { username, password });
  if (up.status !== 200) throw new Error(`signup failed: ${JSON.stringify(up.json)}`);
  return signin(url, username);
}

async function signin(url: string, username: string) {
  const r = await connectCall(url, `${ACCOUNT}/Signin`, { username, password: "correct horse battery" });
  return { username, token: (r.json.tokens as { accessToken: string }).accessToken };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function upload(url: string, token: string, body: BodyInit, size: number, name = "f.bin") {
  const res = await fetch(`${url}/upload/v1/files?name=${name}`, {
    method: "PUT",
    headers: { ...auth(token), "content-length": String(size) },
    body,
    duplex: "half",
  } as RequestInit);
  const json = (await res.json()) as { file: { sha256: string; id: string } };
  if (res.status !== 201) throw new Error(`upload failed: ${JSON.stringify(json)}`);
  lastFileId = json.file.id;
  return json.file.sha256;
}

/** The id of the file the last upload() created. */
let lastFileId = "";

/** A random byte range of a file through the gateway's download data plane (206, exact bytes). */
async function rangeDownloads(url: string, token: string, fileId: string, content: Uint8Array) {
  const start = Math.floor(Math.random() * (content.byteLength - 1));
  const end = Math.min(content.byteLength - 1, start + Math.floor(Math.random() * 256 * 1024));
  const res = await fetch(`${url}/download/v1/files/${fileId}`, {
    headers: { ...auth(token), range: `bytes=${start}-${end}` },
  });
  const got = new Uint8Array(await res.arrayBuffer());
  return res.status === 206 && sha256Hex(got) === sha256Hex(content.subarray(start, end + 1));
}

/** Reads a range of the stored content through the service (proof of possession of known content). */
async function readableThroughService(url: string, token: string, content: Uint8Array, sha256: string) {
  const offer = await connectCall(
    url,
    `${UPLOAD}/OfferContent`,
    { sha256, size: String(content.byteLength), name: uniqueName("copy") },
    auth(token),
  );
  if (offer.status !== 200) return false;
  const start = Number(offer.json.rangeStart);
  const range = content.subarray(start, start + Number(offer.json.rangeLength));
  const proof = await connectCall(
    url,
    `${UPLOAD}/ProveContent`,
    { challengeId: offer.json.challengeId, rangeSha256: sha256Hex(range) },
    auth(token),
  );
  return proof.status === 200;
}

async function getJob(url: string, token: string, sha256: string) {
  const r = await connectCall(url, `${TRANSFER}/GetTransferJob`, { blobSha256: sha256 }, auth(token));
  return r.json.job as { state?: string; attempts?: number; lastError?: string } | undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Local copies of the content (files named <sha256>.* under the local store). */
const localCopies = (dataDir: string, sha256: string) =>
  readdirSync(join(dataDir, "blobs-root", "blobs"), { recursive: true, withFileTypes: true }).filter(
    (e) => e.isFile() && e.name.startsWith(`${sha256}.`),
  );

describe.if(S3.endPoint !== "")(`transfer (${MODE})`, () => {
  const bucket = `e2e-transfer-${Date.now().toString(36)}`;
  const admin = s3Admin(S3.endPoint);
  const operator = uniqueName("op");
  let stack: TransferStack;
  let op: { token: string };
  let user: { token: string };

  beforeAll(async () => {
    stack = await startTransferStack(transferEnv(S3.endPoint, bucket, operator));
    op = await signup(stack.url(), operator);
    user = await signup(stack.url());
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await dropBucket(admin, bucket);
  });

  test("upload → moved to S3 with the right hash; local copy gone after the grace period; readable throughout", async () => {
    const content = crypto.getRandomValues(new Uint8Array(3 * MiB));
    const sha256 = await upload(stack.url(), user.token, content, content.byteLength);
    const fileId = lastFileId;
    expect(sha256).toBe(sha256Hex(content));
    expect(await readableThroughService(stack.url(), user.token, content, sha256)).toBe(true);
    expect(await rangeDownloads(stack.url(), user.token, fileId, content)).toBe(true);
    // Operators only.
    const denied = await connectCall(
      stack.url(),
      `${TRANSFER}/GetTransferJob`,
      { blobSha256: sha256 },
      auth(user.token),
    );
    expect([denied.status, denied.json.code]).toEqual([403, "permission_denied"]);

    const job = await until("the job to finish", async () => {
      expect(await readableThroughService(stack.url(), user.token, content, sha256)).toBe(true);
      expect(await rangeDownloads(stack.url(), user.token, fileId, content)).toBe(true);
      const j = await getJob(stack.url(), op.token, sha256);
      return j?.state === "JOB_STATE_DONE" ? j : undefined;
    });
    expect(job.attempts).toBe(1);
    const { objects, unfinished } = await bucketContents(admin, bucket);
    expect(objects.map((o) => o.sha256)).toEqual([sha256]);
    expect(unfinished).toEqual([]);
    // The local copy stays for the grace period (4 s), then goes; the content stays readable.
    expect(localCopies(stack.dataDir, sha256)).toHaveLength(1);
    await until(
      "the local copy to go",
      async () => {
        expect(await rangeDownloads(stack.url(), user.token, fileId, content)).toBe(true);
        return localCopies(stack.dataDir, sha256).length === 0 || undefined;
      },
      30_000,
    );
    expect(await readableThroughService(stack.url(), user.token, content, sha256)).toBe(true);
    // Served from the bucket now: ranges and the whole file, through the gateway.
    for (let i = 0; i < 5; i++)
      expect(await rangeDownloads(stack.url(), user.token, fileId, content)).toBe(true);
    const whole = await fetch(`${stack.url()}/download/v1/files/${fileId}`, { headers: auth(user.token) });
    expect(sha256Hex(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256);
  }, 120_000);

  test("WatchTransfers streams a job's changes to done; MigrateAll streams progress; both for operators only", async () => {
    const client = createClient(
      TransferService,
      createConnectTransport({ baseUrl: stack.url(), httpVersion: "1.1" }),
    );
    const content = crypto.getRandomValues(new Uint8Array(MiB));
    const sha256 = sha256Hex(content);
    const abort = new AbortController();
    const states: JobState[] = [];
    const watching = (async () => {
      for await (const ev of client.watchTransfers(
        { blobSha256: sha256 },
        { headers: auth(op.token), signal: abort.signal },
      )) {
        states.push(ev.job?.state ?? JobState.UNSPECIFIED);
        if (ev.job?.state === JobState.DONE) return;
      }
    })();
    await Bun.sleep(300);
    await upload(stack.url(), user.token, content, content.byteLength, "watched.bin");
    await Promise.race([watching, Bun.sleep(30_000)]);
    abort.abort();
    expect(states.at(-1)).toBe(JobState.DONE);
    // (The whole order, and a reconnect that resumes, are checked in transfer-events.test.ts.)

    const progress = [];
    for await (const p of client.migrateAll({}, { headers: auth(op.token) })) progress.push(p);
    const last = progress.at(-1);
    expect([last?.queued, last?.running, last?.failed]).toEqual([0n, 0n, 0n]);
    expect(Number(last?.done)).toBeGreaterThanOrEqual(2);
    const denied = await (async () => {
      try {
        for await (const _ of client.migrateAll({}, { headers: auth(user.token) })) return "ok";
      } catch (err) {
        return ConnectError.from(err).code;
      }
    })();
    expect(denied).toBe(Code.PermissionDenied);
  }, 120_000);

  test("filestore transfers (the CLI): the operator sees a moved job and the queue's figures; others are refused", async () => {
    const config = mkdtempSync(join(tmpdir(), "filestore-transfers-cli-"));
    const cli = (args: string[], input?: string) =>
      run(["node", join(ROOT, "cli/bin.mjs"), ...args], input, {
        env: { ...process.env, XDG_CONFIG_HOME: config, FILESTORE_URL: stack.url() },
      });
    try {
      const content = crypto.getRandomValues(new Uint8Array(100_000));
      const sha256 = await upload(stack.url(), user.token, content, content.byteLength, "cli.bin");
      expect((await cli(["login", operator, "--password-stdin"], "correct horse battery\n")).code).toBe(0);
      type Job = { sha256: string; state: string; attempts: number; size: number; updatedAt: string };
      const moved = await until("the CLI to list the job as done", async () => {
        const r = await cli(["transfers", "--state", "done", "--json", "--limit", "2000"]);
        expect([r.code, r.stderr]).toEqual([0, ""]);
        return (JSON.parse(r.stdout) as Job[]).find((j) => j.sha256 === sha256);
      });
      expect(moved).toMatchObject({ state: "done", attempts: 1, size: content.byteLength });
      const stats = await cli(["transfers", "stats", "--json"]);
      expect(stats.code).toBe(0);
      const figures = JSON.parse(stats.stdout);
      expect(figures.done).toBeGreaterThanOrEqual(1);
      expect(figures.doneLastHour).toBeGreaterThanOrEqual(1);
      expect(Object.keys(figures)).toEqual([
        "queued",
        "running",
        "failed",
        "done",
        "doneLastHour",
        "localBlobs",
        "oldestQueuedAt",
        "oldestQueuedAgeSeconds",
        "bytesWaiting",
      ]);
      const lines = await cli(["transfers", "--limit", "1"]);
      expect([lines.code, lines.stdout.trim().split("\n").length]).toEqual([0, 1]);
      expect((await cli(["transfers", "--state", "dead"])).code).toBe(2);
      // A user not named in ADMIN_USERS is refused.
      const other = await signup(stack.url());
      expect((await cli(["login", other.username, "--password-stdin"], "correct horse battery\n")).code).toBe(
        0,
      );
      const refused = await cli(["transfers", "stats"]);
      expect([refused.code, refused.stderr.includes("ADMIN_USERS")]).toEqual([1, true]);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  }, 90_000);

  test("kill -9 of the transfer worker in the middle of a 200 MiB copy: completes after restart, one whole object", async () => {
    const total = 200 * MiB;
    const block = crypto.getRandomValues(new Uint8Array(MiB));
    const hasher = new Bun.CryptoHasher("sha256");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= total) return c.close();
        const chunk = block.slice();
        new DataView(chunk.buffer).setUint32(0, sent / MiB + 1);
        hasher.update(chunk);
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const before = (await bucketContents(admin, bucket)).objects;
    const sha256 = await upload(stack.url(), user.token, body, total, "big.bin");
    expect(sha256).toBe(hasher.digest("hex"));
    // In the middle of the copy: its multipart upload exists, unfinished.
    await until("the copy to start", async () => {
      const { uploads } = await admin.listIncompleteUploadsQuery(bucket, "blobs/", "", "", "");
      return uploads.length > 0 || undefined;
    });
    stack.kill();
    const during = await getJob(stack.url(), op.token, sha256).catch(() => undefined);
    if (during) expect(during.state).toBe("JOB_STATE_RUNNING");
    await stack.restart();
    const job = await until(
      "the job to finish after the restart",
      async () => {
        const j = await getJob(stack.url(), op.token, sha256);
        return j?.state === "JOB_STATE_DONE" ? j : undefined;
      },
      120_000,
    );
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    const { objects, unfinished } = await bucketContents(admin, bucket);
    const added = objects.filter((o) => !before.some((b) => b.key === o.key));
    expect(added.map((o) => o.sha256)).toEqual([sha256]);
    expect(unfinished).toEqual([]);
  }, 240_000);
});

describe.if(S3.endPoint !== "")(`transfer while S3 is away (${MODE})`, () => {
  const rgwDir = mkdtempSync(join(tmpdir(), "filestore-rgw-"));
  const startRgw = join(ROOT, "..", "shared", "services", "start-rgw.sh");
  const stopRgw = join(ROOT, "..", "shared", "services", "stop-rgw.sh");
  const rgwEnv = { RGW_ACCESS_KEY: S3.accessKey, RGW_SECRET_KEY: S3.secretKey };
  const bucket = "e2e-transfer-away";
  const operator = uniqueName("op");
  let port = 0;
  let endPoint = "";
  let stack: TransferStack;

  const rgw = async (script: string, ...args: string[]) => {
    const p = Bun.spawn(["bash", script, ...args], {
      env: { ...process.env, ...rgwEnv },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    if (code !== 0) throw new Error(`${script} failed: ${out}\n${err}`);
  };

  beforeAll(async () => {
    [port] = (await freePorts(1)) as [number];
    endPoint = `http://127.0.0.1:${port}`;
    await rgw(startRgw, rgwDir, String(port));
    // The operator retries by hand here: the worker's own re-drive (once S3 answers again) must not beat
    // them to it (workers/transfer/outage.test.ts tests that one).
    stack = await startTransferStack({
      ...transferEnv(endPoint, bucket, operator),
      TRANSFER_REDRIVE_SECONDS: "3600",
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await rgw(stopRgw, rgwDir, "--purge").catch(() => undefined);
  });

  test("retries with backoff, ends a dead letter, and moves once retried after S3 is back", async () => {
    const op = await signup(stack.url(), operator);
    const user = await signup(stack.url());
    await rgw(stopRgw, rgwDir); // S3 goes away
    const content = crypto.getRandomValues(new Uint8Array(2 * MiB));
    const uploadedAt = Date.now();
    const sha256 = await upload(stack.url(), user.token, content, content.byteLength);

    const seen: { state?: string; attempts?: number }[] = [];
    const dead = await until(
      "the job to become a dead letter",
      async () => {
        const j = await getJob(stack.url(), op.token, sha256);
        if (j) seen.push(j);
        expect(await readableThroughService(stack.url(), user.token, content, sha256)).toBe(true);
        const r = await connectCall(stack.url(), `${TRANSFER}/ListDeadLetters`, {}, auth(op.token));
        return (
          r.json.jobs as { blobSha256: string; attempts: number; lastError: string }[] | undefined
        )?.find((d) => d.blobSha256 === sha256);
      },
      90_000,
    );
    const elapsed = Date.now() - uploadedAt;
    expect(dead.attempts).toBe(3);
    expect(dead.lastError).not.toBe("");
    // Between the attempts: backoffs of at least 1 s · ½ and 2 s · ½ (equal jitter).
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(seen.some((j) => j.state === "JOB_STATE_QUEUED" && j.attempts === 1)).toBe(true);
    expect((await getJob(stack.url(), op.token, sha256))?.state).toBe("JOB_STATE_FAILED");

    // S3 comes back (a fresh cluster: the operator creates the bucket again), then the retry.
    await rgw(startRgw, rgwDir, String(port));
    const admin = s3Admin(endPoint);
    if (!(await admin.bucketExists(bucket))) await admin.makeBucket(bucket, S3.region);
    const retried = await connectCall(
      stack.url(),
      `${TRANSFER}/RetryDeadLetter`,
      { blobSha256: sha256 },
      auth(op.token),
    );
    expect(retried.status).toBe(200);
    const again = await connectCall(
      stack.url(),
      `${TRANSFER}/RetryDeadLetter`,
      { blobSha256: sha256 },
      auth(op.token),
    );
    expect([again.status, again.json.code]).toEqual([400, "failed_precondition"]);
    await until("the retried job to finish", async () => {
      const j = await getJob(stack.url(), op.token, sha256);
      return j?.state === "JOB_STATE_DONE" || undefined;
    });
    const { objects, unfinished } = await bucketContents(admin, bucket);
    expect(objects.map((o) => o.sha256)).toEqual([sha256]);
    expect(unfinished).toEqual([]);
    expect(await readableThroughService(stack.url(), user.token, content, sha256)).toBe(true);
    const listed = await connectCall(stack.url(), `${TRANSFER}/ListDeadLetters`, {}, auth(op.token));
    expect((listed.json.jobs as unknown[] | undefined) ?? []).toEqual([]);
  }, 240_000);
});
