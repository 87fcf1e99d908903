// The drive's list in Chromium (issue 16): one ⋯ menu per row, multi-select (checkboxes, shift ranges,
// Ctrl+A) with its toolbar, drag to move, the keyboard, the grid view, the uploads panel that folds and
// never covers the list, toasts that go away. Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { browserKit, browserSuite } from "./browser-kit.ts";
import { connectCall, FILES, signedInUser } from "./harness.ts";

browserSuite("web UI: the drive's list", () => {
  const kit = browserKit();
  const { open, shot, writeFile, dropFiles, signInWithKeyboard, row, menuAction } = kit;

  /**
   * Drags the row `name` onto `target` until the row leaves the list. Chromium's HTML5 drag on a loaded
   * machine now and then ends without a drop, which leaves nothing to wait for: try again (at most 3 times).
   */
  async function dragUntilGone(page: Page, name: string, target: Locator) {
    for (let attempt = 1; ; attempt++) {
      try {
        if ((await row(page, name).count()) === 0) return;
        await row(page, name).dragTo(target, { timeout: 10_000 });
        await row(page, name).waitFor({ state: "detached", timeout: 10_000 });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  /** A signed-in page whose top level holds `names` (uploaded by a drop) and the folders `folders`. */
  async function driveWith(
    names: string[],
    folders: string[] = [],
    viewport?: { width: number; height: number },
  ) {
    const user = await signedInUser(kit.server.gatewayUrl);
    const w = await open(viewport);
    await signInWithKeyboard(w.page, user.username, user.password);
    for (const f of folders) {
      await w.page.click("#new-folder");
      await w.page.fill("#dialog-input", f);
      await w.page.keyboard.press("Enter");
      await row(w.page, f).waitFor();
    }
    await dropFiles(
      w.page,
      names.map((n) => writeFile(n, `content of ${n}\n`)),
    );
    await w.page.waitForFunction(
      (n) => document.querySelectorAll("tr.entry.file").length === n,
      names.length,
      { timeout: 30_000 },
    );
    return { ...w, user };
  }

  const names = (page: Page) => page.locator("tr.entry .filename").allTextContents();
  const box = (page: Page, name: string) =>
    page.getByRole("checkbox", { name: `Select ${name}`, exact: true });

  test("multi-select: click, shift-click range, Ctrl+A; move and delete the selection; drag to move", async () => {
    const files = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    const { page, dialogs, errors } = await driveWith(files, ["box", "crate"]);
    await box(page, "a.txt").click();
    await box(page, "d.txt").click({ modifiers: ["Shift"] });
    expect(await page.locator("tr.entry.selected .filename").allTextContents()).toEqual([
      "a.txt",
      "b.txt",
      "c.txt",
      "d.txt",
    ]);
    await page.getByText("4 selected").waitFor();
    // A shift-click on a selected one after a deselect narrows the range the same way.
    await box(page, "c.txt").click();
    await box(page, "d.txt").click({ modifiers: ["Shift"] });
    expect(await page.locator("tr.entry.selected .filename").allTextContents()).toEqual(["a.txt", "b.txt"]);
    await shot(page, "20-selection");

    // Move the two into "box" through the selection toolbar.
    await page.click("#move-selected");
    await page.locator("dialog").getByRole("button", { name: "box", exact: true }).click();
    await page.locator("dialog .where", { hasText: "My files / box" }).waitFor();
    await page.getByRole("button", { name: "Move here" }).click();
    await row(page, "a.txt").waitFor({ state: "detached" });
    await page.getByText("Moved 2 items").waitFor();
    expect(await page.locator("tr.entry.file .filename").allTextContents()).toEqual([
      "c.txt",
      "d.txt",
      "e.txt",
    ]);
    expect(await page.locator(".selection-bar").isHidden()).toBe(true);

    // Drag one file onto the "crate" row: it moves there.
    await dragUntilGone(page, "e.txt", row(page, "crate"));

    // Ctrl+A selects the page; Delete in the toolbar moves it all to the trash.
    await page.locator("#main").focus();
    await page.keyboard.press("Control+a");
    await page.getByText("4 selected").waitFor();
    await page.click("#delete-selected");
    await page.getByText("Moved 4 items to the trash").waitFor();
    await page.locator(".empty").waitFor();
    await page.click("#nav-trash");
    await row(page, "box").waitFor();
    expect((await names(page)).sort()).toEqual(["box", "c.txt", "crate", "d.txt"]);

    // In the trash's folder "crate" (restored) sits e.txt, dragged there; drag a file onto a breadcrumb.
    await menuTrashRestore(page, "crate");
    await page.click("#nav-files");
    await page.getByRole("link", { name: "crate", exact: true }).click();
    await row(page, "e.txt").waitFor();
    await dragUntilGone(page, "e.txt", page.locator("nav.crumbs").getByRole("link", { name: "My files" }));
    await page.getByRole("link", { name: "My files" }).first().click();
    await row(page, "e.txt").waitFor();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  async function menuTrashRestore(page: Page, name: string) {
    await page.getByRole("button", { name: `Restore ${name}`, exact: true }).click();
    await row(page, name).waitFor({ state: "detached" });
  }

  test("the ⋯ menu renames with the name selected without its extension; F2 and Delete on the keyboard", async () => {
    const { page, dialogs, errors, user } = await driveWith(["holiday.photo.jpeg", "notes.md", "zz.txt"]);
    await page.getByRole("button", { name: "Actions for holiday.photo.jpeg", exact: true }).click();
    await page.getByRole("menu").waitFor();
    await shot(page, "21-row-menu");
    expect(await page.getByRole("menuitem").allTextContents()).toEqual([
      "Download",
      "Share",
      "Copy link",
      "Rename",
      "Move",
      "Copy",
      "Versions",
      "Delete",
    ]);
    await page.getByRole("menuitem", { name: "Rename holiday.photo.jpeg", exact: true }).click();
    const selected = () =>
      page.$eval("#dialog-input", (i) => {
        const input = i as HTMLInputElement;
        return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
      });
    expect(await selected()).toBe("holiday.photo");
    await page.keyboard.type("beach");
    await page.keyboard.press("Enter");
    await row(page, "beach.jpeg").waitFor();

    // The keyboard: ↓ moves between rows, F2 renames the focused one, Delete trashes it.
    await page.locator("#main").focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("notes.md");
    await page.keyboard.press("F2");
    expect(await selected()).toBe("notes");
    // While the dialog is open, a change from another device redraws the list (a live update): the row
    // the dialog was opened from is replaced, and one more entry comes before it. Escape must still bring
    // the focus back to notes.md, so that Delete trashes it.
    const before = await row(page, "notes.md").elementHandle();
    const other = await connectCall(
      kit.server.gatewayUrl,
      `${FILES}/CreateFolder`,
      { name: "from another device", parentId: "" },
      { authorization: `Bearer ${user.accessToken}` },
    );
    expect(other.status).toBe(200);
    await row(page, "from another device").waitFor();
    expect(await before?.evaluate((tr) => tr.isConnected)).toBe(false);
    expect(await page.locator("dialog[open] #dialog-input").isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Delete");
    await row(page, "notes.md").waitFor({ state: "detached" });
    expect(await row(page, "zz.txt").count()).toBe(1);

    // Ctrl+F goes to the search box, which narrows the list by name.
    await page.keyboard.press("Control+f");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("search");
    await page.keyboard.type("BEA");
    await row(page, "zz.txt").waitFor({ state: "hidden" });
    expect(await row(page, "beach.jpeg").isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await row(page, "zz.txt").waitFor();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 90_000);

  test("grid view: tiles with an icon per kind, kept after a reload; phone layout", async () => {
    const { page, errors } = await driveWith(
      ["pic.png", "clip.mp4", "song.mp3", "doc.pdf", "x.bin"],
      ["album"],
    );
    await page.click("#layout-toggle");
    await page.locator("li.tile").first().waitFor();
    expect(await page.locator("li.tile").count()).toBe(6);
    expect(await page.getAttribute("#layout-toggle", "aria-pressed")).toBe("true");
    for (const kind of ["folder", "image", "video", "audio", "pdf", "other"])
      expect(await page.locator(`li.tile .tile-icon.${kind}`).count()).toBe(1);
    await shot(page, "22-grid");
    await page.reload();
    await page.locator("li.tile").first().waitFor();
    // A tile's ⋯ menu works as a row's does.
    await menuAction(page, "x.bin", "Delete");
    await page.locator("li.tile", { hasText: "x.bin" }).waitFor({ state: "detached" });
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "23-grid-375px");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.click("#layout-toggle");
    await page.locator("tr.entry").first().waitFor();
    expect(errors).toEqual([]);
  }, 90_000);

  test("uploads fold to one line and leave every row's menu clickable; toasts go away", async () => {
    const files = Array.from(
      { length: 9 },
      (_, i) => `file-${i + 1}-with-a-rather-long-name-to-see-how-it-fits.txt`,
    );
    const { page, dialogs, errors } = await driveWith(files);
    await page.locator("#uploads.folded").waitFor({ timeout: 10_000 });
    expect(await page.textContent("#upload-summary")).toBe("9 uploaded");
    expect(await page.locator("#upload-body").isHidden()).toBe(true);
    // Every row's ⋯ button receives the click (nothing lies over it).
    for (const name of files)
      await page
        .getByRole("button", { name: `Actions for ${name}`, exact: true })
        .click({ trial: true, timeout: 2000 });
    await shot(page, "24-uploads-folded");

    // A success toast goes by itself.
    await page.locator("#toast:not(:empty)").waitFor();
    await page.locator("#toast:empty").waitFor({ state: "attached", timeout: 8000 });
    // An error toast too (a name with a slash is refused), and the next success replaces it at once.
    await menuAction(page, files[0] as string, "Rename");
    await page.fill("#dialog-input", "a/b");
    await page.keyboard.press("Enter");
    await page.locator("#alert:not(:empty)").waitFor();
    await shot(page, "25-error-toast");
    await page.locator("#alert:empty").waitFor({ state: "attached", timeout: 13_000 });
    await menuAction(page, files[1] as string, "Rename");
    await page.fill("#dialog-input", "a/b");
    await page.keyboard.press("Enter");
    await page.locator("#alert:not(:empty)").waitFor();
    await menuAction(page, files[1] as string, "Rename");
    await page.fill("#dialog-input", "short.txt");
    await page.keyboard.press("Enter");
    await page.getByText("Renamed to short.txt").waitFor();
    expect(await page.textContent("#alert")).toBe("");

    // Phones: rows stay one line, nothing sticks out sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "26-list-375px");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    const heights = await page
      .locator("tr.entry")
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(48);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);
});
