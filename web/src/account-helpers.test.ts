// The pure helpers of the account and admin pages: sizes typed with units, and device names.
import { describe, expect, test } from "bun:test";
import { fromBytes, toBytes } from "./size-units.ts";
import { describeAgent } from "./user-agent.ts";

describe("size units", () => {
  test("amounts with units become bytes", () => {
    expect(toBytes("10", "GiB")).toBe(10n * 2n ** 30n);
    expect(toBytes("1.5", "TiB")).toBe(3n * 2n ** 39n);
    expect(toBytes(" 0,5 ", "MiB")).toBe(2n ** 19n);
    expect(toBytes("0", "GiB")).toBe(0n);
  });
  test("anything but a plain non-negative number, or a size past 2^53, is refused", () => {
    for (const bad of ["", "-1", "1e3", "ten", "1.", ".5", "1 000", "Infinity", "0x10"])
      expect(toBytes(bad, "GiB")).toBeUndefined();
    expect(toBytes("8191", "TiB")).toBe(8191n * 2n ** 40n);
    expect(toBytes("8192", "TiB")).toBeUndefined();
  });
  test("bytes come back in the largest unit that shows them as 1 or more", () => {
    expect(fromBytes(10n * 2n ** 30n)).toEqual({ amount: "10", unit: "GiB" });
    expect(fromBytes(3n * 2n ** 39n)).toEqual({ amount: "1.5", unit: "TiB" });
    expect(fromBytes(500n * 2n ** 20n)).toEqual({ amount: "500", unit: "MiB" });
    expect(fromBytes(1000n)).toEqual({ amount: "0", unit: "MiB" });
    expect(fromBytes(0n)).toEqual({ amount: "0", unit: "MiB" });
    // Round trip of what a form shows.
    const { amount, unit } = fromBytes(7n * 2n ** 30n + 2n ** 29n);
    expect(toBytes(amount, unit)).toBe(7n * 2n ** 30n + 2n ** 29n);
  });
});

describe("device names", () => {
  test("browsers and systems", () => {
    expect(
      describeAgent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      ),
    ).toBe("Chrome on Linux");
    expect(
      describeAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
      ),
    ).toBe("Edge on Windows");
    expect(
      describeAgent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ).toBe("Firefox on macOS");
    expect(
      describeAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
      ),
    ).toBe("Safari on iOS");
    expect(
      describeAgent(
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      ),
    ).toBe("Chrome on Android");
  });
  test("tools, unknown and empty agents", () => {
    expect(describeAgent("curl/8.5.0")).toBe("curl");
    expect(describeAgent("")).toBe("Unknown device");
    expect(describeAgent("SomeRobot/1.0 (+https://example.com/robot)")).toBe(
      "SomeRobot/1.0 (+https://example.com/robo",
    );
  });
});
