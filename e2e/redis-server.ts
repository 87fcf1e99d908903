// A private redis-server for tests that stop Redis mid-way (the shared test Redis must never be stopped).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";

export interface RedisServer {
  url: string;
  /** kill -9: the clients see their connections drop, as when Redis crashes. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty unless started with `persist`: then with its data). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `persist`: an append-only file synced on every write, as a deployment that must not lose its streams
 * runs Redis, so that a kill -9 and a restart keep every acknowledged write.
 */
export async function startRedisServer(port: number, opts: { persist?: boolean } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "filestore-redis-"));
  let proc: Subprocess | undefined;
  const start = async () => {
    const p = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        ...(opts.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
      ],
      { cwd: dir, stdout: "ignore", stderr: "ignore" },
    );
    proc = p;
    for (const until = Date.now() + 15_000; !(await answers(port)); await Bun.sleep(50))
      if (Date.now() > until || p.exitCode !== null) throw new Error(`redis-server did not start on ${port}`);
  };
  const kill = async () => {
    proc?.kill("SIGKILL");
    await proc?.exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
