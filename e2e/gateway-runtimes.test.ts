// The same gateway code under Deno (`deno serve`) and under Bun answers the same requests the same way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BIN, freePorts, gatewayUp, ROOT, type Stack, signedInUser, uniqueName } from "./harness.ts";
import { sharedStack } from "./shared-stack.ts";

let stack: Stack;
const gateways: Record<string, { url: string; proc: ReturnType<typeof Bun.spawn> }> = {};

beforeAll(async () => {
  stack = await sharedStack();
  const env = { ...process.env, ACCOUNT_URL: stack.accountUrl, HOST: "127.0.0.1" };
  const [deno, bun] = (await freePorts(2)) as [number, number];
  gateways.deno = {
    url: `http://127.0.0.1:${deno}`,
    proc: Bun.spawn(
      [
        `${BIN}/deno`,
        "serve",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--host",
        "127.0.0.1",
        "--port",
        String(deno),
        join(ROOT, "gateway/main.ts"),
      ],
      { env, stdout: "ignore", stderr: "pipe" },
    ),
  };
  gateways.bun = {
    url: `http://127.0.0.1:${bun}`,
    proc: Bun.spawn([`${BIN}/bun`, join(ROOT, "gateway/main.ts")], {
      env: { ...env, PORT: String(bun) },
      stdout: "ignore",
      stderr: "pipe",
    }),
  };
  for (const [name, g] of Object.entries(gateways)) {
    const until = Date.now() + 30_000;
    while (!(await gatewayUp(g.url)().catch(() => false))) {
      if (Date.now() > until) throw new Error(`gateway under ${name} did not start`);
      await Bun.sleep(100);
    }
  }
}, 90_000);

afterAll(async () => {
  for (const g of Object.values(gateways)) {
    g.proc.kill("SIGTERM");
    await g.proc.exited;
  }
  await stack?.stop();
});

/** Status, content type and JSON body with volatile fields (tokens, times) blanked. */
async function probe(base: string, path: string, init: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const body = text.startsWith("{") ? JSON.parse(text) : text.slice(0, 40);
  const blank = (o: unknown): unknown =>
    o && typeof o === "object"
      ? Object.fromEntries(
          Object.entries(o).map(([k, v]) => [
            k,
            /token|at$|Token|Entry|SignupAt|LastActive/i.test(k) ? typeof v : blank(v),
          ]),
        )
      : o;
  return { status: res.status, type: res.headers.get("content-type")?.split(";")[0], body: blank(body) };
}

describe("gateway under Deno and Bun", () => {
  test("identical answers to the same requests", async () => {
    const user = await signedInUser(stack.gatewayUrl);
    const fresh = uniqueName();
    const json = { "content-type": "application/json" };
    const requests: [string, RequestInit | ((runtime: string) => RequestInit)][] = [
      ["/healthz", {}],
      [
        "/filestore.account.v1.AccountService/GetUserInfo",
        { method: "POST", headers: { ...json, authorization: `Bearer ${user.accessToken}` }, body: "{}" },
      ],
      ["/filestore.account.v1.AccountService/GetUserInfo", { method: "POST", headers: json, body: "{}" }],
      [
        "/filestore.account.v1.AccountService/GetUserInfo",
        { method: "POST", headers: { ...json, authorization: "Bearer x.y.z" }, body: "{}" },
      ],
      [
        "/filestore.account.v1.AccountService/Signin",
        {
          method: "POST",
          headers: json,
          body: JSON.stringify({ username: user.username, password: user.password }),
        },
      ],
      ["/filestore.meta.v1.UserService/GetUser", { method: "POST", headers: json, body: "{}" }],
      [
        "/user/signup",
        (rt) => ({
          method: "POST",
          body: new URLSearchParams({ username: `${fresh}${rt}`, password: "legacy-pass" }),
        }),
      ],
      [
        "/user/signup",
        { method: "POST", body: new URLSearchParams({ username: user.username, password: "legacy-pass" }) },
      ],
      [
        "/user/signin",
        { method: "POST", body: new URLSearchParams({ username: user.username, password: user.password }) },
      ],
      [
        "/user/info",
        { method: "POST", body: new URLSearchParams({ username: user.username, token: user.accessToken }) },
      ],
      [
        "/user/info",
        { method: "POST", body: new URLSearchParams({ username: user.username, token: "bad" }) },
      ],
    ];
    for (const [path, init] of requests) {
      const answers: Record<string, unknown> = {};
      for (const [rt, g] of Object.entries(gateways)) {
        answers[rt] = await probe(g.url, path, typeof init === "function" ? init(rt) : init);
      }
      expect({ path, deno: answers.deno }).toEqual({ path, deno: answers.bun });
    }
    // And they are real answers, not two identical failures.
    const ok = await probe(gateways.deno?.url ?? "", "/filestore.account.v1.AccountService/GetUserInfo", {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${user.accessToken}` },
      body: "{}",
    });
    expect(ok.status).toBe(200);
    expect((ok.body as { user: { username: string } }).user.username).toBe(user.username);
  });
});
