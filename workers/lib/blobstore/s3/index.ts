// The S3 blob store: bucket.ts (options, clients), keys.ts, upload.ts (metered multipart uploads),
// objects.ts (content), parts.ts (multipart sessions), store.ts.
export type { S3BlobStoreOptions } from "./bucket.ts";
export { createS3BlobStore, type S3BlobStore } from "./store.ts";
