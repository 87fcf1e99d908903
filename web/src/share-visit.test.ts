import { describe, expect, test } from "bun:test";
import { shareRouteOf } from "./share-visit.ts";

describe("share page URLs", () => {
  const id = "AbCdEfGhIjKlMnOpQrStUvWx";
  test("the link, and a folder inside it", () => {
    expect(shareRouteOf(`/s/${id}`)).toEqual({ id, folderId: "" });
    expect(shareRouteOf(`/s/${id}/`)).toEqual({ id, folderId: "" });
    expect(shareRouteOf(`/s/${id}/f/0190a1b2-c3d4`)).toEqual({ id, folderId: "0190a1b2-c3d4" });
    expect(shareRouteOf(`/s/${id}/f/a%2Fb`)).toEqual({ id, folderId: "a/b" });
  });
  test("anything else is not a share page", () => {
    for (const path of ["/", "/s/", "/s/short", `/s/${id}/x/y`, `/s/${id}/f/a/b`, `/s/${id}!`])
      expect(shareRouteOf(path)).toBeUndefined();
    // A malformed escape names no folder (the shared folder is shown).
    expect(shareRouteOf(`/s/${id}/f/%E0%A4%A`)).toEqual({ id, folderId: "" });
  });
});
