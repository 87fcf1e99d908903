// No credential ever reaches a log. A session runs with ACCESS_LOG=1 and debug logging — signup, signin
// (modern and legacy), refresh, uploads (token in the header and in the query), a signed download link
// (and, on S3, the presigned URL it redirects to), an app password, failed signins and forged tokens —
// then every line every process logged is searched for each token, password and signature used: none
// may appear. The access lines themselves are checked too (route templates, request and trace ids).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ACCOUNT, connectCall, MODE, type Stack, startStack, uniqueName } from "./harness.ts";
import { startOtlpReceiver } from "./otlp-receiver.ts";
import { dropBucket, S3, s3Admin } from "./s3.ts";

const DOWNLOAD = "filestore.download.v1.DownloadService";
const bucket = `logsecrets${Date.now().toString(36)}`;
const onS3 = S3.endPoint !== "";
let stack: Stack;
// Tracing on too: log lines carry trace ids, and spans must be as free of secrets as logs.
const receiver = startOtlpReceiver();

beforeAll(async () => {
  stack = await startStack({
    ACCESS_LOG: "1",
    LOG_LEVEL: "debug",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    ...(onS3
      ? {
          STORAGE_POLICY: "s3",
          S3_ENDPOINT: S3.endPoint,
          S3_ACCESS_KEY: S3.accessKey,
          S3_SECRET_KEY: S3.secretKey,
          S3_REGION: S3.region,
          S3_BUCKET: bucket,
          DOWNLOAD_S3_REDIRECT: "1",
        }
      : {}),
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  receiver.stop();
  if (onS3) await dropBucket(s3Admin(S3.endPoint), bucket);
});

/** What the session used that must stay out of the logs (name → value). */
const secrets = new Map<string, string>();
const keep = (name: string, value: unknown): string => {
  const v = String(value ?? "");
  expect(v.length).toBeGreaterThan(8); // a value that is there to be found
  secrets.set(name, v);
  // A JWT's signature alone is a leak too.
  if (v.split(".").length === 3) secrets.set(`${name} (signature)`, v.split(".")[2] as string);
  return v;
};

async function session(): Promise<string[]> {
  const gw = stack.gatewayUrl;
  const requestIds: string[] = [];
  const username = uniqueName("secret");
  const password = keep("password", `pw-${crypto.randomUUID()}`);
  expect((await connectCall(gw, `${ACCOUNT}/Signup`, { username, password })).status).toBe(200);
  const wrong = keep("wrong password", `nope-${crypto.randomUUID()}`);
  expect((await connectCall(gw, `${ACCOUNT}/Signin`, { username, password: wrong })).status).toBe(401);
  const signin = await connectCall(gw, `${ACCOUNT}/Signin`, { username, password });
  const first = signin.json.tokens as { accessToken: string; refreshToken: string };
  keep("access token", first.accessToken);
  keep("refresh token", first.refreshToken);
  const refreshed = await connectCall(gw, `${ACCOUNT}/Refresh`, { refreshToken: first.refreshToken });
  expect(refreshed.status).toBe(200);
  const tokens = refreshed.json.tokens as { accessToken: string; refreshToken: string };
  keep("refreshed access token", tokens.accessToken);
  keep("refreshed refresh token", tokens.refreshToken);
  // A replayed refresh token is refused (and its session ended): an error path that must not log it.
  expect((await connectCall(gw, `${ACCOUNT}/Refresh`, { refreshToken: first.refreshToken })).status).toBe(
    401,
  );
  const again = await connectCall(gw, `${ACCOUNT}/Signin`, { username, password });
  const bearer = keep("access token 3", (again.json.tokens as { accessToken: string }).accessToken);

  // Uploads: the token in the header, and in the query (as the legacy clients and browsers' forms do).
  const put = await fetch(`${gw}/upload/v1/files?name=secret.txt`, {
    method: "PUT",
    headers: { authorization: `Bearer ${bearer}` },
    body: "hush",
  });
  expect(put.status).toBe(201);
  requestIds.push(put.headers.get("x-request-id") ?? "");
  const file = ((await put.json()) as { file: { id: string } }).file;
  const viaQuery = await fetch(`${gw}/upload/v1/files?name=q.txt&token=${bearer}`, {
    method: "PUT",
    body: "q",
  });
  expect(viaQuery.status).toBe(201);
  // A forged token (refused) and the legacy sign-in, whose password travels in a form.
  const forged = keep("forged token", `${bearer.slice(0, -4)}AAAA`);
  expect(
    (await fetch(`${gw}/download/v1/files/${file.id}`, { headers: { authorization: `Bearer ${forged}` } }))
      .status,
  ).toBe(401);
  const legacy = await fetch(`${gw}/user/signin`, {
    method: "POST",
    body: new URLSearchParams({ username, password }),
  });
  expect(legacy.status).toBe(200);

  // A signed link: its signature, and on S3 the presigned URL it sends the client to.
  const link = await connectCall(
    gw,
    `${DOWNLOAD}/CreateDownloadUrl`,
    { fileId: file.id },
    { authorization: `Bearer ${bearer}` },
  );
  expect(link.status).toBe(200);
  const url = new URL(link.json.url as string, gw);
  keep("link signature", url.searchParams.get("sig"));
  const got = await fetch(url, { redirect: "manual" });
  expect([200, 302]).toContain(got.status);
  const location = got.headers.get("location");
  if (onS3) {
    expect(got.status).toBe(302);
    const presigned = new URL(location ?? "");
    keep("X-Amz-Signature", presigned.searchParams.get("X-Amz-Signature"));
    expect(await (await fetch(presigned)).text()).toBe("hush");
  } else expect(await got.text()).toBe("hush");

  // An app password.
  const app = await connectCall(
    gw,
    `${ACCOUNT}/CreateAppPassword`,
    { name: "sync" },
    { authorization: `Bearer ${bearer}` },
  );
  expect(app.status).toBe(200);
  keep("app password", app.json.secret);
  if (onS3) keep("S3 secret key", S3.secretKey);
  return requestIds;
}

const internalSecret = () =>
  readFileSync(join(stack.services?.runDir ?? stack.dataDir, "internal-secret"), "utf8").trim();

describe(`logs (${MODE})`, () => {
  test("a whole session logs no token, password or signature; access lines name routes, not URLs", async () => {
    const [uploadRid] = await session();
    keep("internal secret", internalSecret());
    // The processes write their last lines as the requests finish.
    await Bun.sleep(300);
    const logs = stack.logs();
    const lines = logs.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(10);
    if (process.env.SHOW_LOGS) console.log(lines.join("\n"));
    const leaked = [...secrets].filter(([, value]) => logs.includes(value)).map(([name]) => name);
    expect(leaked).toEqual([]);
    const spans = JSON.stringify(receiver.spans);
    expect(receiver.spans.length).toBeGreaterThan(10);
    expect([...secrets].filter(([, value]) => spans.includes(value)).map(([name]) => name)).toEqual([]);

    const access = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "access");
    const uploads = access.filter((l) => l.request_id === uploadRid);
    const gatewayLine = uploads.find((l) => l.service === "gateway" || l.service === "all-in-one");
    expect(gatewayLine).toMatchObject({
      level: "info",
      method: "PUT",
      route: "/upload/v1/files",
      status: 201,
      bytes_in: 4,
      client: "127.0.0.1",
    });
    expect(typeof gatewayLine?.ts).toBe("string");
    expect(typeof gatewayLine?.duration_ms).toBe("number");
    // One trace id for the request in every process's lines (the gateway's trace).
    expect(String(gatewayLine?.trace_id)).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(uploads.map((l) => l.trace_id))).toEqual(new Set([gatewayLine?.trace_id]));
    if (MODE === "services") {
      // The upload worker's line of the same request, and the meta calls it made, under the same ids.
      expect(uploads.map((l) => l.service)).toEqual(expect.arrayContaining(["gateway", "upload", "meta"]));
    }
    // No access line carries a query string or a file id.
    for (const l of access) expect(String(l.route)).not.toMatch(/[?&=]|[0-9a-f]{32}/);
  }, 60_000);
});
