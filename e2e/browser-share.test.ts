// Share links in Chromium (issue 18): the owner shares a folder with a password from the drive's share
// dialog; a second browser context with no login opens the link, is refused a wrong password, enters the
// right one, previews an image and a text file, goes into a subfolder and back by the breadcrumbs, and
// downloads the folder as a ZIP (read back by Python's zipfile); a signed-in visitor saves it to their
// drive; the owner revokes the link on "My
// shares" and the guest's next click says the link no longer works. A drop link: the guest sends a file
// through the picker and drops another: both land in the owner's folder (the same name gets a suffix);
// a file above the multipart threshold goes through a drop session.
// A file link with one download: the second click says the limit is reached. All-in-one only (the UI is the same in both modes). Screenshots in artifacts/screenshots.
import { expect, test } from "bun:test";
import { join } from "node:path";
import sharp from "sharp";
import { checkZip } from "../workers/download/zip-check.ts";
import { browserKit, browserSuite } from "./browser-kit.ts";
import { connectCall, FILES, signedInUser } from "./harness.ts";

browserSuite("web UI: share links", () => {
  const kit = browserKit();
  const { open, shot, signInWithKeyboard, row, menuAction } = kit;
  type User = Awaited<ReturnType<typeof signedInUser>>;
  const bearer = (u: User) => ({ authorization: `Bearer ${u.accessToken}` });
  const upload = async (u: User, name: string, body: Uint8Array<ArrayBuffer> | string, parentId = "") => {
    const q = `name=${encodeURIComponent(name)}&parent_id=${parentId}`;
    const res = await fetch(`${kit.server.gatewayUrl}/upload/v1/files?${q}`, {
      method: "PUT",
      headers: bearer(u),
      body,
    });
    expect(res.status).toBe(201);
  };
  const folder = async (u: User, name: string, parentId = "") =>
    (
      (await connectCall(kit.server.gatewayUrl, `${FILES}/CreateFolder`, { name, parentId }, bearer(u))).json
        .folder as { id: string }
    ).id;
  const namesIn = async (u: User, parentId: string) =>
    (
      (await connectCall(kit.server.gatewayUrl, `${FILES}/ListFiles`, { parentId }, bearer(u))).json
        .files as { name: string }[]
    ).map((f) => f.name);

  /** Creates a link from the drive's share dialog (the ⋯ menu's Share) and returns its URL. */
  const shareFromDrive = async (
    page: Parameters<typeof shot>[0],
    name: string,
    fill: () => Promise<void>,
  ) => {
    await row(page, name).waitFor();
    await menuAction(page, name, "Share");
    await page.waitForSelector("dialog.share-dialog #share-create");
    await fill();
    await page.click("#share-create");
    const url = page.locator("#share-new-url");
    await url.waitFor();
    return url.inputValue();
  };

  test("password folder link: wrong password, previews, breadcrumbs, ZIP; revoked on My shares", async () => {
    const owner = await signedInUser(kit.server.gatewayUrl);
    const top = await folder(owner, "Holiday");
    const sub = await folder(owner, "more", top);
    const png = await sharp({
      create: { width: 240, height: 160, channels: 3, background: { r: 200, g: 90, b: 40 } },
    })
      .png()
      .toBuffer();
    await upload(owner, "photo.png", new Uint8Array(png), top);
    await upload(owner, "notes.txt", "Packing list: <b>towels</b>\n", top);
    await upload(owner, "deep.txt", "deep", sub);

    const o = await open();
    await signInWithKeyboard(o.page, owner.username, owner.password);
    const link = await shareFromDrive(o.page, "Holiday", () =>
      o.page.fill("#new-share-password", "pw-4-guests"),
    );
    expect(link).toMatch(/\/s\/[A-Za-z0-9_-]{22,}$/);
    await shot(o.page, "share-dialog");
    await o.page.keyboard.press("Escape");

    const g = await open();
    await g.page.goto(link);
    await g.page.waitForSelector("#share-password");
    await g.page.fill("#share-password", "wrong");
    await g.page.keyboard.press("Enter");
    await g.page.waitForSelector("#share-password-error:has-text('password is wrong')");
    await shot(g.page, "share-password-wrong");
    await g.page.fill("#share-password", "pw-4-guests");
    await g.page.keyboard.press("Enter");
    await g.page.waitForSelector("#share-title:has-text('Holiday')");
    expect(await g.page.textContent("#share-facts")).toContain(`Shared by ${owner.username}`);

    // Previews in the page: the text as text (its markup not rendered), the image loaded.
    await g.page.click("tr[data-name='notes.txt'] button.open");
    const text = g.page.locator("#share-preview pre.viewer-text");
    await text.waitFor();
    expect(await text.textContent()).toContain("Packing list: <b>towels</b>");
    await g.page.click("tr[data-name='photo.png'] button.open");
    await g.page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("#share-preview img.viewer-image");
      return img?.complete && img.naturalWidth === 240;
    });
    await shot(g.page, "share-guest-preview");

    // Into the subfolder and back: the breadcrumbs start at the shared folder.
    await g.page.click("tr[data-name='more'] button.open");
    await g.page.waitForSelector("tr[data-name='deep.txt']");
    expect((await g.page.textContent("nav.crumbs"))?.trim()).toBe("Holiday / more");
    expect(new URL(g.page.url()).pathname).toBe(`${new URL(link).pathname}/f/${sub}`);
    await g.page.click("nav.crumbs a:has-text('Holiday')");
    await g.page.waitForSelector("tr[data-name='photo.png']");

    const [download] = await Promise.all([g.page.waitForEvent("download"), g.page.click("#share-zip")]);
    expect(download.suggestedFilename()).toBe("Holiday.zip");
    const zip = join(kit.dir, "holiday.zip");
    await download.saveAs(zip);
    const members = (await checkZip(zip)).map((m) => m.name).sort();
    expect(members).toEqual(["more/", "more/deep.txt", "notes.txt", "photo.png"]);

    // A signed-in visitor saves the folder to their own drive.
    const bob = await signedInUser(kit.server.gatewayUrl);
    const b = await open();
    await signInWithKeyboard(b.page, bob.username, bob.password);
    await b.page.goto(link);
    await b.page.fill("#share-password", "pw-4-guests");
    await b.page.keyboard.press("Enter");
    await b.page.click("button:has-text('Save to my drive')");
    await b.page.waitForSelector("#share-status:has-text('Saved Holiday to your files')");
    expect(await namesIn(bob, "")).toContain("Holiday");

    // The owner's list counts the visits and the downloads (previews mint URLs too); then revokes.
    await o.page.goto(`${kit.server.gatewayUrl}/#/shares`);
    const mine = o.page.locator("#my-shares tr.share-row", { hasText: "Holiday" });
    await mine.waitFor();
    expect(await mine.locator("td").nth(3).textContent()).toBe("2");
    await shot(o.page, "share-my-shares");
    // Edit: a download limit, shown in the list once saved.
    await mine.getByRole("button", { name: "Edit the link to Holiday" }).click();
    await o.page.fill("#edit-share-max-downloads", "100");
    await o.page.click("dialog button[type=submit]:has-text('Save')");
    await o.page.waitForSelector("#my-shares tr.share-row:has-text('of 100')");
    await mine.getByRole("button", { name: "Revoke the link to Holiday" }).click();
    await o.page.click("dialog button.danger:has-text('Revoke')");
    await o.page.waitForSelector("#my-shares .empty");

    await g.page.click("tr[data-name='notes.txt'] button.open");
    await g.page.waitForSelector("#share-alert:has-text('revoked or has expired')");
    await shot(g.page, "share-guest-revoked");
    expect([...o.errors, ...g.errors, ...b.errors]).toEqual([]);
  }, 180_000);

  test("a download limit: the second download says the link has none left", async () => {
    const owner = await signedInUser(kit.server.gatewayUrl);
    await upload(owner, "data.bin", "opaque bytes");
    const id = (
      (await connectCall(kit.server.gatewayUrl, "filestore.file.v1.FileService/ListFiles", {}, bearer(owner)))
        .json.files as { id: string }[]
    )[0]?.id;
    const created = await connectCall(
      kit.server.gatewayUrl,
      "filestore.share.v1.ShareService/CreateShare",
      { targetId: id, maxDownloads: "1" },
      bearer(owner),
    );
    const path = (created.json.share as { path: string }).path;
    const g = await open();
    await g.page.goto(`${kit.server.gatewayUrl}${path}`);
    await g.page.waitForSelector("#share-facts:has-text('1 of 1 downloads left')");
    const [download] = await Promise.all([
      g.page.waitForEvent("download"),
      g.page.click("button:has-text('Download')"),
    ]);
    expect(download.suggestedFilename()).toBe("data.bin");
    await g.page.waitForSelector("#share-facts:has-text('0 of 1 downloads left')");
    await g.page.click("button:has-text('Download')");
    await g.page.waitForSelector("#share-alert:has-text('no downloads left')");
    await shot(g.page, "share-limit-reached");
    expect(g.errors).toEqual([]);
  }, 120_000);

  test("drop link: the guest's files land in the owner's folder; the guest sees only their own", async () => {
    const owner = await signedInUser(kit.server.gatewayUrl);
    const inbox = await folder(owner, "Inbox");
    await upload(owner, "private.txt", "not for guests", inbox);
    const o = await open();
    await signInWithKeyboard(o.page, owner.username, owner.password);
    const link = await shareFromDrive(o.page, "Inbox", async () => {
      await o.page.selectOption("#new-share-mode", "drop");
    });

    const g = await open();
    await g.page.goto(link);
    await g.page.waitForSelector("#drop-zone");
    expect(await g.page.textContent("main")).not.toContain("private.txt");
    const file = kit.writeFile("report.txt", "quarterly numbers");
    await g.page.setInputFiles("#drop-picker", file);
    await g.page.waitForSelector("#drop-list li:has-text('Sent')");
    // The same file again, dragged and dropped this time: it gets a free name.
    await kit.dropFiles(g.page, [file]);
    await g.page.waitForSelector("#drop-list li:has-text('Sent as report (2).txt')");
    // A file above the page's MULTIPART_THRESHOLD (8 MiB, web/src/upload-parts.ts) goes through a drop
    // session: two parts, sent in parallel.
    const big = new Uint8Array(9 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    await g.page.setInputFiles("#drop-picker", kit.writeFile("film.bin", big));
    await g.page.waitForSelector("#drop-list li[data-via='session']:has-text('Sent')", { timeout: 60_000 });
    await shot(g.page, "share-drop");
    expect((await namesIn(owner, inbox)).sort()).toEqual([
      "film.bin",
      "private.txt",
      "report (2).txt",
      "report.txt",
    ]);
    const listed = await connectCall(
      kit.server.gatewayUrl,
      `${FILES}/ListFiles`,
      { parentId: inbox },
      bearer(owner),
    );
    const film = (listed.json.files as { name: string; sha256: string }[]).find((f) => f.name === "film.bin");
    expect(film?.sha256).toBe(new Bun.CryptoHasher("sha256").update(big).digest("hex"));
    expect([...o.errors, ...g.errors]).toEqual([]);
  }, 120_000);
});
