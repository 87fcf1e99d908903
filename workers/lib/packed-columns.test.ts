import { expect, test } from "bun:test";
import { packDoubles, packStrings, unpackDoubles, unpackStrings } from "./packed-columns.ts";

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

test("numbers come back exactly up to 2^53, little-endian, also from an unaligned slice", () => {
  const values = [0, 1, 9, 1_780_000_000_123, -1_500, 2 ** 53];
  const bytes = packDoubles(values);
  expect(bytes.byteLength).toBe(48);
  expect([...bytes.subarray(8, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]); // 1.0
  expect(unpackDoubles(bytes)).toEqual(values);
  const shifted = new Uint8Array(49);
  shifted.set(bytes, 1);
  expect(unpackDoubles(shifted.subarray(1))).toEqual(values);
  expect(unpackDoubles(new Uint8Array(0))).toEqual([]);
  expect(() => unpackDoubles(new Uint8Array(7))).toThrow(/multiple of 8/);
});
