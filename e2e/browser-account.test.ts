// The account page in Chromium (issue 17): an upload under way goes on while it is open; the sessions list (this device marked, the other one
// revoked: its refresh token stops working), a password change (it says how many other sessions ended;
// the old password fails from then on), app passwords (the secret shown once, listed, revoked), and
// two-factor sign-in (the secret read off the page, the code computed here with otpauth; sign-in then
// asks for a code; a recovery code turns it off), and deleting the account. All-in-one only: the page is the same in both
// modes. Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Secret, TOTP } from "otpauth";
import type { Page } from "playwright-core";
import { browserKit, browserSuite, throttleUploads } from "./browser-kit.ts";
import { ACCOUNT, connectCall, MiB, randomBytes, signedInUser } from "./harness.ts";

/** The code an authenticator app shows for `secret`, `ahead` steps of 30 s from now. */
const codeOf = (secret: string, ahead = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({
    timestamp: Date.now() + ahead * 30_000,
  });

browserSuite("web UI: the account page", () => {
  const kit = browserKit();
  const { open, shot, signInWithKeyboard, dropFiles, writeFile, row } = kit;
  const call = (method: string, body: unknown, token?: string) =>
    connectCall(
      kit.server.gatewayUrl,
      `${ACCOUNT}/${method}`,
      body,
      token ? { authorization: `Bearer ${token}` } : {},
    );
  const noSidewaysScroll = async (page: Page) =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      page.viewportSize()?.width ?? 0,
    );
  const toAccount = async (page: Page) => {
    await page.getByRole("link", { name: "Account", exact: true }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
  };

  test("sessions: this device and another, revoke the other; change password; app passwords", async () => {
    // Signed up and in through the API: that sign-in is the other session.
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    // An upload under way goes on while the account page is open (slowed down so that it is).
    const cdp = await throttleUploads(page, 512 * 1024);
    await dropFiles(page, [writeFile("while-away.bin", randomBytes(3 * MiB))]);
    await page.locator('#uploads li.upload[data-state="uploading"]').waitFor();
    await toAccount(page);
    const sessions = page.locator("tr.session");
    await page.waitForFunction(() => document.querySelectorAll("tr.session").length === 2);
    expect(await page.locator("tr.session.current").textContent()).toContain("This device");
    expect(await page.locator("tr.session.current").textContent()).toContain("Headless Chrome on Linux");
    expect(await page.locator("tr.session.current td").nth(3).textContent()).toBe("127.0.0.1");
    await page.locator("#storage .usage").getByText("used").waitFor();
    await shot(page, "50-account");
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "51-account-375px");
    await noSidewaysScroll(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await throttleUploads(page, -1, cdp);
    await page.getByRole("link", { name: "My files", exact: true }).click();
    await page.locator('#uploads li.upload[data-state="done"]').waitFor({ timeout: 60_000 });
    await row(page, "while-away.bin").waitFor();
    await toAccount(page);

    // Revoke the other one: its refresh token stops working; this page goes on.
    await page
      .locator("tr.session:not(.current)")
      .getByRole("button", { name: /^Revoke / })
      .click();
    await page.locator("dialog[open]").getByRole("button", { name: "Revoke" }).click();
    await page.waitForFunction(() => document.querySelectorAll("tr.session").length === 1);
    expect(await sessions.count()).toBe(1);
    expect((await call("Refresh", { refreshToken: user.refreshToken })).status).toBe(401);

    // Another sign-in elsewhere, then the password change signs it out and says so.
    const elsewhere = await call("Signin", { username: user.username, password: user.password });
    expect(elsewhere.status).toBe(200);
    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password (at least 8 characters)").fill("a brand new secret");
    await page.getByLabel("Confirm new password").fill("a brand new secret");
    await page.getByRole("button", { name: "Change password" }).click();
    await page
      .locator("#password [role=alert]")
      .getByText(/password/i)
      .waitFor();
    await page.getByLabel("Current password").fill(user.password);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed. 1 other session was signed out.").waitFor();
    expect((await call("Signin", { username: user.username, password: user.password })).status).toBe(401);
    const refreshed = await call("Refresh", {
      refreshToken: (elsewhere.json.tokens as { refreshToken: string }).refreshToken,
    });
    expect(refreshed.status).toBe(401);
    // This page's session lives on (the list is drawn again from the server).
    await page.waitForFunction(() => document.querySelectorAll("tr.session").length === 1);

    // App passwords: created with a name, its secret shown once, listed unused, revoked.
    await page.getByLabel("Name (where you will use it)").fill("rclone on the laptop");
    await page.getByRole("button", { name: "Create app password" }).click();
    const secret = await page.locator("#app-password-secret").inputValue();
    expect(secret).toMatch(/^fsa_/);
    const appRow = page.locator("tr.app-password", { hasText: "rclone on the laptop" });
    await appRow.waitFor();
    expect(await appRow.textContent()).toContain("Never");
    await shot(page, "52-account-app-password");
    const tokens = (await call("Signin", { username: user.username, password: "a brand new secret" })).json
      .tokens as { accessToken: string };
    const listed = await call("ListAppPasswords", {}, tokens.accessToken);
    expect((listed.json.appPasswords as { name: string }[]).map((p) => p.name)).toEqual([
      "rclone on the laptop",
    ]);
    await appRow.getByRole("button", { name: "Revoke rclone on the laptop" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Revoke" }).click();
    await page.getByText("No app passwords yet.").waitFor();
    expect((await call("ListAppPasswords", {}, tokens.accessToken)).json.appPasswords ?? []).toEqual([]);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);

  test("two-factor: enrol from the page's secret, sign-in asks for a code, new recovery codes replace the old ones and one turns it off; delete the account", async () => {
    const user = await signedInUser(kit.server.gatewayUrl);
    const { page, dialogs, errors } = await open();
    await signInWithKeyboard(page, user.username, user.password);
    await toAccount(page);
    expect(await page.locator("#totp-state").textContent()).toBe("Two-factor sign-in is off.");
    await page.locator("#totp-password").fill(user.password);
    await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
    // The QR code renders (an SVG image under the page's CSP) next to the key for typing by hand.
    const qr = page.getByRole("img", { name: "QR code of the two-factor secret" });
    await qr.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("img.qr");
      return !!img && img.complete && img.naturalWidth > 0;
    });
    const secret = await page.getByLabel("Or type this key into the app").inputValue();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await shot(page, "53-account-2fa-enrol");
    await page.getByLabel("Code from your app").fill(codeOf(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByRole("list", { name: "Recovery codes" }).locator("li");
    await codes.first().waitFor();
    const recovery = await codes.allTextContents();
    expect(recovery).toHaveLength(10);
    for (const c of recovery) expect(c).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download codes" }).click(),
    ]);
    const saved = join(kit.dir, "recovery.txt");
    await download.saveAs(saved);
    expect(readFileSync(saved, "utf8")).toContain(recovery[9] as string);
    await shot(page, "54-account-2fa-recovery-codes");
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("10 recovery codes left.").waitFor();

    // Signing in again: the password, then the code the page asks for. A wrong code is refused.
    await page.click("#signout");
    await page.locator("#username").fill(user.username);
    await page.locator("#password").fill(user.password);
    await page.keyboard.press("Enter");
    const code = page.getByLabel("Code from your authenticator app (or a recovery code)");
    await code.waitFor();
    expect(await page.locator("[role=status]").first().textContent()).toBe(
      "Enter the code from your authenticator app.",
    );
    await shot(page, "55-signin-second-factor");
    const valid = new Set([-1, 0, 1].map((s) => codeOf(secret, s)));
    const wrong = ["123456", "654321", "111111", "222222"].find((c) => !valid.has(c)) as string;
    await code.fill(wrong);
    await page.keyboard.press("Enter");
    await page.locator("main [role=alert]").filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator("#signout").count()).toBe(0);
    // The step after the one the enrolment used (a code is accepted once).
    const signinStep = Math.floor(Date.now() / 30_000) + 1;
    await code.fill(codeOf(secret, 1));
    await page.keyboard.press("Enter");
    await page.waitForSelector("#signout");

    // Turning it off needs the password and a code: a recovery code here. Deleting the account then
    // needs no code (the field goes away).
    await toAccount(page);
    await page.getByText("10 recovery codes left.").waitFor();
    expect(await page.locator("#delete-code").isVisible()).toBe(true);
    // New recovery codes: the password and the next code; shown once, in place of the old ones.
    await page.locator("#totp-codes-password").fill(user.password);
    // A code of a later step than the sign-in's (used): the next step must have begun for one to be valid.
    while (Math.floor(Date.now() / 30_000) < signinStep) await Bun.sleep(500);
    await page.locator("#totp-codes-code").fill(codeOf(secret, 1));
    await page.getByRole("button", { name: "Get new recovery codes" }).click();
    await codes.first().waitFor();
    const fresh = await codes.allTextContents();
    expect([fresh.length, fresh.filter((c) => recovery.includes(c))]).toEqual([10, []]);
    await shot(page, "56-account-2fa-new-recovery-codes");
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("10 recovery codes left.").waitFor();
    // An old recovery code no longer turns it off; a new one does.
    await page.locator("#totp-off-password").fill(user.password);
    await page.locator("#totp-off-code").fill(recovery[0] as string);
    await page.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
    await page.getByText("wrong or already used two-factor code", { exact: false }).first().waitFor();
    await page.locator("#totp-off-code").fill(fresh[0] as string);
    await page.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
    await page.getByText("Two-factor sign-in is off.").waitFor();
    expect(await page.locator("#delete-code").isVisible()).toBe(false);
    await page.locator("#delete-password").fill(user.password);
    await page.getByLabel(`Type your username (${user.username}) to confirm`).fill(user.username);
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByText(/^Your account was deleted/).waitFor();
    expect((await call("Signin", { username: user.username, password: user.password })).status).toBe(401);
    expect([dialogs, errors]).toEqual([[], []]);
  }, 120_000);
});
