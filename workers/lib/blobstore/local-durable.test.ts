// Group commit of syncs (durable.ts): who shares which run, and directory syncs by path.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsyncPath, GroupCommit, makeDir } from "./local/durable.ts";

/** A run that waits until released: the test decides when each sync "reaches the disk". */
function controlledRuns() {
  const pending: (() => void)[] = [];
  let started = 0;
  return {
    run: () => {
      started++;
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    started: () => started,
    finishNext: async () => {
      pending.shift()?.();
      await Bun.sleep(0);
    },
  };
}

describe("GroupCommit", () => {
  test("a caller gets a run that started after it asked; callers during a run share the next one", async () => {
    const runs = controlledRuns();
    const group = new GroupCommit(runs.run);
    const done: string[] = [];
    const first = group.sync().then(() => done.push("first"));
    expect(runs.started()).toBe(1);
    // Asked while the first run is in progress: that run may have started before their writes.
    const second = group.sync().then(() => done.push("second"));
    const third = group.sync().then(() => done.push("third"));
    expect(runs.started()).toBe(1);
    await runs.finishNext();
    await first;
    expect(done).toEqual(["first"]);
    // The second and third share one run, started once the first was done.
    expect(runs.started()).toBe(2);
    await runs.finishNext();
    await Promise.all([second, third]);
    expect(done).toEqual(["first", "second", "third"]);
    expect(runs.started()).toBe(2);
  });

  test("a failed run fails its callers only; the next caller gets a new run; idle is told when none is left", async () => {
    let fail = true;
    let idle = 0;
    const group = new GroupCommit(
      async () => {
        if (fail) throw new Error("EIO");
      },
      () => idle++,
    );
    await expect(group.sync()).rejects.toThrow("EIO");
    expect(idle).toBe(1);
    fail = false;
    await group.sync();
    expect(idle).toBe(2);
  });
});

describe("directory syncs by path", () => {
  test("makeDir names the parents of the directories it made (none when it made none)", () => {
    const root = mkdtempSync(join(tmpdir(), "durable-"));
    try {
      expect(makeDir(join(root, "a", "b"))).toEqual([join(root, "a"), root]);
      expect(makeDir(join(root, "a", "b"))).toEqual([]);
      expect(makeDir(join(root, "a", "c"))).toEqual([join(root, "a")]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("concurrent syncs of one directory all succeed; a missing path is refused", async () => {
    const root = mkdtempSync(join(tmpdir(), "durable-"));
    try {
      await Promise.all(Array.from({ length: 20 }, () => fsyncPath(root)));
      await expect(fsyncPath(join(root, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
      // A failed sync leaves nothing behind: the path syncs again once it exists.
      makeDir(join(root, "missing"));
      await fsyncPath(join(root, "missing"));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
