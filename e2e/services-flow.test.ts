// Services mode from the outside: start-all.sh starts every service (with replicas), a user signs up,
// uploads, lists and downloads through the gateway, and stop-all.sh leaves no process behind.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { connectCall, MODE, randomBytes, signedInUser, startStack } from "./harness.ts";

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** PIDs of live processes whose environment carries RUN_DIR=<runDir> (everything start-all.sh started). */
function processesOf(runDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (env.includes(`RUN_DIR=${runDir}`) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

describe.skipIf(MODE !== "services")("start-all → a whole user session → stop-all", () => {
  test("signup, upload, list, download through the gateway; nothing left running afterwards", async () => {
    const stack = await startStack();
    const runDir = stack.runDir as string;
    try {
      // Every service with its replicas: meta, account, file, transfer, dav, 2 × upload, 2 × download, gateway.
      const pidFiles = readdirSync(`${runDir}/pids`).filter((f) => f.endsWith(".pid"));
      expect(pidFiles.sort()).toEqual(
        [
          "account",
          "dav",
          "download-1",
          "download-2",
          "file",
          "gateway",
          "meta",
          "transfer",
          "upload-1",
          "upload-2",
        ].map((n) => `${n}.pid`),
      );
      expect(processesOf(runDir).length).toBeGreaterThanOrEqual(pidFiles.length);

      const user = await signedInUser(stack.gatewayUrl);
      const auth = { authorization: `Bearer ${user.accessToken}` };
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const up = await fetch(`${stack.gatewayUrl}/upload/v1/files?name=report.pdf`, {
        method: "PUT",
        headers: auth,
        body: data,
      });
      expect(up.status).toBe(201);
      const { file } = (await up.json()) as { file: { id: string; sha256: string } };
      expect(file.sha256).toBe(sha256(data));

      const listed = await connectCall(stack.gatewayUrl, "filestore.file.v1.FileService/ListFiles", {}, auth);
      expect(listed.status).toBe(200);
      expect((listed.json.files as { id: string; name: string }[]).map((f) => [f.id, f.name])).toEqual([
        [file.id, "report.pdf"],
      ]);

      const down = await fetch(`${stack.gatewayUrl}/download/v1/files/${file.id}`, { headers: auth });
      expect(down.status).toBe(200);
      expect(sha256(new Uint8Array(await down.arrayBuffer()))).toBe(file.sha256);
      const part = await fetch(`${stack.gatewayUrl}/download/v1/files/${file.id}`, {
        headers: { ...auth, range: "bytes=100-199" },
      });
      expect(part.status).toBe(206);
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(data.subarray(100, 200));
    } finally {
      await stack.stop();
    }
    expect(processesOf(runDir)).toEqual([]);
  }, 120_000);
});
