// On/off settings read one way everywhere (every section of the configuration, the blob store's alike).
import { describe, expect, test } from "bun:test";
import { loadDownloadConfig } from "../download/config.ts";
import { loadUploadConfig } from "../upload/config.ts";
import { loadStorageConfig } from "./blobstore/index.ts";
import { loadConfig } from "./config.ts";
import { envBool } from "./env-bool.ts";

const s3 = {
  STORAGE_POLICY: "s3",
  S3_ENDPOINT: "http://127.0.0.1:9000",
  S3_ACCESS_KEY: "k",
  S3_SECRET_KEY: "s",
  DATA_DIR: "/tmp/filestore-env-bool",
};

const sections = { upload: loadUploadConfig, download: loadDownloadConfig, storage: loadStorageConfig };
const loaded = (env: Record<string, string>) => loadConfig("gateway", sections, { ...s3, ...env });

/** Each on/off setting, as the loaded configuration shows it. */
const settings: Record<string, (env: Record<string, string>) => boolean> = {
  LEGACY_TRUST_SHA1: (env) => loaded(env).upload.legacyTrustSha1,
  DOWNLOAD_S3_REDIRECT: (env) => loaded(env).download.s3Redirect,
  S3_PATH_STYLE: (env) => {
    const store = loaded(env).storage.stores[0];
    return store?.backend === "s3" && store.pathStyle === true;
  },
  S3_CREATE_BUCKET: (env) => {
    const store = loaded(env).storage.stores[0];
    return store?.backend === "s3" && store.createBucket === true;
  },
};

describe("on/off settings", () => {
  test("envBool: true, false, the default when unset or empty, an error otherwise", () => {
    for (const v of ["1", "true", "TRUE", "yes", "On", " true "])
      expect(envBool({ X: v }, "X", false)).toBe(true);
    for (const v of ["0", "false", "False", "no", "OFF"]) expect(envBool({ X: v }, "X", true)).toBe(false);
    expect([envBool({}, "X", true), envBool({ X: "" }, "X", false)]).toEqual([true, false]);
    expect(() => envBool({ X: "maybe" }, "X", false)).toThrow(
      'X must be true or false (or 1/0, yes/no, on/off), got "maybe"',
    );
  });

  for (const [name, read] of Object.entries(settings)) {
    test(`${name} reads every spelling the same way, and refuses to start on another`, () => {
      for (const v of ["1", "true", "yes", "on", "TRUE"]) expect(read({ [name]: v })).toBe(true);
      for (const v of ["0", "false", "no", "off", "False"]) expect(read({ [name]: v })).toBe(false);
      expect(() => read({ [name]: "enabled" })).toThrow(name);
    });
  }
});
