// The account worker's metrics through its RPCs: signins by result, rate-limited attempts, and a refresh
// token replayed (meta's reason REFRESH_TOKEN_REPLAYED, not the message, tells it apart).
import { describe, expect, test } from "bun:test";
import { authMetrics } from "../lib/metrics/auth.ts";
import { createMetrics } from "../lib/metrics/registry.ts";
import { codeOf } from "../lib/testing.ts";
import { setupAccount } from "./testing.ts";

const value = (text: string, series: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${series} `))
      ?.slice(series.length + 1) ?? 0,
  );

describe("auth metrics", () => {
  test("signins by result, rate limits, refresh replays", async () => {
    const s = await setupAccount({ perUser: 2 });
    const metrics = createMetrics("account");
    s.deps.metrics = authMetrics(metrics);
    await s.client.signup({ username: "alice", password: "correct horse" });
    const t = (await s.client.signin({ username: "alice", password: "correct horse" })).tokens;
    const next = (await s.client.refresh({ refreshToken: t?.refreshToken ?? "" })).tokens;
    expect(next?.refreshToken).toBeString();
    await codeOf(s.client.refresh({ refreshToken: t?.refreshToken ?? "" })); // the replay
    await codeOf(s.client.refresh({ refreshToken: "fsr_nope" })); // junk: no replay
    for (let i = 0; i < 4; i++) await codeOf(s.client.signin({ username: "alice", password: "wrong one" }));
    // The limit (2 attempts per user and client) holds after two failures: two refused of four.
    const text = await metrics.text();
    expect(value(text, 'filestore_auth_signins_total{service="account",result="ok"}')).toBe(1);
    expect(value(text, 'filestore_auth_signins_total{service="account",result="bad_credentials"}')).toBe(2);
    expect(value(text, 'filestore_auth_signins_total{service="account",result="rate_limited"}')).toBe(2);
    expect(value(text, 'filestore_auth_rate_limited_total{service="account",limit="signin"}')).toBe(2);
    expect(value(text, 'filestore_auth_refresh_replays_total{service="account"}')).toBe(1);
    expect(text).not.toContain("alice");
  }, 30_000);
});
