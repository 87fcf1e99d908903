// The all-in-one process: first start creates the schema and key, data survives a restart, SIGTERM and
// SIGINT stop it cleanly (exit 0, ports released).
import { describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ACCOUNT, connectCall, startAllInOne, uniqueName } from "./harness.ts";

describe("all-in-one lifecycle", () => {
  test("restart keeps users and tokens valid; SIGTERM exits 0 and frees the ports", async () => {
    const first = await startAllInOne();
    const username = uniqueName();
    await connectCall(first.gatewayUrl, `${ACCOUNT}/Signup`, { username, password: "persist-me" });
    const { tokens } = (
      await connectCall(first.gatewayUrl, `${ACCOUNT}/Signin`, { username, password: "persist-me" })
    ).json as {
      tokens: { accessToken: string; refreshToken: string };
    };
    expect(existsSync(join(first.dataDir, "filestore.db"))).toBe(true);
    expect(existsSync(join(first.dataDir, "keys", "jwt-signing-key.jwk"))).toBe(true);
    expect(await first.stop(true)).toBe(0);
    // Ports are free again.
    expect(fetch(`${first.gatewayUrl}/healthz`)).rejects.toThrow();

    const second = await startAllInOne({ DATA_DIR: first.dataDir });
    try {
      const info = await connectCall(
        second.gatewayUrl,
        `${ACCOUNT}/GetUserInfo`,
        {},
        {
          authorization: `Bearer ${tokens.accessToken}`,
        },
      );
      expect(info.status).toBe(200);
      const refreshed = await connectCall(second.gatewayUrl, `${ACCOUNT}/Refresh`, {
        refreshToken: tokens.refreshToken,
      });
      expect(refreshed.status).toBe(200);
    } finally {
      second.proc.kill("SIGINT");
      expect(await second.proc.exited).toBe(0);
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test("an in-flight call finishes during a graceful stop", async () => {
    const s = await startAllInOne();
    // Signin takes tens of milliseconds (argon2id); stop while it runs.
    const username = uniqueName();
    await connectCall(s.gatewayUrl, `${ACCOUNT}/Signup`, { username, password: "persist-me" });
    const pending = connectCall(s.gatewayUrl, `${ACCOUNT}/Signin`, { username, password: "persist-me" });
    await Bun.sleep(5);
    const code = s.stop();
    expect((await pending).status).toBe(200);
    expect(await code).toBe(0);
  }, 30_000);
});
