/** Where e2e/preload.ts keeps the stop functions of shared stacks (a global: test files share one process). */
export const SHARED_STOPS = Symbol.for("filestore.e2e.sharedStops");
