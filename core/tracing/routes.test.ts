import { expect, test } from "bun:test";
import { routeOf } from "./routes.ts";

test("route templates: ids, hashes and signed parts never appear, RPC and fixed paths as they are", () => {
  expect(
    [
      "/filestore.account.v1.AccountService/Signin",
      "/upload/v1/files",
      "/upload/v1/sessions/AbCdEf0123456789/parts/7",
      "/upload/v1/tus/",
      "/upload/v1/tus/0123abcd",
      "/download/v1/files/0190a5b2-1c3d",
      `/download/v1/by-sha1/${"a".repeat(40)}`,
      "/download/v1/links/f1",
      `/download/v1/thumbnails/${"b".repeat(64)}/256`,
      "/healthz",
      "/dav",
      "/dav/Private%20notes/tax%202026.pdf",
      "/remote.php/webdav/x",
      "/remote.php/dav/files/ann/secret.txt",
      "/remote.php/dav/uploads/ann/transfer-1/00003",
      "/davx/y",
      "/some/unknown/path",
    ].map(routeOf),
  ).toEqual([
    "/filestore.account.v1.AccountService/Signin",
    "/upload/v1/files",
    "/upload/v1/sessions/{id}/parts/{n}",
    "/upload/v1/tus/",
    "/upload/v1/tus/{id}",
    "/download/v1/files/{id}",
    "/download/v1/by-sha1/{sha1}",
    "/download/v1/links/{id}",
    "/download/v1/thumbnails/{sha256}/{px}",
    "/healthz",
    "/dav/{path}",
    "/dav/{path}",
    "/remote.php/webdav/{path}",
    "/remote.php/dav/files/{user}/{path}",
    "/remote.php/dav/uploads/{user}/{path}",
    "other",
    "other",
  ]);
});
