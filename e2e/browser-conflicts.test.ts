// Name conflicts and versions in Chromium (issue 16): an upload onto a taken name asks "Keep both /
// Replace / Skip" (keep both adds "name (2).ext", replace adds a version, skip leaves it), also when the
// name is taken only while the bytes are on their way; the versions panel lists, downloads, restores and
// deletes versions; a multi-select copy and move into a folder where names are
// taken ask once with "Apply to all". Runs in both modes (the flows cross the upload, file, meta and
// download services). Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Download, Page } from "playwright-core";
import { browserKit, browserSuiteBothModes, throttleUploads } from "./browser-kit.ts";
import { connectCall, FILES, randomBytes, signedInUser, uniqueName } from "./harness.ts";

browserSuiteBothModes("web UI: name conflicts, copy and versions", () => {
  const kit = browserKit({ stack: true });
  const { open, shot, writeFile, dropFiles, signInWithKeyboard, row, menuAction, downloadVia } = kit;

  async function signedIn(viewport?: { width: number; height: number }) {
    const user = await signedInUser(kit.server.gatewayUrl);
    const w = await open(viewport);
    await signInWithKeyboard(w.page, user.username, user.password);
    return { ...w, user };
  }

  /** Drops one file `name` holding `content` on the open folder. */
  async function upload(page: Page, name: string, content: string) {
    await dropFiles(page, [writeFile(name, content)]);
  }
  /** Waits until the upload queue holds `n` items in `state`. */
  const finished = (page: Page, state: "done" | "skipped", n: number) =>
    page.waitForFunction(
      ([s, count]) => document.querySelectorAll(`#uploads li.upload[data-state="${s}"]`).length === count,
      [state, n] as const,
      { timeout: 30_000 },
    );
  const conflictDialog = (page: Page) => page.locator("dialog.conflict[open]");
  const choices = (page: Page) => conflictDialog(page).locator("button[data-choice]").allTextContents();
  const rowsNamed = (page: Page, name: string) =>
    page.locator("tr.entry .filename").filter({ hasText: new RegExp(`^${name.replace(/[.()]/g, "\\$&")}$`) });

  async function saved(download: Download): Promise<string> {
    const to = join(kit.dir, `download-${uniqueName("v")}`);
    await download.saveAs(to);
    return readFileSync(to, "utf8");
  }

  async function createFolder(page: Page, name: string) {
    await page.click("#new-folder");
    await page.fill("#dialog-input", name);
    await page.keyboard.press("Enter");
    await row(page, name).waitFor();
  }

  /** Picks `folder` (at the top level) in the folder picker and presses its action button. */
  async function pickFolder(page: Page, folder: string, action: string) {
    const picker = page.locator("dialog[open]");
    await picker.getByRole("button", { name: folder, exact: true }).click();
    await picker.locator(".where", { hasText: `My files / ${folder}` }).waitFor();
    await picker.getByRole("button", { name: action, exact: true }).click();
  }

  test("upload onto a taken name: keep both, replace (a version), skip; versions: download and restore", async () => {
    const { page, dialogs, errors } = await signedIn();
    await upload(page, "report.txt", "first\n");
    await finished(page, "done", 1);
    await row(page, "report.txt").waitFor();

    // The same name again: the dialog asks; keep both adds "report (2).txt".
    await upload(page, "report.txt", "second\n");
    await conflictDialog(page).waitFor();
    expect(await conflictDialog(page).textContent()).toContain("report.txt");
    expect(await choices(page)).toEqual(["Skip", "Keep both", "Replace"]);
    // One file in the batch: nothing to apply to all.
    expect(await conflictDialog(page).locator("#conflict-all").count()).toBe(0);
    await shot(page, "40-conflict-dialog");
    await conflictDialog(page).getByRole("button", { name: "Keep both" }).click();
    await finished(page, "done", 2);
    await row(page, "report (2).txt").waitFor();
    expect(await downloadVia(page, "report (2).txt")).toEqual(new TextEncoder().encode("second\n"));

    // Again: replace. Still one "report.txt", holding the new content, with the old one as a version.
    await upload(page, "report.txt", "third\n");
    await conflictDialog(page).getByRole("button", { name: "Replace" }).click();
    await finished(page, "done", 3);
    await page.waitForFunction(() => document.querySelectorAll("tr.entry").length === 2);
    expect(await rowsNamed(page, "report.txt").count()).toBe(1);
    expect(new TextDecoder().decode(await downloadVia(page, "report.txt"))).toBe("third\n");

    // The versions panel: the current content and one earlier version.
    await menuAction(page, "report.txt", "Versions");
    const panel = page.locator("dialog.versions-dialog[open]");
    const versions = panel.locator("tr.version");
    await versions.nth(1).waitFor();
    expect(await versions.count()).toBe(2);
    expect(await versions.nth(0).getAttribute("class")).toContain("current");
    expect(await versions.nth(0).textContent()).toContain("Current");
    await shot(page, "41-versions");

    // Restore the older one: the list is read again, and the replaced content is now the version.
    const older = panel.locator("tr.version:not(.current)");
    const before = await older.getAttribute("data-version");
    await older.getByRole("button", { name: /^Restore/ }).click();
    await panel.locator(`tr.version:not(.current):not([data-version="${before}"])`).waitFor();
    expect(await versions.count()).toBe(2);
    // The version's own download (CreateDownloadUrl version_id): the content replaced just now.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      older
        .first()
        .getByRole("button", { name: /^Download/ })
        .click(),
    ]);
    expect(await saved(download)).toBe("third\n");
    await panel.getByRole("button", { name: "Close" }).click();
    await panel.waitFor({ state: "detached" });
    expect(new TextDecoder().decode(await downloadVia(page, "report.txt"))).toBe("first\n");

    // On a phone: the dialog and the panel fit; Skip leaves the folder as it was.
    await page.setViewportSize({ width: 375, height: 800 });
    await upload(page, "report.txt", "fourth\n");
    await conflictDialog(page).waitFor();
    await shot(page, "42-conflict-dialog-375px");
    await conflictDialog(page).getByRole("button", { name: "Skip" }).click();
    await finished(page, "skipped", 1);
    expect(await page.locator("tr.entry").count()).toBe(2);
    await menuAction(page, "report.txt", "Versions");
    await panel.locator("tr.version").nth(1).waitFor();
    await shot(page, "43-versions-375px");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // Delete the earlier version (after a confirmation): only the current content is left.
    await panel
      .locator("tr.version:not(.current)")
      .getByRole("button", { name: /^Delete/ })
      .click();
    await page.locator("dialog[open]:not(.versions-dialog)").getByRole("button", { name: "Delete" }).click();
    await panel.getByText("No earlier versions.").waitFor();
    expect(await panel.locator("tr.version").count()).toBe(1);
    await panel.getByRole("button", { name: "Close" }).click();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 180_000);

  test("multi-select copy and move into a folder where names are taken: one question, applied to all", async () => {
    const { page, dialogs, errors } = await signedIn();
    await createFolder(page, "dest");
    await page.getByRole("link", { name: "dest", exact: true }).click();
    await page.locator("nav.crumbs", { hasText: "dest" }).waitFor();
    await dropFiles(page, [writeFile("a.txt", "dest a\n"), writeFile("b.txt", "dest b\n")]);
    await finished(page, "done", 2);
    await row(page, "b.txt").waitFor();
    await page.getByRole("link", { name: "My files" }).first().click();
    await row(page, "dest").waitFor();
    await dropFiles(
      page,
      ["a.txt", "b.txt", "c.txt"].map((n) => writeFile(n, `top ${n}\n`)),
    );
    await finished(page, "done", 5);
    await page.waitForFunction(() => document.querySelectorAll("tr.entry.file").length === 3);
    const select = async (names: string[]) => {
      for (const n of names) await page.getByRole("checkbox", { name: `Select ${n}`, exact: true }).click();
      await page.getByText(`${names.length} selected`).waitFor();
    };

    // Copy a, b, c into dest: a and b are taken there; one question, "Apply to all", keep both.
    await select(["a.txt", "b.txt", "c.txt"]);
    await page.click("#copy-selected");
    await pickFolder(page, "dest", "Copy here");
    await conflictDialog(page).waitFor();
    expect(await choices(page)).toEqual(["Skip", "Keep both", "Replace"]);
    await conflictDialog(page).locator("#conflict-all").check();
    await shot(page, "44-conflict-apply-to-all");
    await conflictDialog(page).getByRole("button", { name: "Keep both" }).click();
    await page.getByText("Copied 3 items").waitFor();
    expect(await conflictDialog(page).count()).toBe(0);

    // One entry through its ⋯ menu: c.txt is taken in dest now; one conflict, nothing to apply to all.
    await menuAction(page, "c.txt", "Copy");
    await pickFolder(page, "dest", "Copy here");
    await conflictDialog(page).waitFor();
    expect(await conflictDialog(page).locator("#conflict-all").count()).toBe(0);
    await conflictDialog(page).getByRole("button", { name: "Replace" }).click();
    await page.getByText("Copied c.txt").waitFor();

    // Move them into dest: now all three are taken; replace, for all.
    await select(["a.txt", "b.txt", "c.txt"]);
    await page.click("#move-selected");
    await pickFolder(page, "dest", "Move here");
    await conflictDialog(page).waitFor();
    expect(await choices(page)).toEqual(["Skip", "Keep both", "Replace"]);
    await conflictDialog(page).locator("#conflict-all").check();
    await conflictDialog(page).getByRole("button", { name: "Replace" }).click();
    await page.getByText("Moved 3 items").waitFor();
    expect(await conflictDialog(page).count()).toBe(0);
    await page.waitForFunction(() => document.querySelectorAll("tr.entry.file").length === 0);

    // In dest: the originals, the kept copies, and a.txt replaced by the moved one (its old content a version).
    await page.getByRole("link", { name: "dest", exact: true }).click();
    await row(page, "a (2).txt").waitFor();
    expect((await page.locator("tr.entry .filename").allTextContents()).sort()).toEqual([
      "a (2).txt",
      "a.txt",
      "b (2).txt",
      "b.txt",
      "c.txt",
    ]);
    expect(new TextDecoder().decode(await downloadVia(page, "a.txt"))).toBe("top a.txt\n");
    expect(new TextDecoder().decode(await downloadVia(page, "a (2).txt"))).toBe("top a.txt\n");
    await menuAction(page, "a.txt", "Versions");
    const panel = page.locator("dialog.versions-dialog[open]");
    await panel.locator("tr.version").nth(1).waitFor();
    expect(await panel.locator("tr.version").count()).toBe(2);
    await panel.getByRole("button", { name: "Close" }).click();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 180_000);

  test("a name taken while the bytes are on their way: asked at the end, keep both sends it again", async () => {
    const { page, user, dialogs, errors } = await signedIn();
    const cdp = await throttleUploads(page, 256 * 1024);
    await dropFiles(page, [writeFile("race.bin", randomBytes(1024 * 1024 + 7))]);
    await page.locator('#uploads li.upload[data-state="uploading"]').waitFor({ timeout: 30_000 });
    // The name was free when the upload started; now a folder takes it.
    const taken = await connectCall(
      kit.server.gatewayUrl,
      `${FILES}/CreateFolder`,
      { parentId: "", name: "race.bin" },
      { authorization: `Bearer ${user.accessToken}` },
    );
    expect(taken.status).toBe(200);
    await throttleUploads(page, -1, cdp);
    await conflictDialog(page).waitFor({ timeout: 30_000 });
    await conflictDialog(page).getByRole("button", { name: "Keep both" }).click();
    await finished(page, "done", 1);
    await row(page, "race (2).bin").waitFor();
    expect(await page.locator("tr.entry.folder .filename").allTextContents()).toEqual(["race.bin"]);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);
});
