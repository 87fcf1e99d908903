// The configuration: a base every process reads (its port by service name) plus the sections its wire
// names, each read from the same environment.
import { expect, test } from "bun:test";
import { loadDownloadConfig } from "../download/config.ts";
import { loadUploadConfig } from "../upload/config.ts";
import { loadStorageConfig } from "./blobstore/index.ts";
import { defaultPorts, loadConfig } from "./config.ts";

test("the base picks the service's default port unless PORT is set", () => {
  for (const name of ["meta", "upload", "gateway"] as const)
    expect(loadConfig(name, {}, {}).port).toBe(defaultPorts[name]);
  expect(loadConfig("upload", {}, { PORT: "1234" }).port).toBe(1234);
});

test("each section is read from the same environment, local paths under the base's data dir", () => {
  const config = loadConfig(
    "upload",
    { upload: loadUploadConfig, download: loadDownloadConfig, storage: loadStorageConfig },
    { DATA_DIR: "/srv/filestore", MAX_UPLOAD_BYTES: "1024", DOWNLOAD_URL_TTL_SECONDS: "60" },
  );
  expect(config.dataDir).toBe("/srv/filestore");
  expect(config.upload.maxBytes).toBe(1024);
  expect(config.download.urlTtlSeconds).toBe(60);
  expect(config.storage.stores).toEqual([{ backend: "local", root: "/srv/filestore/blobs-root" }]);
});

test("a bad value in any section stops the process at start", () => {
  expect(() => loadConfig("upload", { upload: loadUploadConfig }, { UPLOAD_SWEEP_SECONDS: "-1" })).toThrow(
    "UPLOAD_SWEEP_SECONDS must be a non-negative integer",
  );
});
