// A stack whose processes a test may kill -9 (at a test-only failpoint, workers/lib/failpoint.ts) and get
// back on the same data: services mode restarts the one process, all-in-one the whole one.
import { expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODE, restartService, type Stack, startAllInOne, startStack } from "./harness.ts";

/** A stack whose processes a test may kill (by PID) and get back, with the same data. */
export interface CrashStack {
  url(): string;
  /** Where the local blob store keeps its files. */
  blobRoot: string;
  /** Kills the process with this PID and starts it again. */
  crash(pid: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrashStack(env: Record<string, string>): Promise<CrashStack> {
  if (MODE === "services") {
    const stack: Stack = await startStack(env);
    const pids = join(stack.runDir as string, "pids");
    return {
      url: () => stack.gatewayUrl,
      blobRoot: join(stack.dataDir, "blobs-root"),
      async crash(pid) {
        const name = readdirSync(pids)
          .filter((f) => f.endsWith(".pid"))
          .find((f) => readFileSync(join(pids, f), "utf8").trim() === String(pid))
          ?.slice(0, -".pid".length);
        if (!name) throw new Error(`pid ${pid} is none of the stack's processes`);
        process.kill(pid, "SIGKILL");
        while (existsSync(`/proc/${pid}`)) await Bun.sleep(20);
        await restartService(stack, name);
      },
      stop: () => stack.stop(),
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "filestore-crash-e2e-"));
  let aio = await startAllInOne({ ...env, DATA_DIR: dataDir });
  return {
    url: () => aio.gatewayUrl,
    blobRoot: join(dataDir, "blobs-root"),
    async crash(pid) {
      expect(pid).toBe(aio.proc.pid);
      aio.proc.kill("SIGKILL");
      await aio.proc.exited;
      aio = await startAllInOne({ ...env, DATA_DIR: dataDir });
    },
    async stop() {
      await aio.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
