// The web UI in a real browser: playwright-core drives Debian's Chromium (headless, no sandbox) against the
// all-in-one server (browser-kit.ts). Screenshots of the main screens go to artifacts/screenshots/.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { browserKit, browserSuite, throttleUploads } from "./browser-kit.ts";
import { connectCall, MiB, randomBytes, sha256, signedInUser, startAllInOne, uniqueName } from "./harness.ts";

browserSuite("web UI in Chromium", () => {
  const kit = browserKit();
  const { open, shot, writeFile, dropFiles, signInWithKeyboard, row, menuAction, downloadVia } = kit;

  test("signup, signin, drop 50 MiB, list, rename, download, delete, restore", async () => {
    const { page, dialogs, errors } = await open();
    const username = uniqueName();
    const password = "correct horse battery";
    await page.getByRole("heading", { name: "Sign in to filestore" }).waitFor();
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    // The legacy signup page redirects to the same form.
    await page.goto(`${kit.server.gatewayUrl}/user/signup`);
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    await page.fill("#username", username);
    await page.fill("#password", password);
    await page.fill("#confirm", `${password}!`);
    await page.getByRole("button", { name: "Create account" }).click();
    expect(await page.$eval("#confirm", (i) => (i as HTMLInputElement).validity.valid)).toBe(false);
    await page.fill("#confirm", password);
    await shot(page, "01-signup");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Your account is ready").waitFor();
    expect(await page.inputValue("#username")).toBe(username);
    await page.fill("#password", password);
    await shot(page, "02-signin");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForSelector("#signout");

    // A failed part (503) is retried by itself. (Intercepted over CDP for this one URL only: Playwright's
    // page.route would intercept every request, and its pass-through loses large request bodies.)
    const cdp = await page.context().newCDPSession(page);
    let failedOnce = 0;
    cdp.on("Fetch.requestPaused", async (e) => {
      failedOnce++;
      await cdp.send("Fetch.fulfillRequest", {
        requestId: e.requestId,
        responseCode: 503,
        responseHeaders: [{ name: "Content-Type", value: "application/json" }],
        body: btoa('{"code":"unavailable","message":"try again"}'),
      });
      await cdp.send("Fetch.disable");
    });
    await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*/parts/3", requestStage: "Request" }] });
    // Every progress value the upload row shows, recorded in the page at each frame.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      const tick = () => {
        const bar = document.querySelector<HTMLProgressElement>("li.upload progress");
        if (bar && seen[seen.length - 1] !== bar.value) seen.push(bar.value);
        requestAnimationFrame(tick);
      };
      tick();
    });
    const data = randomBytes(50 * MiB);
    const name = "big-50MiB.bin";
    await dropFiles(page, [writeFile(name, data)]);
    await page.waitForSelector('li.upload[data-state="uploading"]', { timeout: 30_000 });
    await shot(page, "03-uploading");
    await page.waitForSelector('li.upload[data-state="done"]', { state: "attached", timeout: 60_000 });
    expect(failedOnce).toBe(1);
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    expect(seen[seen.length - 1]).toBe(100);
    expect(await page.textContent("li.upload .figures")).toStartWith("100 %");
    expect(await page.$eval("#total-progress", (p) => (p as HTMLProgressElement).value)).toBe(100);

    await row(page, name).waitFor();
    await shot(page, "04-files");

    const renamed = "renamed-50MiB.bin";
    await menuAction(page, name, "Rename");
    await page.fill("#dialog-input", renamed);
    await shot(page, "05-rename");
    await page.keyboard.press("Enter");
    await row(page, renamed).waitFor();
    expect(await row(page, name).count()).toBe(0);

    const got = await downloadVia(page, renamed);
    expect(got.length).toBe(data.length);
    expect(sha256(got)).toBe(sha256(data));

    await menuAction(page, renamed, "Delete");
    await row(page, renamed).waitFor({ state: "detached" });
    await page.click("#nav-trash");
    await row(page, renamed).waitFor();
    await shot(page, "06-trash");
    await page.getByRole("button", { name: `Restore ${renamed}`, exact: true }).click();
    await row(page, renamed).waitFor({ state: "detached" });
    await page.click("#nav-files");
    await row(page, renamed).waitFor();

    // Phones: 375 px wide, nothing sticks out sideways.
    await page.setViewportSize({ width: 375, height: 812 });
    await shot(page, "07-files-375px");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Copy link: a signed URL that works without credentials.
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await menuAction(page, renamed, "Copy link");
    await page.getByText(`Copied a download link for ${renamed}`).waitFor();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    const linked = await fetch(link);
    expect(linked.status).toBe(200);
    expect(sha256(new Uint8Array(await linked.arrayBuffer()))).toBe(sha256(data));

    await page.click("#signout");
    await page.waitForSelector("#username");
    expect(await page.evaluate(() => localStorage.getItem("filestore.session"))).toBeNull();
    expect([dialogs, errors]).toEqual([[], []]);
  }, 180_000);

  test("pause, reload, resume: only the missing parts are sent and the content matches", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    // Slow the upload down so that it can be paused in the middle.
    const cdp = await throttleUploads(page, 4 * MiB);
    const data = randomBytes(40 * MiB);
    const name = "resume-me.bin";
    const path = writeFile(name, data);
    await dropFiles(page, [path]);
    // Speed and time left show while it runs.
    await page
      .locator("li.upload .figures", { hasText: /\d (KiB|MiB)\/s · .+ left/ })
      .waitFor({ timeout: 60_000 });
    await page.locator("#total-figures", { hasText: /(KiB|MiB)\/s · about .+ left/ }).waitFor();
    // Pause once a part has arrived.
    await page
      .locator("li.upload .figures", { hasText: /[1-4] of 5 parts sent/ })
      .waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: `Pause ${name}`, exact: true }).click();
    await page.waitForSelector('li.upload[data-state="paused"]');
    const pausedAt = await page.$eval("li.upload progress", (p) => (p as HTMLProgressElement).value);
    expect(pausedAt).toBeLessThan(100);
    await shot(page, "08-paused");

    // The access token goes bad meanwhile: the app renews it with the (rotating) refresh token.
    const before = await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("filestore.session") ?? "{}");
      localStorage.setItem("filestore.session", JSON.stringify({ ...s, accessToken: "not-a-token" }));
      return s.refreshToken as string;
    });
    await throttleUploads(page, -1, cdp);
    await page.reload();
    await page.waitForSelector("#signout");
    const unfinished = page.locator(".unfinished li", { hasText: name });
    await unfinished.waitFor();
    await shot(page, "09-unfinished-after-reload");

    const puts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "PUT" && r.url().includes("/parts/")) puts.push(r.url());
    });
    await dropFiles(page, [path]);
    await page.waitForSelector('li.upload[data-state="done"]', { state: "attached", timeout: 60_000 });
    expect(await page.textContent("li.upload .note")).toContain("Resumed:");
    // 40 MiB is five parts of 8 MiB (the server's pick); at least one was on the server already.
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.length).toBeLessThan(5);
    expect(await unfinished.count()).toBe(0);
    const after = await page.evaluate(
      () => JSON.parse(localStorage.getItem("filestore.session") ?? "{}").refreshToken,
    );
    expect(after).not.toBe(before);
    await page.locator("#signout").waitFor();

    await row(page, name).waitFor();
    const got = await downloadVia(page, name);
    expect(sha256(got)).toBe(sha256(data));
    expect(errors).toEqual([]);
  }, 180_000);

  test("a file named like markup is shown as text and runs no script", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    const name = "<img src=x onerror=alert(1)>.txt";
    await dropFiles(page, [writeFile(name, new TextEncoder().encode("hello\n"))]);
    await page.waitForSelector('li.upload[data-state="done"]', { state: "attached", timeout: 30_000 });
    expect(await page.textContent("li.upload .name")).toBe(name);
    await row(page, name).waitFor();
    expect(await row(page, name).locator(".filename").textContent()).toBe(name);
    await menuAction(page, name, "Rename");
    expect(await page.textContent("#dialog-title")).toBe(`Rename file`);
    expect(await page.inputValue("#dialog-input")).toBe(name);
    await page.keyboard.press("Escape");
    await shot(page, "10-markup-name");
    // Give an injected handler every chance to fire.
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.querySelectorAll("img, script:not([src])").length)).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);

  test("instant upload: content the server has is proven, not sent; cancel drops the session", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    const data = randomBytes(6 * MiB);
    await dropFiles(page, [writeFile("first.bin", data)]);
    await page.waitForSelector('li.upload[data-state="done"]', { state: "attached", timeout: 30_000 });
    const puts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "PUT") puts.push(r.url());
    });
    await dropFiles(page, [writeFile("second.bin", data)]);
    const second = page.locator("li.upload", { hasText: "second.bin" });
    await second.and(page.locator('[data-state="done"]')).waitFor({ state: "attached", timeout: 30_000 });
    expect(await second.locator(".note").textContent()).toStartWith("Instant upload");
    expect(puts).toEqual([]);

    // Cancel in the middle of a (slowed down) upload: the row says so and nothing is left to resume.
    await throttleUploads(page, 2 * MiB);
    await dropFiles(page, [writeFile("third.bin", randomBytes(12 * MiB))]);
    const third = page.locator("li.upload", { hasText: "third.bin" });
    await third.and(page.locator('[data-state="uploading"]')).waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => JSON.parse(localStorage.getItem("filestore.uploads") ?? "[]").length === 1,
    );
    await page.getByRole("button", { name: "Cancel third.bin", exact: true }).click();
    await third.and(page.locator('[data-state="canceled"]')).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("filestore.uploads"))).toBe("[]");
    expect(errors).toEqual([]);
  }, 120_000);

  test.skipIf(!process.env.TEST_S3_ENDPOINT)(
    "S3 storage: parts go to presigned URLs, or through the gateway when the bucket has no CORS rules",
    async () => {
      const s3 = await startAllInOne({
        BLOB_BACKEND: "s3",
        S3_ENDPOINT: process.env.TEST_S3_ENDPOINT ?? "",
        S3_ACCESS_KEY: process.env.TEST_S3_ACCESS_KEY ?? "",
        S3_SECRET_KEY: process.env.TEST_S3_SECRET_KEY ?? "",
        S3_REGION: process.env.TEST_S3_REGION ?? "us-east-1",
        S3_BUCKET: uniqueName("webui").toLowerCase(),
      });
      try {
        const user = await signedInUser(s3.gatewayUrl);
        const context = await kit.browser.newContext();
        kit.contexts.push(context);
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        const direct: string[] = [];
        page.on("request", (r) => {
          if (r.method() === "PUT" && r.url().includes("X-Amz-Signature")) direct.push(r.url());
        });
        await page.goto(s3.gatewayUrl);
        await signInWithKeyboard(page, user.username, user.password);
        const data = randomBytes(12 * MiB);
        await dropFiles(page, [writeFile("on-s3.bin", data)]);
        await page.waitForSelector('li.upload[data-state="done"]', { state: "attached", timeout: 60_000 });
        expect(direct.length).toBeGreaterThan(0);
        const listed = await connectCall(
          s3.gatewayUrl,
          "filestore.file.v1.FileService/ListFiles",
          {},
          { authorization: `Bearer ${user.accessToken}` },
        );
        const files = listed.json.files as { name: string; sha256: string; size: string }[];
        expect(files.map((f) => [f.name, f.size, f.sha256])).toEqual([
          ["on-s3.bin", String(data.length), sha256(data)],
        ]);
        expect(errors).toEqual([]);
      } finally {
        // The page's WatchFiles stream would hold the server's shutdown up for its grace period.
        for (const c of kit.contexts.splice(0)) await c.close();
        await s3.stop();
      }
    },
    120_000,
  );

  test("folders: upload a folder, open it, move a file into it, sort, page", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    const album = join(mkdtempSync(join(kit.dir, "dir-")), "album");
    mkdirSync(join(album, "raw"), { recursive: true });
    writeFileSync(join(album, "a.txt"), "a");
    writeFileSync(join(album, "raw", "b.txt"), "bb");
    await page.setInputFiles("#pick-folder", album);
    await page.waitForFunction(
      () => document.querySelectorAll('li.upload[data-state="done"]').length === 2,
      undefined,
      { timeout: 30_000 },
    );
    await page.getByRole("link", { name: "album", exact: true }).click();
    await row(page, "a.txt").waitFor();
    await page.getByRole("link", { name: "raw", exact: true }).click();
    await row(page, "b.txt").waitFor();
    expect(await page.textContent("nav.crumbs")).toBe("My files / album / raw");
    await page.getByRole("link", { name: "My files" }).first().click();

    // A file at the top level, moved into the folder through the folder picker.
    await dropFiles(page, [writeFile("zzz-large.bin", randomBytes(300_000))]);
    await row(page, "zzz-large.bin").waitFor();
    await menuAction(page, "zzz-large.bin", "Move");
    await page.locator("dialog").getByRole("button", { name: "album", exact: true }).click();
    await page.locator("dialog .where", { hasText: "My files / album" }).waitFor();
    await shot(page, "11-move");
    await page.getByRole("button", { name: "Move here" }).click();
    await row(page, "zzz-large.bin").waitFor({ state: "detached" });
    await page.getByRole("link", { name: "album", exact: true }).click();
    await row(page, "zzz-large.bin").waitFor();

    // Sort (folders come first whatever the order): by name, then by size, largest first.
    const names = () => page.locator("tr.entry.file .filename").allTextContents();
    expect(await names()).toEqual(["a.txt", "zzz-large.bin"]);
    await page.getByRole("button", { name: "Size" }).click();
    await page.locator("th[aria-sort='descending']", { hasText: "Size" }).waitFor();
    expect(await names()).toEqual(["zzz-large.bin", "a.txt"]);

    // Live updates (WatchFiles): a folder made elsewhere appears by itself, and the keyboard focus stays.
    const albumId = decodeURIComponent(new URL(page.url()).hash.replace("#/folder/", ""));
    await page.getByRole("button", { name: "Actions for a.txt", exact: true }).focus();
    const made = await connectCall(
      kit.server.gatewayUrl,
      "filestore.file.v1.FileService/CreateFolder",
      { parentId: albumId, name: "made elsewhere" },
      { authorization: `Bearer ${user.accessToken}` },
    );
    expect(made.status).toBe(200);
    await page.getByRole("link", { name: "made elsewhere", exact: true }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      "Actions for a.txt",
    );

    // Paging: 51 folders at the top level are two pages of 50.
    for (let i = 0; i < 51; i++) {
      const r = await connectCall(
        kit.server.gatewayUrl,
        "filestore.file.v1.FileService/CreateFolder",
        { name: `f${String(i).padStart(2, "0")}` },
        { authorization: `Bearer ${user.accessToken}` },
      );
      expect(r.status).toBe(200);
    }
    await page.getByRole("link", { name: "My files" }).first().click();
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 2").waitFor();
    expect(await page.locator("tr.entry").count()).toBe(2); // album + one of the f-folders
    await page.getByRole("button", { name: "← Previous" }).click();
    await page.getByText("Page 1").waitFor();
    expect(await page.locator("tr.entry").count()).toBe(50);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  test("the gateway serves the app with a strict Content-Security-Policy and revalidation", async () => {
    const res = await fetch(kit.server.gatewayUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const etag = res.headers.get("etag") ?? "";
    const again = await fetch(`${kit.server.gatewayUrl}/`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${kit.server.gatewayUrl}/assets/app.js`)).headers.get("content-type")).toContain(
      "javascript",
    );
    expect((await fetch(`${kit.server.gatewayUrl}/assets/nope.js`)).status).toBe(404);
  });
});
