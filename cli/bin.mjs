#!/usr/bin/env node
// The `filestore` command after `npm ci`: runs the CLI (TypeScript, cli/main.ts) with the Bun that npm
// installed (the `bun` devDependency), or a `bun` on PATH. Exit code and signals pass through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function bunPath() {
  if (process.env.FILESTORE_BUN) return process.env.FILESTORE_BUN;
  try {
    const pkg = createRequire(import.meta.url).resolve("bun/package.json");
    const bin = join(dirname(pkg), "bin", "bun.exe"); // the npm package names it so on every platform
    if (existsSync(bin)) return bin;
  } catch {
    // not installed as a package: fall back to PATH
  }
  return "bun";
}

const bun = bunPath();
const child = spawn(bun, [join(here, "main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  // The CLI watches this pid and stops if the shim is killed (a SIGKILL cannot be passed on).
  env: { ...process.env, FILESTORE_SHIM_PID: String(process.pid) },
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (err) => {
  console.error(`filestore: cannot start Bun (${bun}): ${err.message}. Run npm ci, or put bun on PATH.`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
