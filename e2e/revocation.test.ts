// Ending a session refuses its access tokens within seconds on every route family, through the gateway
// and straight at every worker replica: after Signout, and after a refresh-token replay revoked the family.
// Another session of the same user keeps working throughout.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { ACCOUNT, connectCall, MODE, type Stack, servicePid, signedInUser, startStack } from "./harness.ts";

const FILES = "filestore.file.v1.FileService";
const UPLOAD = "filestore.upload.v1.UploadService";
/** The legacy API's "token invalid" code. */
const LEGACY_TOKEN_INVALID = 10005;
/** Revocation is read about once a second by every process; allow a loaded machine plenty more. */
const WITHIN_MS = 15_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 90_000);
afterAll(() => stack?.stop());

/** Every replica of a worker straight at its port (services mode), or the all-in-one's worker port. */
const replicas = (name: "UPLOAD" | "DOWNLOAD"): string[] =>
  stack.services
    ? (stack.services.env[`${name}_PORTS`] ?? "").split(",").map((p) => `http://127.0.0.1:${p}`)
    : [stack.uploadUrl];

type Outcome = "ok" | "refused" | string;

/** A request on one route family with a token: "ok", "refused" (the token was not accepted), or what else. */
interface Probe {
  name: string;
  run(token: string): Promise<Outcome>;
}

const byStatus = (ok: number[]) => (res: Response) =>
  ok.includes(res.status) ? "ok" : res.status === 401 ? "refused" : `HTTP ${res.status}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const tusCreation = {
  "Tus-Resumable": "1.0.0",
  "Upload-Length": "4",
  "Upload-Metadata": `filename ${btoa("tus.bin")}`,
};

async function rpcOutcome(base: string, path: string, token: string, body: unknown = {}): Promise<Outcome> {
  const r = await connectCall(base, path, body, bearer(token));
  if (r.status === 200) return "ok";
  return r.status === 401 && r.json.code === "unauthenticated"
    ? "refused"
    : `HTTP ${r.status} ${r.json.code}`;
}

/**
 * The probes of one user: what each route family needs (a file to download, an open upload session, a tus
 * upload) is made with `token` while it is still good.
 */
async function probesFor(username: string, token: string): Promise<Probe[]> {
  const put = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=probe.txt`, {
    method: "PUT",
    headers: bearer(token),
    body: "revocation probe",
  });
  expect(put.status).toBe(201);
  const fileId = ((await put.json()) as { file: { id: string } }).file.id;
  const session = await connectCall(
    stack.gatewayUrl,
    `${UPLOAD}/CreateUploadSession`,
    { name: "parts.bin", size: "4" },
    bearer(token),
  );
  expect(session.status).toBe(200);
  const sessionId = session.json.sessionId as string;
  const tus = await fetch(`${stack.gatewayUrl}/upload/v1/tus/`, {
    method: "POST",
    headers: { ...bearer(token), ...tusCreation },
  });
  expect(tus.status).toBe(201);
  const tusUrl = new URL(tus.headers.get("location") ?? "", stack.gatewayUrl).toString();
  const grpc = createClient(AccountService, createGrpcTransport({ baseUrl: stack.accountUrl }));

  const probes: Probe[] = [
    { name: "RPC via gateway", run: (t) => rpcOutcome(stack.gatewayUrl, `${ACCOUNT}/GetUserInfo`, t) },
    { name: "RPC listing via gateway", run: (t) => rpcOutcome(stack.gatewayUrl, `${FILES}/ListFiles`, t) },
    {
      name: "RPC Connect at the file worker",
      run: (t) => rpcOutcome(stack.fileUrl, `${FILES}/ListFiles`, t),
    },
    {
      name: "RPC gRPC at the account worker",
      run: (t) =>
        grpc.getUserInfo({}, { headers: bearer(t) }).then(
          () => "ok",
          (e) => (ConnectError.from(e).code === Code.Unauthenticated ? "refused" : String(e)),
        ),
    },
    {
      name: "legacy /file/query",
      run: async (t) => {
        const res = await fetch(`${stack.gatewayUrl}/file/query`, {
          method: "POST",
          body: new URLSearchParams({ username, token: t, limit: "5" }),
        });
        // The file list (an array), or {code, msg}.
        const body = (await res.json()) as unknown[] | { code: number };
        if (Array.isArray(body)) return "ok";
        return body.code === LEGACY_TOKEN_INVALID ? "refused" : `legacy code ${body.code}`;
      },
    },
    {
      name: "form upload via gateway",
      run: async (t) => {
        const form = new FormData();
        form.set("file", new Blob(["form probe"]), "form.txt");
        // Probed again and again: each probe keeps its own copy (names are unique in a folder).
        const res = await fetch(`${stack.gatewayUrl}/upload/v1/form?on_conflict=rename`, {
          method: "POST",
          headers: bearer(t),
          body: form,
        });
        return byStatus([201])(res);
      },
    },
    {
      name: "tus creation via gateway",
      run: async (t) =>
        byStatus([201])(
          await fetch(`${stack.gatewayUrl}/upload/v1/tus/`, {
            method: "POST",
            headers: { ...bearer(t), ...tusCreation },
          }),
        ),
    },
    {
      name: "tus HEAD via gateway",
      run: async (t) =>
        byStatus([200])(
          await fetch(tusUrl, { method: "HEAD", headers: { ...bearer(t), "Tus-Resumable": "1.0.0" } }),
        ),
    },
  ];
  // Two of each through the gateway: it balances over the replicas.
  for (const [i, base] of [stack.gatewayUrl, stack.gatewayUrl, ...replicas("UPLOAD")].entries()) {
    probes.push({
      name: `part PUT #${i} at ${base}`,
      run: async (t) =>
        byStatus([200])(
          await fetch(`${base}/upload/v1/sessions/${sessionId}/parts/1`, {
            method: "PUT",
            headers: bearer(t),
            body: "data",
          }),
        ),
    });
  }
  for (const [i, base] of [stack.gatewayUrl, stack.gatewayUrl, ...replicas("DOWNLOAD")].entries()) {
    probes.push({
      name: `download #${i} at ${base}`,
      run: async (t) => {
        const res = await fetch(`${base}/download/v1/files/${fileId}`, { headers: bearer(t) });
        await res.arrayBuffer();
        return byStatus([200])(res);
      },
    });
  }
  return probes;
}

