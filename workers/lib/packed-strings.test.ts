import { expect, test } from "bun:test";
import { packStrings, unpackStrings } from "./packed-strings.ts";

test("strings come back exactly, empty ones, separators and non-BMP characters included", () => {
  const values = ["a", "", "b/c\u0000d", "été", "😀 x", ""];
  const packed = packStrings(values);
  expect(packed.text).toBe("ab/c\u0000dété😀 x");
  expect(unpackStrings(packed)).toEqual(values);
  expect(unpackStrings(packStrings([]))).toEqual([]);
  expect(unpackStrings(undefined)).toEqual([]);
});

test("lengths that do not add up to the text are refused", () => {
  expect(() => unpackStrings({ text: "abc", lengths: [1, 1] })).toThrow(/do not add up/);
  expect(() => unpackStrings({ text: "abc", lengths: [2, 2] })).toThrow(/do not add up/);
});
