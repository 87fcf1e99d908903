// One stack shared by the e2e files that act only as fresh users of their own: no restarted or killed
// services, no instance-wide counts or settings. A services stack takes 10-15 s to start and 3 s to stop;
// about a dozen files sharing one saves minutes of every run.
import { type Stack, startStack } from "./harness.ts";
import { SHARED_STOPS } from "./shared-stack-registry.ts";

// Every file signs in and opens shares from 127.0.0.1: per-client limits would add up across files
// (their defaults are tested on stacks of their own: accounts.test.ts, signin-limits, shares).
const SHARED_ENV = { SIGNIN_LIMIT_PER_CLIENT: "100000", SHARE_OPEN_LIMIT_PER_CLIENT: "100000" };

let shared: Promise<Stack> | undefined;

/**
 * The shared stack, started by the first file that asks. Its stop() does nothing: e2e/preload.ts stops it
 * after the last file. Run without the preload, each file gets a stack of its own, stopped as usual.
 */
export function sharedStack(): Promise<Stack> {
  const stops = (globalThis as Record<symbol, unknown>)[SHARED_STOPS] as
    | Array<() => Promise<void>>
    | undefined;
  if (!stops) return startStack(SHARED_ENV);
  shared ??= startStack(SHARED_ENV).then(
    (stack) => {
      stops.push(() => stack.stop());
      return { ...stack, stop: async () => {} };
    },
    (err) => {
      shared = undefined; // the next file tries again rather than failing on this file's error
      throw err;
    },
  );
  return shared;
}
