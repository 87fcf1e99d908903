// A drop link's multipart session end to end through the gateway (both modes: FILESTORE_TEST_MODE): a
// visitor with the link's token creates a session, sends parts in parallel, lists them, completes, and the
// file is in the owner's folder under a free name with the right bytes; the link's cap refuses a session
// up front; a session is nobody else's; a revoke stops another upload at its next part.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  connectCall,
  FILES,
  MiB,
  MODE,
  partOf,
  randomBytes,
  type Stack,
  sha256,
  signedInUser,
  startStack,
} from "./harness.ts";

const SHARES = "filestore.share.v1.ShareService";

describe(`drop link multipart sessions through the gateway (${MODE})`, () => {
  let stack: Stack;
  let alice: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    stack = await startStack();
    alice = await signedInUser(stack.gatewayUrl);
  }, 90_000);
  afterAll(() => stack?.stop(), 60_000);

  const bearer = () => ({ authorization: `Bearer ${alice.accessToken}` });
  const shares = (method: string, body: unknown, owner = false) =>
    connectCall(stack.gatewayUrl, `${SHARES}/${method}`, body, owner ? bearer() : {});

  /** A drop link on a new folder of alice's, opened by a visitor. */
  async function dropLink(folderName: string, maxFileBytes = "0") {
    const made = await connectCall(stack.gatewayUrl, `${FILES}/CreateFolder`, { name: folderName }, bearer());
    const inbox = (made.json.folder as { id: string }).id;
    const share = await shares(
      "CreateShare",
      { targetId: inbox, mode: "SHARE_MODE_DROP", maxFileBytes },
      true,
    );
    const id = (share.json.share as { id: string }).id;
    const token = (await shares("OpenShare", { id })).json.shareToken as string;
    const at = (path: string, init: RequestInit & { key?: string } = {}) =>
      fetch(`${stack.gatewayUrl}/upload/v1/drop/${id}/sessions${path}`, {
        ...init,
        headers: { "x-share-token": token, "x-drop-session-key": init.key ?? "" },
      });
    return { inbox, id, at };
  }

  const listing = async (parentId: string) =>
    (
      ((await connectCall(stack.gatewayUrl, `${FILES}/ListFiles`, { parentId }, bearer())).json.files ??
        []) as {
        id: string;
        name: string;
        size: string;
      }[]
    ).sort((a, b) => a.name.localeCompare(b.name));

  test("parts in parallel, listed, completed: the file is the owner's, suffixed, with its bytes", async () => {
    const { inbox, at } = await dropLink("dropbox");
    const data = randomBytes(11 * MiB + 5);
    const created = await at("", {
      method: "POST",
      body: JSON.stringify({ name: "movie.mkv", size: data.length, sha256: sha256(data), partSize: 5 * MiB }),
    });
    expect(created.status).toBe(201);
    const s = (await created.json()) as {
      sessionId: string;
      key: string;
      partCount: number;
      partUrl: string;
    };
    expect(s.partCount).toBe(3);
    const part = (n: number, key = s.key) =>
      at(`/${s.sessionId}/parts/${n}`, { method: "PUT", key, body: partOf(data, 5 * MiB, n) });
    // Nobody but the visitor who created it: no key, no token.
    expect((await part(1, "")).status).toBe(404);
    const anonymous = await fetch(`${stack.gatewayUrl}${s.partUrl}1`, { method: "PUT", body: "x" });
    expect(anonymous.status).toBe(401);
    expect((await Promise.all([3, 1].map((n) => part(n)))).map((r) => r.status)).toEqual([200, 200]);
    const listed = (await (await at(`/${s.sessionId}`, { key: s.key })).json()) as {
      parts: { partNumber: number }[];
    };
    expect(listed.parts.map((p) => p.partNumber)).toEqual([1, 3]);
    expect((await part(2)).status).toBe(200);
    const done = await at(`/${s.sessionId}/complete`, { method: "POST", key: s.key });
    expect(done.status).toBe(201);
    expect(await done.json()).toEqual({ file: { name: "movie.mkv", size: String(data.length) } });
    // A second upload of that name: suffixed, nothing overwritten.
    const small = (await (
      await at("", { method: "POST", body: JSON.stringify({ name: "movie.mkv", size: 3 }) })
    ).json()) as { sessionId: string; key: string };
    await at(`/${small.sessionId}/parts/1`, { method: "PUT", key: small.key, body: "abc" });
    const second = await at(`/${small.sessionId}/complete`, { method: "POST", key: small.key });
    expect(((await second.json()) as { file: { name: string } }).file.name).toBe("movie (2).mkv");
    const files = await listing(inbox);
    expect(files.map((f) => [f.name, f.size])).toEqual([
      ["movie (2).mkv", "3"],
      ["movie.mkv", String(data.length)],
    ]);
    const got = await fetch(`${stack.gatewayUrl}/download/v1/files/${files[1]?.id}`, { headers: bearer() });
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(data));
  }, 120_000);

  test("the link's cap refuses a session before any byte; a revoke stops the next part", async () => {
    const { inbox, id, at } = await dropLink("capped", String(6 * MiB));
    const over = await at("", {
      method: "POST",
      body: JSON.stringify({ name: "big.bin", size: 6 * MiB + 1 }),
    });
    expect(over.status).toBe(413);
    const data = randomBytes(6 * MiB);
    const s = (await (
      await at("", {
        method: "POST",
        body: JSON.stringify({ name: "a.bin", size: data.length, partSize: 5 * MiB }),
      })
    ).json()) as { sessionId: string; key: string };
    const part = (n: number) =>
      at(`/${s.sessionId}/parts/${n}`, { method: "PUT", key: s.key, body: partOf(data, 5 * MiB, n) });
    expect((await part(1)).status).toBe(200);
    expect((await shares("RevokeShare", { id }, true)).status).toBe(200);
    const next = await part(2);
    expect(next.status).toBe(404);
    expect(((await next.json()) as { message: string }).message).toContain("no share link answers here");
    expect(await listing(inbox)).toEqual([]);
  }, 120_000);
});
