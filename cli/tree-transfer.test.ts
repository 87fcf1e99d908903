// The tally of a folder transfer: failures counted without stopping the others, skips, the summary and
// its exit code; the server becoming unreachable ends the run with that one error.
import { describe, expect, test } from "bun:test";
import { Unreachable } from "./network.ts";
import { TreeRun } from "./tree-transfer.ts";

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ rel: `f${i}`, size: 10 }));

describe("TreeRun", () => {
  test("a failing file is counted and the others go on; identical files are skipped; exit 1", async () => {
    const run = new TreeRun("src", "/dst", 5, 50);
    run.skip("src/link", "a symbolic link (not followed)");
    const seen: string[] = [];
    await run.each(items(5), 2, async (f, meter) => {
      seen.push(f.rel);
      if (f.rel === "f1") throw new Error("refused");
      if (f.rel === "f3") return "skipped";
      meter.advance(f.size);
      return "done";
    });
    expect(seen.sort()).toEqual(["f0", "f1", "f2", "f3", "f4"]);
    const lines: string[] = [];
    expect(run.finish((l) => lines.push(l), true, "uploaded")).toBe(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      source: "src",
      destination: "/dst",
      files: 3,
      bytes: 30,
      skipped: 2,
      failed: 1,
      failures: [{ path: "f1", error: "refused" }],
    });
    const ok = new TreeRun("src", "/dst", 0, 0);
    await ok.each([], 4, async () => "done");
    expect(ok.finish((l) => lines.push(l), false, "uploaded")).toBe(0);
    expect(lines[1]).toBe("uploaded src → /dst: 0 files (0 B), 0 skipped, 0 failed");
  });

  test("the server unreachable: no further file starts, and that error ends the run", async () => {
    const run = new TreeRun("src", "/dst", 20, 200);
    let started = 0;
    const err = await run
      .each(items(20), 2, async () => {
        started++;
        throw new Unreachable("http://h:1", "connection refused");
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect(started).toBe(2);
  });
});
