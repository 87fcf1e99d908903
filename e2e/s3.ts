// The S3 server of the end-to-end tests (TEST_S3_*: Ceph RGW in CI): its settings, an admin client, and
// removing a test's bucket with everything in it.
import { Client } from "minio";

export const S3 = {
  endPoint: process.env.TEST_S3_ENDPOINT ?? "",
  accessKey: process.env.TEST_S3_ACCESS_KEY ?? "",
  secretKey: process.env.TEST_S3_SECRET_KEY ?? "",
  region: process.env.TEST_S3_REGION || "us-east-1",
};

/** The settings of a stack whose content goes to `bucket` on this S3. */
export const s3PolicyEnv = (bucket: string): Record<string, string> => ({
  STORAGE_POLICY: "s3",
  S3_ENDPOINT: S3.endPoint,
  S3_ACCESS_KEY: S3.accessKey,
  S3_SECRET_KEY: S3.secretKey,
  S3_REGION: S3.region,
  S3_BUCKET: bucket,
});

/** The settings of a stack under the transfer policy on this S3 (uploads land locally, then move to `bucket`). */
export const transferPolicyEnv = (bucket: string): Record<string, string> => ({
  ...s3PolicyEnv(bucket),
  STORAGE_POLICY: "transfer",
  TRANSFER_POLL_MS: "200",
});

export function s3Admin(endPoint: string) {
  const url = new URL(endPoint);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: S3.accessKey,
    secretKey: S3.secretKey,
    region: S3.region,
    pathStyle: true,
  });
}

export async function dropBucket(admin: Client, bucket: string) {
  try {
    const { uploads } = await admin.listIncompleteUploadsQuery(bucket, "", "", "", "");
    for (const u of uploads) await admin.abortMultipartUpload(bucket, u.key, u.uploadId);
    const names: string[] = [];
    for await (const item of admin.listObjectsV2(bucket, "", true))
      names.push((item as { name: string }).name);
    if (names.length > 0) await admin.removeObjects(bucket, names);
    await admin.removeBucket(bucket);
  } catch {
    // The bucket of a stopped private RGW: gone with it.
  }
}
