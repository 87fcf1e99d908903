// The local store removes crash leftovers in tmp/ (older than tmpMaxAgeMs) and leaves live ones alone.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBlobStore } from "./local.ts";

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
