// Quotas end to end, through the gateway (DEFAULT_QUOTA_BYTES = 1 MiB): the data plane's single upload
// (announced or chunked body) and tus creation answer 507 with the reason, RPCs resource_exhausted with
// "quota exceeded: X of Y used, this upload needs Z", the legacy routes code -5; nothing is left behind,
// and GetUsage and `filestore df --json` say where the user stands.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Reason } from "../core/reasons.ts";
import {
  BIN,
  connectCall,
  FILES,
  legacyFastUpload,
  ROOT,
  randomBytes,
  run,
  type Stack,
  signedInUser,
  startStack,
  UPLOAD,
} from "./harness.ts";

const KiB = 1024;
const QUOTA = 1024 * KiB;
const reasonIn = (json: Record<string, unknown>) =>
  JSON.stringify(json.details ?? []).includes(Reason.QUOTA_EXCEEDED) ||
  // Connect JSON carries the ErrorInfo base64-encoded in details[].value: decode it.
  ((json.details as { value?: string }[] | undefined) ?? []).some((d) =>
    Buffer.from(d.value ?? "", "base64")
      .toString()
      .includes(Reason.QUOTA_EXCEEDED),
  );

describe(`quotas end to end (${process.env.FILESTORE_TEST_MODE ?? "allinone"})`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ DEFAULT_QUOTA_BYTES: String(QUOTA) });
  }, 90_000);
  afterAll(() => stack?.stop());

  async function user() {
    const u = await signedInUser(stack.gatewayUrl);
    const auth = { authorization: `Bearer ${u.accessToken}` };
    const rpc = (service: string, method: string, body: unknown) =>
      connectCall(stack.gatewayUrl, `${service}/${method}`, body, auth);
    const usage = async () => (await rpc(FILES, "GetUsage", {})).json;
    const put = (name: string, body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${stack.gatewayUrl}/upload/v1/files?name=${name}`, {
        method: "PUT",
        headers: { ...auth, ...headers },
        body,
        // A stream body goes chunked (no Content-Length).
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    return { ...u, auth, rpc, usage, put };
  }

  test("data plane: 507 with the reason when the announced size does not fit, nothing left behind", async () => {
    const u = await user();
    const res = await u.put("big.bin", randomBytes(QUOTA + 1));
    expect(res.status).toBe(507);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.code).toBe("resource_exhausted");
    expect(json.message).toStartWith("quota exceeded: 0 B of 1 MiB used, this upload needs 1 MiB");
    expect(reasonIn(json)).toBe(true);
    expect((await u.rpc(FILES, "ListFiles", {})).json.files ?? []).toEqual([]);
    expect(await u.usage()).toMatchObject({ quotaBytes: String(QUOTA) });
    expect((await u.usage()).usedBytes ?? "0").toBe("0");
    expect((await u.usage()).reservedBytes ?? "0").toBe("0");
    // What fits is stored and counted.
    expect((await u.put("ok.bin", randomBytes(700 * KiB))).status).toBe(201);
    expect((await u.usage()).usedBytes).toBe(String(700 * KiB));
  });

  test("data plane: a chunked body is cut off at the limit with 507, no file, no hold left", async () => {
    const u = await user();
    const data = randomBytes(QUOTA + 200 * KiB);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < data.length; i += 64 * KiB) c.enqueue(data.subarray(i, i + 64 * KiB));
        c.close();
      },
    });
    const res = await u.put("chunked.bin", body);
    expect(res.status).toBe(507);
    expect(reasonIn((await res.json()) as Record<string, unknown>)).toBe(true);
    expect((await u.rpc(FILES, "ListFiles", {})).json.files ?? []).toEqual([]);
    const usage = await u.usage();
    expect([usage.usedBytes ?? "0", usage.reservedBytes ?? "0"]).toEqual(["0", "0"]);
  });

  test("RPC and tus: a session that does not fit is refused (resource_exhausted / 507); one that fits reserves", async () => {
    const u = await user();
    const refused = await u.rpc(UPLOAD, "CreateUploadSession", { name: "s.bin", size: String(QUOTA + 1) });
    expect(refused.status).toBe(429);
    expect(refused.json.code).toBe("resource_exhausted");
    expect(refused.json.message).toStartWith("quota exceeded: 0 B of 1 MiB used, this upload needs 1 MiB");
    const tus = await fetch(`${stack.gatewayUrl}/upload/v1/tus/`, {
      method: "POST",
      headers: {
        ...u.auth,
        "tus-resumable": "1.0.0",
        "upload-length": String(QUOTA + 1),
        "upload-metadata": "filename eA==",
      },
    });
    expect(tus.status).toBe(507);
    expect(await tus.text()).toStartWith("quota exceeded");
    const ok = await u.rpc(UPLOAD, "CreateUploadSession", { name: "s.bin", size: String(600 * KiB) });
    expect(ok.status).toBe(200);
    expect((await u.usage()).reservedBytes).toBe(String(600 * KiB));
    // The reservation counts: a second one that would pass the quota beside it is refused, an abort frees it.
    expect(
      (await u.rpc(UPLOAD, "CreateUploadSession", { name: "t.bin", size: String(500 * KiB) })).status,
    ).toBe(429);
    await u.rpc(UPLOAD, "AbortUploadSession", { sessionId: ok.json.sessionId });
    expect((await u.usage()).reservedBytes ?? "0").toBe("0");
    expect(
      (await u.rpc(UPLOAD, "CreateUploadSession", { name: "t.bin", size: String(500 * KiB) })).status,
    ).toBe(200);
  });

  test("legacy routes: code -5 on upload, fast upload and multipart init; nothing written", async () => {
    const u = await user();
    const form = new FormData();
    form.set("username", u.username);
    form.set("token", u.accessToken);
    form.set("file", new Blob([randomBytes(QUOTA + 1)]), "big.bin");
    const up = (await (
      await fetch(`${stack.gatewayUrl}/file/upload`, { method: "POST", body: form })
    ).json()) as {
      code: number;
      msg: string;
    };
    expect(up.code).toBe(-5);
    expect(up.msg).toStartWith("quota exceeded");
    const init = (await (
      await fetch(`${stack.gatewayUrl}/file/mpupload/init`, {
        method: "POST",
        body: new URLSearchParams({
          username: u.username,
          token: u.accessToken,
          filehash: "ab".repeat(20),
          filesize: String(QUOTA * 2),
        }),
      })
    ).json()) as { code: number };
    expect(init.code).toBe(-5);
    // Fast upload of content the user holds: charged in full, refused once it does not fit.
    const data = randomBytes(600 * KiB);
    const small = new FormData();
    small.set("username", u.username);
    small.set("token", u.accessToken);
    small.set("file", new Blob([data]), "a.bin");
    expect(
      (
        (await (await fetch(`${stack.gatewayUrl}/file/upload`, { method: "POST", body: small })).json()) as {
          code: number;
        }
      ).code,
    ).toBe(0);
    expect(await legacyFastUpload(stack.gatewayUrl, u, data, "again.bin")).toBe(-5);
    expect(((await u.rpc(FILES, "ListFiles", {})).json.files as unknown[]).length).toBe(1);
    expect((await u.usage()).usedBytes).toBe(String(600 * KiB));
  });

  test("filestore df --json", async () => {
    const u = await user();
    expect((await u.put("a.bin", randomBytes(300 * KiB))).status).toBe(201);
    const home = join(stack.dataDir, `cli-${u.username}`);
    const env = { ...process.env, XDG_CONFIG_HOME: home, FILESTORE_URL: stack.gatewayUrl };
    const cli = [join(BIN, "bun"), join(ROOT, "cli/main.ts")];
    const login = await run([...cli, "login", u.username, "--password-stdin"], `${u.password}\n`, { env });
    expect(login.stderr).toBe("");
    const df = await run([...cli, "df", "--json"], undefined, { env });
    expect(JSON.parse(df.stdout)).toEqual({
      usedBytes: 300 * KiB,
      reservedBytes: 0,
      quotaBytes: QUOTA,
      availableBytes: QUOTA - 300 * KiB,
      files: 1,
      trashBytes: 0,
      versionBytes: 0,
    });
    const human = await run([...cli, "df"], undefined, { env });
    expect(human.stdout).toStartWith("Used       300.0 KiB of 1.0 MiB (29%)");
  });
});
