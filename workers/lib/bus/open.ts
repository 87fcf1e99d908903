// A worker's event bus: the composer's (all-in-one: one in memory for every service), else Redis Streams
// when REDIS_URL is set (services mode: every replica sees every event), else this process's memory
// (a services-mode process without Redis sees only its own events; the log says so).
import { type Env, int } from "../config.ts";
import type { Logger } from "../log.ts";
import { memoryBus } from "./memory.ts";
import { redisBus } from "./redis.ts";
import type { EventBus } from "./types.ts";

/** The `events` section: how many events of each topic the bus keeps for watchers that reconnect. */
export function loadEventsConfig(env: Env) {
  return { retain: Math.max(100, int(env, "EVENTS_RETAIN", 50_000)) };
}

export interface OpenedBus {
  bus: EventBus;
  /** Closes the bus if it was opened here (never the composer's). */
  close(): Promise<void>;
}

export function openEventBus(
  config: { redisUrl: string | undefined; redisPrefix: string; events: { retain: number } },
  log: Logger,
  given?: EventBus,
): OpenedBus {
  if (given) return { bus: given, close: async () => {} };
  if (!config.redisUrl)
    log.info("no REDIS_URL: events stay in this process (other replicas do not see them)");
  const bus = config.redisUrl
    ? redisBus({ url: config.redisUrl, prefix: config.redisPrefix, retain: config.events.retain, log })
    : memoryBus({ retain: config.events.retain });
  return { bus, close: () => bus.close() };
}
