import { describe, expect, test } from "bun:test";
import { checkFileName, firstFreeName, numberedName } from "./names.ts";

test.each([
  "a.txt",
  "中文文件名.txt",
  "emoji 😀.png",
  'quote"s; and semicolons',
  "x".repeat(255),
  "é".repeat(127),
])("accepts %p", (name) => {
  expect(checkFileName(name)).toEqual({ name: name.normalize("NFC") });
});

test.each([
  ["", "required"],
  [".", '"." or ".."'],
  ["..", '"." or ".."'],
  ["../etc/passwd", '"/"'],
  ["a/b", '"/"'],
  ["nul\u0000byte", "control"],
  ["new\nline", "control"],
  [" lead", "space"],
  ["trail ", "space"],
  ["x".repeat(256), "255 bytes"],
  ["é".repeat(128), "255 bytes"],
])("refuses %p", (name, why) => {
  const r = checkFileName(name);
  expect("error" in r && r.error).toContain(why);
});

test("decomposed and composed forms are the same name", () => {
  expect(checkFileName("e\u0301")).toEqual({ name: "\u00e9" });
});

describe("numbered names (keep both)", () => {
  test("the number goes before the extension; a numbered name continues its series", () => {
    expect(numberedName("photo.jpg", 2)).toBe("photo (2).jpg");
    expect(numberedName("photo (2).jpg", 3)).toBe("photo (3).jpg");
    expect(numberedName(".bashrc", 2)).toBe(".bashrc (2)");
    expect(numberedName("dir", 12)).toBe("dir (12)");
  });
  test("the first free number is taken, and the result stays within 255 bytes", () => {
    expect(firstFreeName("a.txt", new Set(["a.txt", "a (2).txt", "a (4).txt"]))).toBe("a (3).txt");
    const long = `${"é".repeat(125)}.txt`;
    const n = numberedName(long, 2);
    expect(new TextEncoder().encode(n).length).toBeLessThanOrEqual(255);
    expect(n.endsWith(" (2).txt")).toBe(true);
  });
});
