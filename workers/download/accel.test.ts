// DOWNLOAD_ACCEL: the setting's values, and the path of a local blob the worker hands to nginx (only a
// committed blob's, checked). The answers through a real nginx: e2e/nginx-accel.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBlobStore } from "../lib/blobstore/index.ts";
import { loadDownloadConfig } from "./config.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("DOWNLOAD_ACCEL", () => {
  test("off by default; nginx turns it on with the default or a given internal prefix", () => {
    expect(loadDownloadConfig({}).accelPrefix).toBeUndefined();
    expect(loadDownloadConfig({ DOWNLOAD_ACCEL: "off" }).accelPrefix).toBeUndefined();
    expect(loadDownloadConfig({ DOWNLOAD_ACCEL: "nginx" }).accelPrefix).toBe("/_filestore/");
    expect(loadDownloadConfig({ DOWNLOAD_ACCEL: "NGINX", DOWNLOAD_ACCEL_PREFIX: "/x-y/" }).accelPrefix).toBe(
      "/x-y/",
    );
  });

  test("other values are refused with what is allowed", () => {
    expect(() => loadDownloadConfig({ DOWNLOAD_ACCEL: "apache" })).toThrow("off or nginx");
    for (const prefix of ["_filestore/", "/_filestore", "/a//b/", "/a b/", "/../"])
      expect(() => loadDownloadConfig({ DOWNLOAD_ACCEL: "nginx", DOWNLOAD_ACCEL_PREFIX: prefix })).toThrow(
        "DOWNLOAD_ACCEL_PREFIX",
      );
  });
});

test("the local store names a committed blob by its path under the root, and nothing else", async () => {
  const root = mkdtempSync(join(tmpdir(), "filestore-accel-"));
  dirs.push(root);
  const store = await createLocalBlobStore(root);
  try {
    const staged = await store.stage(new Blob(["hello"]).stream());
    const location = await staged.commit();
    expect(store.relativePath(location)).toBe(location);
    expect(location).toMatch(/^blobs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.[0-9a-f]{12}$/);
    for (const bad of ["../etc/passwd", "parts/x/data", `blobs/00/00/${"0".repeat(64)}`, `/${location}`])
      expect(() => store.relativePath(bad)).toThrow();
  } finally {
    store.close();
  }
});
