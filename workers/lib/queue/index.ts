// Queues: see types.ts for the semantics both implementations share.
export { openRedisQueue } from "./redis.ts";
export { openSqliteQueue } from "./sqlite.ts";
export * from "./types.ts";
