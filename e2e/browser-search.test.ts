// Search, thumbnails, the trash and PDF previews in Chromium (issue 16): the search box asks the server
// (case- and accent-insensitive, whole tree or this folder, a kind filter) and shows where each match
// lives; uploaded images get thumbnails in the grid (and the rows) once the background sweep made them;
// the trash shows where entries came from, restores a selection and empties; a PDF renders in the
// viewer under the download's sandboxing CSP. Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { browserKit, browserSuiteBothModes } from "./browser-kit.ts";
import { connectCall, FILES, MODE, signedInUser } from "./harness.ts";

type User = Awaited<ReturnType<typeof signedInUser>>;

/** A one-page PDF saying `text`, with a correct cross-reference table. */
function tinyPdf(text: string): string {
  const content = `BT /F1 24 Tf 30 60 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets = objects.map((body, i) => {
    const at = pdf.length;
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) pdf += `${String(at).padStart(10, "0")} 00000 n \n`;
  return `${pdf}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
}

// Both modes: what the browser gets from the services stack (the Deno gateway, the download worker's
// thumbnails and previews, MariaDB's search) is checked too.
browserSuiteBothModes(`web UI: search, thumbnails, trash, PDF preview (${MODE})`, () => {
  // Thumbnails are made by the file worker's sweep: every second here, so that the grid need not wait.
  const kit = browserKit({ env: { THUMBNAIL_SWEEP_SECONDS: "1" }, stack: true });
  const { open, writeFile, dropFiles, signInWithKeyboard, row, menuAction } = kit;

  const api = async (user: User, method: string, body: unknown) => {
    const r = await connectCall(kit.server.gatewayUrl, `${FILES}/${method}`, body, {
      authorization: `Bearer ${user.accessToken}`,
    });
    if (r.status !== 200) throw new Error(`${method}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const folder = async (user: User, name: string, parentId = "") =>
    ((await api(user, "CreateFolder", { name, parentId })).folder as { id: string }).id;
  const upload = async (user: User, name: string, body: Uint8Array | string, parentId = "") => {
    const q = new URLSearchParams({ name, parent_id: parentId });
    const res = await fetch(`${kit.server.gatewayUrl}/upload/v1/files?${q}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${user.accessToken}` },
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    if (res.status !== 201) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { file: { id: string } }).file.id;
  };
  const signedIn = async (user: User, viewport?: { width: number; height: number }) => {
    const w = await open(viewport);
    await signInWithKeyboard(w.page, user.username, user.password);
    return w;
  };
  // The screenshots of one mode are enough (the page is the same).
  const shot = (page: Page, name: string) => (MODE === "allinone" ? kit.shot(page, name) : Promise.resolve());
  const names = (page: Page) => page.locator("tr.entry .filename").allTextContents();
  const noSidewaysScroll = async (page: Page) =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      page.viewportSize()?.width ?? 0,
    );

  test("search: accent- and case-insensitive in the whole tree, kind filter, where each match lives, this folder only", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const trips = await folder(user, "Reisen");
    const france = await folder(user, "Frankreich", trips);
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c08040" } })
      .jpeg()
      .toBuffer();
    await upload(user, "Crème Brûlée.JPG", jpeg, france);
    await upload(user, "creme-notes.txt", "eggs, cream, sugar\n");
    await folder(user, "Crèmerie");
    await upload(user, "unrelated.txt", "nothing to see\n", france);

    const { page, dialogs, errors } = await signedIn(user);
    await row(page, "Reisen").waitFor();
    const searches: string[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/SearchFiles")) searches.push(r.postData() ?? "");
    });
    await page.keyboard.press("Control+f");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("search");
    await page.keyboard.type("CREME", { delay: 30 });
    await row(page, "Crème Brûlée.JPG").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("tr.entry").length === 3);
    expect((await names(page)).sort()).toEqual(["Crème Brûlée.JPG", "Crèmerie", "creme-notes.txt"]);
    // Debounced: requests for the word, never one per key ("C", "CR", …).
    expect(searches.map((b) => JSON.parse(b).query)).toContain("CREME");
    expect(searches.every((b) => JSON.parse(b).query === "CREME")).toBe(true);
    // Each match says where it is; the folder of the deep one is a link there.
    expect(await row(page, "Crème Brûlée.JPG").locator("td.location").textContent()).toBe(
      "/Reisen/Frankreich",
    );
    expect(await row(page, "creme-notes.txt").locator("td.location").textContent()).toBe("My files");
    expect(await page.locator(".search-options").isVisible()).toBe(true);
    await shot(page, "40-search-results");

    // The kind filter narrows the matches to images, then to folders.
    await page.selectOption("#search-kind", { label: "Images" });
    await row(page, "creme-notes.txt").waitFor({ state: "detached" });
    expect(await names(page)).toEqual(["Crème Brûlée.JPG"]);
    await page.selectOption("#search-kind", { label: "Folders" });
    await row(page, "Crèmerie").waitFor();
    expect(await names(page)).toEqual(["Crèmerie"]);
    await page.selectOption("#search-kind", { label: "Any kind" });
    await page.waitForFunction(() => document.querySelectorAll("tr.entry").length === 3);
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "41-search-results-375px");
    await noSidewaysScroll(page);
    await page.setViewportSize({ width: 1280, height: 800 });

    // A file result opens in the viewer.
    await row(page, "Crème Brûlée.JPG")
      .getByRole("button", { name: "Crème Brûlée.JPG", exact: true })
      .click();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("dialog.viewer img.viewer-image");
      return !!img && img.complete && img.naturalWidth === 64;
    });
    await page.keyboard.press("Escape");
    await page.locator("dialog.viewer").waitFor({ state: "detached" });

    // Its folder's link opens that folder and ends the search.
    await row(page, "Crème Brûlée.JPG")
      .getByRole("link", { name: "Open the folder of Crème Brûlée.JPG" })
      .click();
    await row(page, "unrelated.txt").waitFor();
    expect(await page.inputValue("#search")).toBe("");
    expect(await page.locator(".search-options").isVisible()).toBe(false);
    expect(await page.locator("nav.crumbs").textContent()).toBe("My files / Reisen / Frankreich");

    // Only in this folder: the notes at the top level are not found from here.
    await page.fill("#search", "crème");
    await page.waitForFunction(() => document.querySelectorAll("tr.entry").length === 3);
    await page.check("#search-in-folder");
    await row(page, "creme-notes.txt").waitFor({ state: "detached" });
    expect(await names(page)).toEqual(["Crème Brûlée.JPG"]);
    expect(JSON.parse(searches[searches.length - 1] as string).folderId).toBe(france);
    // Escape empties the box: the folder again.
    await page.focus("#search");
    await page.keyboard.press("Escape");
    await row(page, "unrelated.txt").waitFor();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  test("thumbnails: uploaded images show as pictures in the grid and the rows once made", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await signedIn(user);
    const png = await sharp({ create: { width: 640, height: 400, channels: 3, background: "#2a7ab0" } })
      .png()
      .toBuffer();
    const jpeg = await sharp({ create: { width: 300, height: 500, channels: 3, background: "#d0603a" } })
      .jpeg()
      .toBuffer();
    const thumbs: { status: number; type: string }[] = [];
    const asked: string[][] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/GetThumbnails")) asked.push(JSON.parse(r.postData() ?? "{}").fileIds ?? []);
    });
    page.on("response", (r) => {
      if (r.url().includes("/download/v1/thumbnails/"))
        thumbs.push({ status: r.status(), type: r.headers()["content-type"] ?? "" });
    });
    await page.click("#layout-toggle");
    await dropFiles(page, [
      writeFile("blue.png", png),
      writeFile("orange.jpg", jpeg),
      writeFile("readme.txt", "no picture for me\n"),
    ]);
    // No reload: the grid swaps the icons for the pictures when the background sweep has made them.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>("li.tile img.thumb")].filter(
          (i) => i.complete && i.naturalWidth > 0,
        ).length === 2,
      undefined,
      { timeout: 60_000 },
    );
    const srcs = await page
      .locator("li.tile img.thumb")
      .evaluateAll((els) => els.map((e) => new URL((e as HTMLImageElement).src).pathname));
    for (const src of srcs) expect(src).toMatch(/^\/download\/v1\/thumbnails\/[0-9a-f]{64}\/256$/);
    expect(thumbs.length).toBeGreaterThanOrEqual(2);
    for (const t of thumbs) expect(t).toEqual({ status: 200, type: "image/webp" });
    // The text file keeps its icon; the page's files were asked for together, never one call each.
    // Every change event reloads the list (now as it happens, over the event bus): wait out a reload.
    const textIcon = page.locator("li.tile", { hasText: "readme.txt" }).locator(".tile-icon.text");
    await textIcon.waitFor({ timeout: 15_000 });
    expect(await textIcon.count()).toBe(1);
    expect(asked.some((ids) => ids.length >= 2)).toBe(true);

    // A reload shows them at once (the images from the browser's cache); the list's rows show them small.
    await page.reload();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>("li.tile img.thumb")].filter((i) => i.complete)
          .length === 2,
    );
    await shot(page, "42-grid-thumbnails");
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "43-grid-thumbnails-375px");
    await noSidewaysScroll(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click("#layout-toggle");
    await row(page, "blue.png").locator("img.row-thumb").waitFor();
    expect(await page.locator("tr.entry img.row-thumb").count()).toBe(2);
    await shot(page, "44-list-thumbnails");
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  test("trash: where each entry came from, restore a selection, empty the trash", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const docs = await folder(user, "docs");
    await upload(user, "a.txt", "a\n", docs);
    await upload(user, "b.txt", "b\n", docs);
    await upload(user, "c.txt", "c\n");
    const { page, dialogs, errors } = await signedIn(user);
    await menuAction(page, "c.txt", "Delete");
    await row(page, "c.txt").waitFor({ state: "detached" });
    await page.getByRole("link", { name: "docs", exact: true }).click();
    await row(page, "a.txt").waitFor();
    await menuAction(page, "a.txt", "Delete");
    await row(page, "a.txt").waitFor({ state: "detached" });

    await page.click("#nav-trash");
    await row(page, "a.txt").waitFor();
    expect((await names(page)).sort()).toEqual(["a.txt", "c.txt"]);
    expect(await row(page, "a.txt").locator("td.origin").textContent()).toBe("/docs");
    expect(await row(page, "c.txt").locator("td.origin").textContent()).toBe("My files");
    await shot(page, "45-trash");

    // Restore a selection through the selection bar (one batch call).
    const batches: string[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/BatchFiles")) batches.push(r.postData() ?? "");
    });
    // Ctrl+A selects the trash's page too; Clear drops it.
    await page.locator("#main").focus();
    await page.keyboard.press("Control+a");
    await page.getByText("2 selected").waitFor();
    await page.click("#clear-selection");
    await page.getByRole("checkbox", { name: "Select a.txt", exact: true }).click();
    await page.getByText("1 selected").waitFor();
    expect(await page.locator("#move-selected").isVisible()).toBe(false);
    await page.click("#restore-selected");
    await page.getByText("Restored a.txt").waitFor();
    await row(page, "a.txt").waitFor({ state: "detached" });
    expect(batches.map((b) => JSON.parse(b).operation)).toEqual(["BATCH_OPERATION_RESTORE"]);

    // Empty trash asks first; Cancel keeps everything.
    await page.click("#empty-trash");
    const dialog = page.locator("dialog[open]");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await row(page, "c.txt").waitFor();
    await page.click("#empty-trash");
    await dialog.getByRole("button", { name: "Empty trash" }).click();
    await page.getByText("The trash is empty.").waitFor();
    await page.getByText("Emptied the trash (1 item)").waitFor();
    expect(await page.locator("#empty-trash").isDisabled()).toBe(true);
    await page.setViewportSize({ width: 375, height: 800 });
    await noSidewaysScroll(page);

    expect(((await api(user, "ListTrash", {})).entries as unknown[] | undefined) ?? []).toEqual([]);
    const inDocs = (await api(user, "ListFiles", { parentId: docs })).files as { name: string }[];
    expect(inDocs.map((f) => f.name).sort()).toEqual(["a.txt", "b.txt"]);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  test("a PDF renders in the viewer under the download's sandboxing CSP, with no violation", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await signedIn(user);
    const problems: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    await page
      .context()
      .addInitScript(() =>
        document.addEventListener("securitypolicyviolation", (e) =>
          console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
        ),
      );
    let downloaded = false;
    page.on("download", () => {
      downloaded = true;
    });
    await dropFiles(page, [writeFile("tiny.pdf", tinyPdf("Hello from filestore"))]);
    await row(page, "tiny.pdf").waitFor({ timeout: 30_000 });
    const preview = page.waitForResponse((r) => r.url().includes("/download/") && r.url().includes("inline"));
    await row(page, "tiny.pdf").getByRole("button", { name: "tiny.pdf", exact: true }).click();
    const headers = await (await preview).allHeaders();
    expect(headers["content-type"]).toBe("application/pdf");
    expect(headers["content-security-policy"]).toBe("default-src 'none'; sandbox");
    await page.locator("dialog.viewer iframe.viewer-frame").waitFor();
    // Chromium's PDF viewer (its built-in extension) takes over the frame and reads the document: its
    // toolbar counts the one page.
    const pages = async () => {
      const viewer = page.frames().find((f) => f.url().startsWith("chrome-extension://"));
      return viewer
        ? await viewer
            .locator("#pagelength")
            .textContent({ timeout: 1000 })
            .catch(() => "")
        : "";
    };
    for (const end = Date.now() + 20_000; (await pages()) !== "1" && Date.now() < end; )
      await page.waitForTimeout(200);
    expect(await pages()).toBe("1");
    // The frame takes the viewer's width, not an iframe's default 300 px.
    expect((await page.locator("iframe.viewer-frame").boundingBox())?.width).toBeGreaterThan(900);
    await shot(page, "46-viewer-pdf");
    expect(downloaded).toBe(false);
    expect(problems).toEqual([]);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 90_000);
});
