// Preloaded into every `bun test` run (bunfig.toml). bun runs all test files in one process, so e2e files
// may share one stack (shared-stack.ts); only a hook registered here runs once after the last file.
import { afterAll } from "bun:test";
import { SHARED_STOPS } from "./shared-stack-registry.ts";

const stops: Array<() => Promise<void>> = [];
(globalThis as Record<symbol, unknown>)[SHARED_STOPS] = stops;

afterAll(async () => {
  for (const stop of stops.splice(0)) await stop();
});
