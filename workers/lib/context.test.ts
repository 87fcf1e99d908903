// The lazily worked-out client address: asked for once, only when read; a value set replaces it.
import { expect, test } from "bun:test";
import { createContextValues } from "@connectrpc/connect";
import { clientIpKey, lazyClientIp } from "./context.ts";

test("the client address is worked out on the first read only, and never when nobody reads it", () => {
  let asked = 0;
  const compute = () => {
    asked++;
    return "198.51.100.7";
  };
  lazyClientIp(createContextValues(), compute);
  expect(asked).toBe(0);
  const values = lazyClientIp(createContextValues(), compute);
  expect([values.get(clientIpKey), values.get(clientIpKey), asked]).toEqual([
    "198.51.100.7",
    "198.51.100.7",
    1,
  ]);
});

test("a value set replaces it, and a deleted one reads as the key's default", () => {
  const values = lazyClientIp(createContextValues(), () => "198.51.100.7");
  values.set(clientIpKey, "203.0.113.9");
  expect(values.get(clientIpKey)).toBe("203.0.113.9");
  values.delete(clientIpKey);
  expect(values.get(clientIpKey)).toBe("");
});
