// A database that stays busy (lock conflicts through every retry of transact(), or a lock conflict of a
// single statement) answers Unavailable with a retry hint, never Internal: nothing was written, and the
// same call can succeed a moment later (the RPC clients retry Unavailable by themselves).
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { DatabaseBusyError, isRetryableConflict } from "../lib/db/transact.ts";

export const DATABASE_BUSY = "the database is busy: nothing was changed, retry in a moment";

/** err as Connect Unavailable when it means "the database is busy", else err itself. */
export function databaseBusy(err: unknown): unknown {
  if (err instanceof DatabaseBusyError || isRetryableConflict(err))
    return new ConnectError(DATABASE_BUSY, Code.Unavailable, undefined, undefined, err);
  return err;
}

/** A unary method whose errors pass through databaseBusy. */
function guarded(fn: unknown, self: unknown): unknown {
  if (typeof fn !== "function") return fn;
  return async (...args: unknown[]) => {
    try {
      return await fn.apply(self, args);
    } catch (err) {
      throw databaseBusy(err);
    }
  };
}

/** `router` registering every (unary) method through databaseBusy. */
export function withDatabaseBusy(router: ConnectRouter): ConnectRouter {
  return {
    get handlers() {
      return router.handlers;
    },
    service(desc, impl, options) {
      const wrapped = Object.fromEntries(Object.entries(impl).map(([k, fn]) => [k, guarded(fn, impl)]));
      router.service(desc, wrapped as typeof impl, options);
      return this;
    },
    rpc(method, impl, options) {
      router.rpc(method, guarded(impl, undefined) as typeof impl, options);
      return this;
    },
  } as ConnectRouter;
}