/** Each probe's outcome with `token`, one after another (two part PUTs at once would conflict). */
async function outcomes(probes: Probe[], token: string): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  for (const p of probes) out[p.name] = await p.run(token);
  return out;
}

const all = (probes: Probe[], outcome: Outcome) => Object.fromEntries(probes.map((p) => [p.name, outcome]));

/** Waits until every probe refuses `token`; returns how long that took. */
async function refusedEverywhere(probes: Probe[], token: string): Promise<number> {
  const start = Date.now();
  let last: Record<string, Outcome> = {};
  while (Date.now() - start < WITHIN_MS) {
    last = await outcomes(probes, token);
    if (Object.values(last).every((o) => o === "refused")) return Date.now() - start;
    await Bun.sleep(200);
  }
  expect(last).toEqual(all(probes, "refused"));
  return Number.POSITIVE_INFINITY;
}

describe(`revoked sessions are refused everywhere (${MODE})`, () => {
  test("after Signout: the session's access token, on every route family and replica", async () => {
    const user = await signedInUser(stack.gatewayUrl);
    const probes = await probesFor(user.username, user.accessToken);
    const other = (
      await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signin`, {
        username: user.username,
        password: user.password,
      })
    ).json.tokens as {
      accessToken: string;
    };
    expect(await outcomes(probes, user.accessToken)).toEqual(all(probes, "ok"));

    const out = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signout`, {
      refreshToken: user.refreshToken,
    });
    expect(out.status).toBe(200);
    const tookMs = await refusedEverywhere(probes, user.accessToken);
    console.log(`signout refused everywhere after ${tookMs} ms`);
    // The same user's other session is untouched.
    expect(await outcomes(probes, other.accessToken)).toEqual(all(probes, "ok"));
  }, 90_000);

  test("after a refresh-token replay: every access token of that session", async () => {
    const user = await signedInUser(stack.gatewayUrl);
    const refreshed = (
      await connectCall(stack.gatewayUrl, `${ACCOUNT}/Refresh`, { refreshToken: user.refreshToken })
    ).json.tokens as { accessToken: string };
    const probes = await probesFor(user.username, refreshed.accessToken);
    expect(await outcomes(probes, user.accessToken)).toEqual(all(probes, "ok"));

    const replay = await connectCall(stack.gatewayUrl, `${ACCOUNT}/Refresh`, {
      refreshToken: user.refreshToken,
    });
    expect(replay.status).toBe(401);
    const tookMs = await refusedEverywhere(probes, refreshed.accessToken);
    console.log(`replay refused everywhere after ${tookMs} ms`);
    expect(await outcomes(probes, user.accessToken)).toEqual(all(probes, "refused"));
  }, 90_000);

  // The workers refuse such tokens too, so the tests above pass even without the edge check. With the
  // transfer worker gone, only the gateway can answer: 401 once it has read the revocation, 503 before.
  test.skipIf(MODE !== "services")(
    "the gateway refuses them itself (its own poll of the account service)",
    async () => {
      const user = await signedInUser(stack.gatewayUrl);
      process.kill(servicePid(stack.runDir as string, "transfer"), "SIGKILL");
      const transferCall = (t: string) =>
        connectCall(stack.gatewayUrl, "filestore.transfer.v1.TransferService/ListDeadLetters", {}, bearer(t));
      expect((await transferCall(user.accessToken)).status).toBe(503);
      await connectCall(stack.gatewayUrl, `${ACCOUNT}/Signout`, { refreshToken: user.refreshToken });
      const start = Date.now();
      let res = await transferCall(user.accessToken);
      while (res.status !== 401 && Date.now() - start < WITHIN_MS) {
        await Bun.sleep(200);
        res = await transferCall(user.accessToken);
      }
      expect([res.status, res.json.code]).toEqual([401, "unauthenticated"]);
      expect(String(res.json.message)).toContain("revoked");
    },
    60_000,
  );
});
