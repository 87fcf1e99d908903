import { expect, test } from "bun:test";
import { checkFileName } from "./names.ts";

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
