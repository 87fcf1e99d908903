// Background work on a timer: one run at a time (a slow run makes the next tick skip), failures logged.
import type { Logger } from "./log.ts";

/** Runs `task` every `seconds` (0: never); returns a stop function. The timer does not keep the process alive. */
export function every(seconds: number, what: string, log: Logger, task: () => Promise<void>): () => void {
  if (seconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await task();
    } catch (err) {
      log.warn(`${what} failed`, { err: String(err) });
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref?.();
  return () => clearInterval(timer);
}
