// Metrics against a real Prometheus, in either mode (FILESTORE_TEST_MODE): services mode scrapes the
// gateway and every worker replica on its own port, all-in-one its one /metrics. After an upload, a
// download, a signed link and a failed signin through the gateway — and with S3 at hand (TEST_S3_*: the
// transfer policy) the upload's move to S3 — Prometheus' HTTP API must show the traffic, every target up; every /metrics passes `promtool check metrics`; no label value anywhere holds the
// user's name or id, or the file's name or id.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { promtoolCheckMetrics } from "../workers/lib/metrics/testing.ts";
import {
  ACCOUNT,
  connectCall,
  eventually,
  randomBytes,
  SERVICE_REPLICAS,
  type Stack,
  signedInUser,
  startStack,
  uploadClient,
} from "./harness.ts";
import { freePortInRange, type Prometheus, type ScrapeTarget, startPrometheus } from "./prometheus.ts";
import { dropBucket, S3, s3Admin, transferPolicyEnv } from "./s3.ts";

const TOKEN = `metrics-${crypto.randomUUID()}`;
const FILE_NAME = `quarterly-Zebrafish-${crypto.randomUUID().slice(0, 8)}.bin`;
const SIZE = 300_000;
const onS3 = S3.endPoint !== "";
const bucket = `metrics-${crypto.randomUUID().slice(0, 8)}`;
/** The transfer policy on the shared S3: uploads land on local disk and move to the bucket. */
const transferPolicy = onS3 ? transferPolicyEnv(bucket) : {};

let stack: Stack;
let prometheus: Prometheus;
let targets: ScrapeTarget[];
let user: Awaited<ReturnType<typeof signedInUser>>;
let fileId = "";

/**
 * host:port of every process serving /metrics. Services mode: the gateway on its METRICS_PORT (as compose
 * and Kubernetes run it), every worker replica on its port; all-in-one: its web port.
 */
function targetsOf(s: Stack, metricsPort: number): ScrapeTarget[] {
  const gateway = { job: "gateway", address: new URL(s.gatewayUrl).host };
  if (!s.services) return [gateway];
  gateway.address = `127.0.0.1:${metricsPort}`;
  const env = s.services.env;
  const workers = Object.keys(SERVICE_REPLICAS).flatMap((job) =>
    (env[`${job.toUpperCase()}_PORTS`] ?? "")
      .split(",")
      .map((port) => ({ job, address: `127.0.0.1:${port}` })),
  );
  return [gateway, ...workers];
}

beforeAll(async () => {
  // METRICS_PORT: read by the gateway only (all-in-one serves /metrics on its web port).
  const metricsPort = await freePortInRange();
  stack = await startStack({ METRICS_TOKEN: TOKEN, METRICS_PORT: String(metricsPort), ...transferPolicy });
  targets = targetsOf(stack, metricsPort);
  prometheus = await startPrometheus(targets, TOKEN);
  user = await signedInUser(stack.gatewayUrl);
  const auth = { authorization: `Bearer ${user.accessToken}` };
  const body = randomBytes(SIZE);
  const up = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=${FILE_NAME}`, {
    method: "PUT",
    headers: auth,
    body,
  });
  if (up.status !== 201) throw new Error(`upload failed: ${up.status} ${await up.text()}`);
  fileId = ((await up.json()) as { file: { id: string } }).file.id;
  const down = await fetch(`${stack.gatewayUrl}/download/v1/files/${fileId}`, { headers: auth });
  if ((await down.arrayBuffer()).byteLength !== SIZE) throw new Error("download incomplete");
  const link = await connectCall(
    stack.gatewayUrl,
    "filestore.download.v1.DownloadService/CreateDownloadUrl",
    { fileId },
    auth,
  );
  const linked = await fetch(new URL(link.json.url as string, stack.gatewayUrl));
  if (linked.status !== 200) throw new Error(`signed link: ${linked.status}`);
  await linked.arrayBuffer();
  // A session upload of one part (the funnel: created, a part received, completed).
  const c = uploadClient(stack.gatewayUrl, user.accessToken);
  const session = await c.rpc("CreateUploadSession", { name: `session-${FILE_NAME}`, size: "1000" });
  const { sessionId } = session.json as { sessionId: string };
  if ((await c.put(sessionId, 1, randomBytes(1000))).status !== 200) throw new Error("part refused");
  if ((await c.rpc("CompleteUploadSession", { sessionId })).status !== 200) throw new Error("not completed");
  const failed = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signin`, {
    username: user.username,
    password: "not the password",
  });
  if (failed.status !== 401) throw new Error(`failed signin answered ${failed.status}`);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await stack?.stop();
  if (onS3) await dropBucket(s3Admin(S3.endPoint), bucket);
}, 60_000);

/**
 * Declared response bytes of the download route: services mode, at the gateway and at the worker (both see
 * the Content-Length). All-in-one sends the file from Bun.serve's fast path with sendfile, where Bun sets the
 * length itself: there the download worker's own byte counter (filestore_download_bytes_total) tells.
 */
