import { describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { generateKeyPair, SignJWT } from "jose";
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE, createAccessTokenVerifier } from "./access-token.ts";
import {
  LOOKBACK_MS,
  listThrough,
  pollRevokedSessions,
  type RevokedListing,
  RevokedSessions,
} from "./revoked-sessions.ts";

describe("RevokedSessions", () => {
  test("holds what a read lists until the server's clock passes its expiry", () => {
    const set = new RevokedSessions();
    expect(set.since).toBe(0);
    set.apply({ now: 100_000, sessions: [{ id: "a", expiresAt: 200_000 }] });
    expect([set.has("a"), set.has("b"), set.size]).toEqual([true, false, 1]);
    // The next read looks back beyond this one, for revocations that commit late.
    expect(set.since).toBe(100_000 - LOOKBACK_MS);
    set.apply({ now: 150_000, sessions: [{ id: "b", expiresAt: 300_000 }] });
    expect([set.has("a"), set.has("b")]).toEqual([true, true]);
    set.apply({ now: 200_000, sessions: [] });
    expect([set.has("a"), set.has("b"), set.size]).toEqual([false, true, 1]);
  });

  test("a session listed twice keeps the later expiry", () => {
    const set = new RevokedSessions();
    set.apply({ now: 1, sessions: [{ id: "a", expiresAt: 500 }] });
    set.apply({ now: 2, sessions: [{ id: "a", expiresAt: 300 }] });
    set.apply({ now: 400, sessions: [] });
    expect(set.has("a")).toBe(true);
  });
});

const quietLog = () => {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
  };
};

describe("pollRevokedSessions", () => {
  test("reads at once, then again from where it left off", async () => {
    const set = new RevokedSessions();
    const asked: number[] = [];
    let now = 1_000_000;
    const poller = pollRevokedSessions(set, {
      intervalMs: 10,
      log: quietLog(),
      list: async (since) => {
        asked.push(since);
        now += 1000;
        return { now, sessions: asked.length === 3 ? [{ id: "late", expiresAt: now + 60_000 }] : [] };
      },
    });
    await poller.first;
    expect(asked).toEqual([0]);
    while (asked.length < 3) await Bun.sleep(5);
    poller.stop();
    expect(asked[1]).toBe(1_001_000 - LOOKBACK_MS);
    expect(set.has("late")).toBe(true);
  });

  test("keeps what it knows while the source fails, says so once, and once again when it recovers", async () => {
    const set = new RevokedSessions();
    const log = quietLog();
    let calls = 0;
    const poller = pollRevokedSessions(set, {
      intervalMs: 5,
      log,
      list: async (): Promise<RevokedListing> => {
        calls++;
        if (calls === 1) return { now: 1, sessions: [{ id: "a", expiresAt: Date.now() + 60_000 }] };
        if (calls <= 4) throw new Error("connect ECONNREFUSED");
        return { now: 2, sessions: [] };
      },
    });
    while (calls < 6) await Bun.sleep(5);
    poller.stop();
    expect(set.has("a")).toBe(true);
    expect(log.lines.map((l) => l.split(" ")[0])).toEqual(["warn", "info"]);
  });

  test("a read that hangs is abandoned at its timeout and the next one runs", async () => {
    const set = new RevokedSessions();
    let calls = 0;
    const poller = pollRevokedSessions(set, {
      intervalMs: 5,
      timeoutMs: 20,
      log: quietLog(),
      list: (_since, signal) => {
        calls++;
        if (calls === 1)
          return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        return Promise.resolve({ now: 1, sessions: [{ id: "b", expiresAt: Date.now() + 60_000 }] });
      },
    });
    while (!set.has("b")) await Bun.sleep(5);
    poller.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  test("listThrough converts the RPC's answer and asks with `since` as a timestamp (none at first)", async () => {
    const asked: unknown[] = [];
    const list = listThrough({
      async listRevokedSessions(req) {
        asked.push(req.since);
        return {
          sessions: [{ sessionId: "s1", expiresAt: timestampFromMs(9_000) }],
          now: timestampFromMs(5_000),
        };
      },
    });
    const signal = new AbortController().signal;
    expect(await list(0, signal)).toEqual({ now: 5_000, sessions: [{ id: "s1", expiresAt: 9_000 }] });
    await list(4_000, signal);
    expect(asked).toEqual([undefined, timestampFromMs(4_000)]);
  });
});

const key = await generateKeyPair(ACCESS_TOKEN_ALG, { crv: "Ed25519" });
const keys = async () => key.publicKey;

describe("the access-token verifier with revoked sessions", () => {
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ typ: "access", name: "alice", ...claims })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG })
      .setSubject("user-1")
      .setIssuer("filestore")
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("15m")
      .sign(key.privateKey);

  test("refuses a token of a revoked session, cached or not, and keeps accepting the others", async () => {
    const revoked = new RevokedSessions();
    const verifier = createAccessTokenVerifier({ keys, issuer: "filestore", revoked });
    const ended = await sign({ sid: "s-ended" });
    const other = await sign({ sid: "s-other" });
    expect((await verifier.verify(ended)).sid).toBe("s-ended");
    expect(verifier.cached?.(ended)?.userId).toBe("user-1");

    revoked.apply({ now: Date.now(), sessions: [{ id: "s-ended", expiresAt: Date.now() + 60_000 }] });
    // The cached identity (hot path of downloads) and a full verification both refuse it.
    expect(verifier.cached?.(ended)).toBeUndefined();
    await expect(verifier.verify(ended)).rejects.toThrow(/revoked/);
    // A token of that session never seen before is refused too.
    await expect(verifier.verify(await sign({ sid: "s-ended", jti: "another" }))).rejects.toThrow(/revoked/);
    expect((await verifier.verify(other)).sid).toBe("s-other");
  });

  test("tokens without a session (issued before sessions were named) are accepted until they expire", async () => {
    const revoked = new RevokedSessions();
    revoked.apply({ now: Date.now(), sessions: [{ id: "s-ended", expiresAt: Date.now() + 60_000 }] });
    const verifier = createAccessTokenVerifier({ keys, issuer: "filestore", revoked });
    const legacy = await sign({});
    expect((await verifier.verify(legacy)).sid).toBeUndefined();
    expect(verifier.cached?.(legacy)?.userId).toBe("user-1");
  });
});
