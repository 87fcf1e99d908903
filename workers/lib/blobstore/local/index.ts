// The local-disk blob store: layout.ts (paths), durable.ts (durable writes), stage.ts (bodies),
// records.ts (part records), part-write.ts and assemble.ts (multipart sessions), session-hash.ts
// (whole-file hashes as parts arrive), links.ts (names completion linked), cleanup.ts, store.ts.
export type { AssembleEvent } from "./assemble.ts";
export { newLocalLocation } from "./layout.ts";
export { createLocalBlobStore, type LocalBlobStore, type LocalBlobStoreOptions } from "./store.ts";