function downloadBytes(): Array<[string, (v: number) => boolean]> {
  if (!stack.services) return [];
  return ["gateway", "download"].map((service) => [
    `sum(filestore_http_server_response_bytes_total{service="${service}",route="/download/v1/files/{id}"})`,
    (v) => v >= SIZE,
  ]);
}

/**
 * With S3, the uploads' moves: attempts by outcome and the bytes moved (both uploads, at least the big one).
 * Their downloads read from local disk or S3, whichever held the content at the time.
 */
function transfers(): Array<[string, (v: number) => boolean]> {
  if (!onS3) return [];
  return [
    ['sum(filestore_transfer_attempts_total{outcome="moved"})', (v) => v >= 2],
    ["sum(filestore_transfer_moved_bytes_total)", (v) => v >= SIZE + 1000],
    ['sum(filestore_transfer_job_duration_seconds_count{outcome="moved"})', (v) => v >= 2],
  ];
}
const DOWNLOAD_BACKEND = onS3 ? 'backend=~"local|s3"' : 'backend="local"';

/** The value of an instant query's single sample (0 when it has none). */
async function scalar(promql: string): Promise<number> {
  const r = await prometheus.query(promql);
  return r.length === 0 ? 0 : Number(r[0]?.value[1]);
}

describe(`metrics through a real Prometheus (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  test("every target is up, scraped with the token", async () => {
    const allUp = await eventually(
      async () =>
        (await scalar("count(up == 1)")) === targets.length && (await scalar("count(up)")) === targets.length,
      30_000,
    );
    expect(allUp).toBe(true);
  }, 40_000);

  test(`the traffic shows: RPCs, data-plane bytes both ways, the upload funnel, downloads, links, signins${onS3 ? ", transfers" : ""}`, async () => {
    const expectations: Array<[string, (v: number) => boolean]> = [
      [
        'sum(filestore_rpc_server_duration_seconds_count{rpc_method="Signin",code="unauthenticated"})',
        (v) => v >= 1,
      ],
      [
        'sum(filestore_rpc_server_duration_seconds_count{rpc_service="filestore.account.v1.AccountService"})',
        (v) => v >= 2,
      ],
      [
        'sum(filestore_http_server_request_bytes_total{service="gateway",route="/upload/v1/files"})',
        (v) => v >= SIZE,
      ],
      [
        'sum(filestore_http_server_duration_seconds_count{route="/download/v1/files/{id}",status="200"})',
        (v) => v >= 1,
      ],
      ...downloadBytes(),
      ['sum(filestore_upload_stored_bytes_total{service="upload"})', (v) => v >= SIZE + 1000],
      ['sum(filestore_upload_sessions_total{event="created"})', (v) => v >= 1],
      ['sum(filestore_upload_sessions_total{event="completed"})', (v) => v >= 1],
      ['sum(filestore_upload_parts_total{result="received"})', (v) => v >= 1],
      [
        'sum(filestore_http_server_duration_seconds_count{route="/upload/v1/sessions/{id}/parts/{n}"})',
        (v) => v >= 1,
      ],
      [`sum(filestore_download_bytes_total{service="download",${DOWNLOAD_BACKEND}})`, (v) => v >= 2 * SIZE],
      ...transfers(),
      ['sum(filestore_download_link_verifications_total{result="ok"})', (v) => v >= 1],
      ['sum(filestore_auth_signins_total{result="bad_credentials"})', (v) => v >= 1],
      ['sum(filestore_auth_signins_total{result="ok"})', (v) => v >= 1],
      ["sum(process_resident_memory_bytes)", (v) => v > 0],
    ];
    const pending = new Set(expectations.map(([q]) => q));
    await eventually(async () => {
      for (const [q, ok] of expectations) if (pending.has(q) && ok(await scalar(q))) pending.delete(q);
      return pending.size === 0;
    }, 30_000);
    expect([...pending]).toEqual([]);
  }, 40_000);

  test("every /metrics passes promtool check metrics", async () => {
    for (const t of targets) {
      const res = await fetch(`http://${t.address}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect([t.job, res.status]).toEqual([t.job, 200]);
      const check = await promtoolCheckMetrics(await res.text());
      expect([t.job, check]).toEqual([t.job, { code: 0, output: "" }]);
    }
  });

  test("the gateway's public /metrics is refused without the token, answered with it", async () => {
    expect((await fetch(`${stack.gatewayUrl}/metrics`)).status).toBe(401);
    const ok = await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([ok.status, (await ok.text()).includes("filestore_http_server_duration_seconds")]).toEqual([
      200,
      true,
    ]);
    const wrong = await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
  });

  test("no label value holds the user's name or id, or the file's name or id", async () => {
    const secrets = [user.username, user.user.id, FILE_NAME, "Zebrafish", fileId, user.accessToken];
    const labels = JSON.stringify(await prometheus.series('{__name__=~"filestore_.+|up|process_.+"}'));
    expect(labels.length).toBeGreaterThan(1000);
    for (const s of secrets) expect([s, labels.includes(s)]).toEqual([s, false]);
    for (const t of targets) {
      const res = await fetch(`http://${t.address}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const text = await res.text();
      for (const s of secrets) expect([t.job, s, text.includes(s)]).toEqual([t.job, s, false]);
    }
  });
});
