import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Reason, reasonError } from "../core/reasons.ts";
import { UsageError } from "./args.ts";
import { ConflictPolicy, conflictOption, NameTaken, nameTakenAt, within } from "./conflict.ts";
import { pickVersion, type VersionRow } from "./version-commands.ts";

describe("--on-conflict", () => {
  test("fail by default; the three policies by name; anything else is a usage error", () => {
    expect(conflictOption({})).toBe(ConflictPolicy.FAIL);
    expect(conflictOption({ "on-conflict": "rename" })).toBe(ConflictPolicy.RENAME);
    expect(conflictOption({ "on-conflict": "replace" })).toBe(ConflictPolicy.REPLACE);
    expect(conflictOption({ "on-conflict": "fail" })).toBe(ConflictPolicy.FAIL);
    expect(() => conflictOption({ "on-conflict": "keep" })).toThrow(
      new UsageError("--on-conflict is one of fail, rename, replace"),
    );
  });

  test("the server's NAME_TAKEN becomes one line naming the path; other errors pass unchanged", () => {
    const taken = reasonError("an active entry named…", Code.AlreadyExists, Reason.NAME_TAKEN, { name: "a" });
    const mapped = nameTakenAt(taken, within("/docs", "a.txt"));
    expect(mapped).toBeInstanceOf(NameTaken);
    expect((mapped as Error).message).toBe(
      "/docs/a.txt already exists: use --on-conflict rename (keep both) or replace (a new version of the file)",
    );
    expect((nameTakenAt(taken, "/x", ConflictPolicy.REPLACE) as Error).message).toBe(
      "/x already exists and a folder is never replaced: use --on-conflict rename (keep both)",
    );
    const other = new ConnectError("no such folder", Code.NotFound);
    expect(nameTakenAt(other, "/x")).toBe(other);
    const busy = reasonError("too many", Code.AlreadyExists, Reason.TOO_MANY_UPLOADS);
    expect(nameTakenAt(busy, "/x")).toBe(busy);
    expect(within("/", "a")).toBe("/a");
  });
});

describe("version numbers", () => {
  const row = (number: number): VersionRow => ({
    number,
    id: number === 1 ? "" : `v${number}`,
    current: number === 1,
    size: 1,
    sha256: "",
    modifiedAt: null,
    archivedAt: null,
  });
  test("1 is the current content; out of range or not a number: NotFound naming the range", () => {
    const rows = [row(1), row(2), row(3)];
    expect(pickVersion(rows, "3", "/a").id).toBe("v3");
    expect(pickVersion(rows, "1", "/a").current).toBe(true);
    for (const n of ["0", "4", "x", "-1", "2.5"]) {
      expect(() => pickVersion(rows, n, "/a")).toThrow(
        `no version ${n} of /a: it has 1 (current) to 3 (see filestore versions /a)`,
      );
    }
    expect(() => pickVersion([row(1)], "2", "/a")).toThrow("it has only 1, the current content");
  });
});
