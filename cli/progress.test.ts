import { describe, expect, test } from "bun:test";
import {
  type BarState,
  formatBytes,
  formatDuration,
  milestone,
  Progress,
  renderLine,
  speedOf,
} from "./progress.ts";

const MiB = 1024 * 1024;

describe("formatting", () => {
  test("bytes and durations", () => {
    expect([
      formatBytes(0),
      formatBytes(1023),
      formatBytes(1024),
      formatBytes(200 * MiB),
      formatBytes(3 * 1024 ** 4),
    ]).toEqual(["0 B", "1023 B", "1.0 KiB", "200.0 MiB", "3.0 TiB"]);
    expect([formatDuration(0), formatDuration(59.4), formatDuration(65), formatDuration(3725)]).toEqual([
      "0s",
      "59s",
      "1m05s",
      "1h02m",
    ]);
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("--");
  });

  test("milestones every 10 %, once each, none without crossing", () => {
    expect(milestone(0, 5, 100)).toBeUndefined();
    expect(milestone(5, 10, 100)).toBe(10);
    expect(milestone(10, 19, 100)).toBeUndefined();
    expect(milestone(19, 45, 100)).toBe(40);
    expect(milestone(99, 100, 100)).toBe(100);
  });
});

describe("renderLine", () => {
  const state = (over: Partial<BarState>): BarState => ({
    label: "movie.mkv",
    total: 200 * MiB,
    done: 0,
    skipped: 0,
    status: "hashing",
    finished: false,
    ...over,
  });

  test("before bytes move: the status", () => {
    const line = renderLine(state({}), 80, 0);
    expect(line).toContain("movie.mkv");
    expect(line).toEndWith(" hashing");
    expect(line.length).toBeLessThanOrEqual(80);
  });

  test("moving: percentage, bytes, speed without the skipped bytes, time left", () => {
    const s = state({ done: 100 * MiB, skipped: 50 * MiB, startedAt: 0 });
    expect(speedOf(s, 1000)).toBe(50 * MiB);
    const line = renderLine(s, 120, 1000);
    expect(line).toContain(" 50% 100.0 MiB/200.0 MiB 50.0 MiB/s ETA 2s");
    expect(line).toContain(`[${"#".repeat(5)}`);
  });

  test("a long label is shortened from the left to fit the width", () => {
    const line = renderLine(state({ label: `${"x".repeat(200)}.bin` }), 60, 0, 12);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(line).toStartWith("…xxxxxxx.bin [");
  });
});

describe("Progress", () => {
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, out: { isTTY, columns: 80, write: (t: string) => written.push(t) } };
  };

  test("off a terminal: plain lines for status changes and each 10 %", () => {
    const { written, out } = sink(false);
    const p = new Progress(out);
    const bar = p.add("a.bin", 100);
    bar.status("uploading 4 parts");
    bar.skip(25);
    for (let i = 0; i < 3; i++) bar.advance(25);
    bar.finish("done");
    p.stop();
    expect(written).toEqual([
      "a.bin: uploading 4 parts\n",
      "a.bin: 50% (50 B of 100 B)\n",
      "a.bin: 75% (75 B of 100 B)\n",
      "a.bin: 100% (100 B of 100 B)\n",
      "a.bin: done\n",
    ]);
  });

  test("on a terminal: one redrawn line per file, no plain lines", async () => {
    const { written, out } = sink(true);
    const p = new Progress(out);
    const a = p.add("a.bin", 100);
    p.add("b.bin", 100);
    a.advance(50);
    await Bun.sleep(150);
    a.finish("done");
    p.stop();
    expect(written.length).toBeGreaterThanOrEqual(2);
    const last = written[written.length - 1] as string;
    expect(last.startsWith("\x1b[2A")).toBe(true); // back over the two lines drawn before
    expect(last.match(/\n/g)?.length).toBe(2);
    expect(last).toContain("done");
    expect(written.join("")).not.toContain("a.bin: ");
  });
});
