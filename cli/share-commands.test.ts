// The share commands' parsing: --expires durations and share URLs told apart from remote paths.
import { describe, expect, test } from "bun:test";
import { UsageError } from "./args.ts";
import { durationMs } from "./share-commands.ts";
import { shareUrlParts } from "./share-download.ts";

describe("share commands", () => {
  test("--expires takes a number and a unit", () => {
    expect(durationMs("30m")).toBe(30 * 60_000);
    expect(durationMs("12h")).toBe(12 * 3_600_000);
    expect(durationMs("7d")).toBe(7 * 86_400_000);
    expect(durationMs("2w")).toBe(14 * 86_400_000);
    for (const bad of ["7", "d", "0d", "1.5d", "-1d", "7y", ""])
      expect(() => durationMs(bad)).toThrow(UsageError);
  });

  test("a share URL names its server and id; remote paths are not share URLs", () => {
    const id = "A".repeat(24);
    expect(shareUrlParts(`https://files.example.com/s/${id}`)).toEqual({
      base: "https://files.example.com",
      id,
    });
    expect(shareUrlParts(`http://127.0.0.1:8080/drive/s/${id}/`)).toEqual({
      base: "http://127.0.0.1:8080/drive",
      id,
    });
    for (const other of ["/s/AAAA", `/docs/s/${id}`, `https://x/s/${id}?p=1`, "https://x/s/short"])
      expect(shareUrlParts(other)).toBeUndefined();
  });
});
