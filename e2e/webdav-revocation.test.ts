// A revoked app password is refused by every WebDAV replica (services mode: two, each asked straight at
// its port; all-in-one: the one behind the gateway), also by a replica that holds its exchange in its
// Basic cache: the cache keeps the access token, and every use checks it against the revoked sessions,
// which each process reads every REVOCATION_POLL_MS (README: refused within about a second). The bound
// asserted is generous (a loaded machine); that the refusal comes, on each replica, is the point. The
// user's other app password keeps working on every replica throughout.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ACCOUNT, connectCall, eventually, MODE, type Stack, startStack } from "./harness.ts";
import { type DavUser, davUser } from "./webdav-kit.ts";

/** About a second by design; plenty more for a loaded machine. */
const WITHIN_MS = 20_000;

let stack: Stack;
let user: DavUser;
beforeAll(async () => {
  stack = await startStack({}, { dav: 2 });
  user = await davUser(stack.gatewayUrl, "kept");
}, 120_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** Every WebDAV replica straight at its port (services mode), or the gateway (all-in-one). */
const davBases = (): string[] =>
  stack.services
    ? (stack.services.env.DAV_PORTS ?? "").split(",").map((p) => `http://127.0.0.1:${p}`)
    : [stack.gatewayUrl];

const basicOf = (secret: string) => `Basic ${Buffer.from(`${user.username}:${secret}`).toString("base64")}`;

/** PROPFIND Depth 0 of the drive's root at one replica: its status. */
async function propfind(base: string, authorization: string): Promise<number> {
  const res = await fetch(`${base}/dav/`, { method: "PROPFIND", headers: { depth: "0", authorization } });
  await res.arrayBuffer();
  return res.status;
}

test("every replica refuses a revoked app password it had cached, and keeps refusing it", async () => {
  const bases = davBases();
  expect(bases.length).toBe(MODE === "services" ? 2 : 1);
  const auth = { authorization: `Bearer ${user.accessToken}` };
  const made = await connectCall(stack.gatewayUrl, `${ACCOUNT}/CreateAppPassword`, { name: "revoked" }, auth);
  expect(made.status).toBe(200);
  const revoked = basicOf(made.json.secret as string);
  const id = (made.json.appPassword as { id: string }).id;
  // Each replica exchanges the credentials once and answers the second request from its cache.
  for (const base of bases) {
    expect(await propfind(base, revoked)).toBe(207);
    expect(await propfind(base, revoked)).toBe(207);
  }
  expect((await connectCall(stack.gatewayUrl, `${ACCOUNT}/RevokeAppPassword`, { id }, auth)).status).toBe(
    200,
  );
  const revokedAt = Date.now();
  const refused = await Promise.all(
    bases.map(async (base) => {
      const ok = await eventually(async () => (await propfind(base, revoked)) === 401, WITHIN_MS);
      return ok ? Date.now() - revokedAt : undefined;
    }),
  );
  // For the record of a run (not asserted: timing is the benchmarks' business).
  console.info(`refused after ${refused.map((ms) => `${ms} ms`).join(", ")} (replicas ${bases.join(", ")})`);
  expect(refused.every((ms) => ms !== undefined)).toBe(true);
  for (const base of bases) {
    // Still refused (the exchange itself now fails), through the gateway too; the other password works.
    expect(await propfind(base, revoked)).toBe(401);
    expect(await propfind(base, user.basic)).toBe(207);
  }
  expect(await propfind(stack.gatewayUrl, revoked)).toBe(401);
}, 120_000);
