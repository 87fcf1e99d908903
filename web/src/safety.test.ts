// The UI builds every element with dom.ts (text nodes, setAttribute); markup sinks would let a file name
// become HTML again, and eval-like calls would need 'unsafe-eval'. None may appear in the app's sources.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const sinks =
  /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\s*\(|new Function\s*\(|srcdoc)\b/;

describe("web sources", () => {
  const dir = import.meta.dir;
  const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  test("there are sources to check", () => expect(sources.length).toBeGreaterThan(5));
  for (const f of sources) {
    test(`${f} uses no markup sink`, () => {
      expect(readFileSync(join(dir, f), "utf8").match(sinks)?.[0]).toBeUndefined();
    });
  }
});
