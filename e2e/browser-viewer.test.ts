// The file viewer in Chromium (issue 16): an image, a text file (an HTML file shown as text: nothing of
// it runs or renders), a video that seeks over ranged requests, next/previous, Escape; the rest shows
// details and a download button. Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import sharp from "sharp";
import { browserKit, browserSuite } from "./browser-kit.ts";
import { signedInUser } from "./harness.ts";

/** A WebM clip of a few seconds, recorded from a canvas by the browser itself (no ffmpeg needed). */
const recordClip = () =>
  new Promise<number[]>((resolve, reject) => {
    const canvas = document.createElement("canvas");
    canvas.width = 160;
    canvas.height = 120;
    const g = canvas.getContext("2d") as CanvasRenderingContext2D;
    const rec = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm;codecs=vp8" });
    const chunks: Blob[] = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    rec.onerror = () => reject(new Error("recording failed"));
    rec.onstop = async () => resolve([...new Uint8Array(await new Blob(chunks).arrayBuffer())]);
    let frame = 0;
    const timer = setInterval(() => {
      g.fillStyle = `hsl(${(frame * 9) % 360} 70% 50%)`;
      g.fillRect(0, 0, 160, 120);
      g.fillStyle = "#fff";
      g.fillText(String(frame++), 70, 60);
    }, 40);
    rec.start(250);
    setTimeout(() => {
      clearInterval(timer);
      rec.stop();
    }, 3000);
  });

browserSuite("web UI: the file viewer", () => {
  const kit = browserKit();
  const { open, shot, writeFile, dropFiles, signInWithKeyboard, row } = kit;

  test("image, text (HTML shown as text), video seek over 206, next/previous, Escape, details", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    const png = await sharp({
      create: { width: 320, height: 200, channels: 3, background: { r: 30, g: 120, b: 200 } },
    })
      .png()
      .toBuffer();
    const html =
      '<h1 id="boom">hi</h1><script>window.pwned = 1; alert("x")</script><img src=x onerror="window.pwned=2">\n';
    const clip = new Uint8Array(await page.evaluate(recordClip));
    expect(clip.length).toBeGreaterThan(1000);
    await dropFiles(page, [
      writeFile("a-picture.png", png),
      writeFile("b-page.html", html),
      writeFile("c-clip.webm", clip),
      writeFile("d-data.bin", "opaque"),
    ]);
    await page.waitForFunction(() => document.querySelectorAll("tr.entry.file").length === 4, undefined, {
      timeout: 30_000,
    });
    const statuses: number[] = [];
    const ranges: string[] = [];
    page.on("response", (r) => {
      if (!r.url().includes("/download/")) return;
      statuses.push(r.status());
      ranges.push(r.request().headers().range ?? "");
    });

    // The image: an <img> that loaded.
    await row(page, "a-picture.png").getByRole("button", { name: "a-picture.png", exact: true }).click();
    const viewer = page.locator("dialog.viewer");
    await viewer.locator("img.viewer-image").waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("dialog.viewer img");
      return !!img && img.complete && img.naturalWidth === 320;
    });
    expect(await viewer.locator(".viewer-count").textContent()).toBe("1 of 4");
    await shot(page, "30-viewer-image");

    // → the HTML file, fetched with a Range of the first MiB and shown as text.
    await page.keyboard.press("ArrowRight");
    await viewer.locator("pre.viewer-text").waitFor();
    expect(await viewer.locator("pre.viewer-text").textContent()).toBe(html);
    expect(ranges).toContain("bytes=0-1048575");
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#boom, dialog.viewer img, script:not([src])").count()).toBe(0);
    await shot(page, "31-viewer-text");

    // → the video: it plays from ranged answers (206) and a seek moves it.
    await page.keyboard.press("ArrowRight");
    const video = viewer.locator("video");
    await video.waitFor();
    await page.waitForFunction(
      () => (document.querySelector("dialog.viewer video") as HTMLVideoElement).readyState >= 1,
      undefined,
      { timeout: 20_000 },
    );
    const at = await video.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<number>((resolve) => {
          v.addEventListener("seeked", () => resolve(v.currentTime), { once: true });
          v.currentTime = 1.5;
        }),
    );
    expect(at).toBeGreaterThan(1);
    expect(statuses).toContain(206);
    await shot(page, "32-viewer-video");

    // → a file with no preview: details and a download button; ← goes back; Escape closes.
    await page.locator("dialog.viewer .viewer-stage").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("ArrowRight");
    await viewer.getByRole("button", { name: "Download d-data.bin" }).waitFor();
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "33-viewer-details-375px");
    await page.keyboard.press("ArrowLeft");
    await video.waitFor();
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("ArrowLeft");
    await viewer.locator("img.viewer-image").waitFor();
    await shot(page, "34-viewer-image-375px");
    await page.keyboard.press("Escape");
    await viewer.waitFor({ state: "detached" });
    // Enter on a focused row opens the viewer too.
    await row(page, "b-page.html").getByRole("button", { name: "b-page.html", exact: true }).focus();
    await page.keyboard.press("Enter");
    await viewer.locator("pre.viewer-text").waitFor();
    await page.keyboard.press("Escape");
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);
});
