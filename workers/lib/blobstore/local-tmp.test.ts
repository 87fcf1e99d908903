// The local store removes crash leftovers in tmp/ (older than tmpMaxAgeMs, or background removals) and
// leaves live ones alone; large files are removed in the background.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBlobStore } from "./local/index.ts";

const root = mkdtempSync(join(tmpdir(), "filestore-local-tmp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("at start, tmp/ files silent for longer than tmpMaxAgeMs are removed; recent ones stay", async () => {
  mkdirSync(join(root, "tmp"), { recursive: true });
  const stale = join(root, "tmp", "crashed-upload");
  const live = join(root, "tmp", "live-upload");
  writeFileSync(stale, "half a body");
  writeFileSync(live, "being written");
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
  utimesSync(stale, twoDaysAgo, twoDaysAgo);

  const store = await createLocalBlobStore(root);
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(live)).toBe(true);

  // The store still works after the sweep.
  const staged = await store.stage(new Blob(["hello"]).stream());
  const location = await staged.commit();
  expect(await new Response(await store.read(location)).text()).toBe("hello");
});

test("a large file is removed in the background: its name goes at once, its bytes soon after", async () => {
  const store = await createLocalBlobStore(root);
  const big = new Uint8Array(64 << 20);
  const location = await (await store.stage(new Blob([big]).stream())).commit();
  await store.delete(location);
  expect(existsSync(join(root, location))).toBe(false);
  expect(await store.stat(location)).toBeUndefined();
  const tmpLeft = () => readdirSync(join(root, "tmp")).filter((f) => f.startsWith("removed-"));
  for (let i = 0; i < 100 && tmpLeft().length > 0; i++) await Bun.sleep(20);
  expect(tmpLeft()).toEqual([]);
});

test("a background removal that a crash interrupted is swept at the next start, whatever its age", async () => {
  mkdirSync(join(root, "tmp"), { recursive: true });
  const interrupted = join(root, "tmp", "removed-0f1e2d3c");
  writeFileSync(interrupted, "a blob on its way out");
  await createLocalBlobStore(root);
  expect(existsSync(interrupted)).toBe(false);
});
