// The admin page in Chromium (issue 17), on an instance with SIGNUP=invite: the administrator named in
// ADMIN_USERS signs up without a code and sees the admin page; a code they create lets a second browser
// sign up (none refused it); another is revoked; a user is created (a taken name refused with the
// server's message); the admin sets the invited user's quota (the user's usage line shows it), disables
// them (their page is signed out, signin refused with the message), enables them, grants and revokes the
// admin role, resets their password (the next signin makes them choose a new one), deletes them; the
// audit log and the instance statistics show it all. All-in-one only: the page is the same in both
// modes. Screenshots at 1280×800 and 375×800 (artifacts/screenshots).
import { expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { browserKit, browserSuite, type Watched } from "./browser-kit.ts";
import { uniqueName } from "./harness.ts";

const ADMIN = uniqueName("boss");
const PASSWORD = "correct horse battery";

browserSuite("web UI: the admin page", () => {
  const kit = browserKit({ env: { SIGNUP: "invite", ADMIN_USERS: ADMIN } });
  const { open, shot } = kit;
  let boss: Watched;
  let guest: Watched;
  const guestName = uniqueName("guest");
  let guestPassword = PASSWORD;

  const noSidewaysScroll = async (page: Page) =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      page.viewportSize()?.width ?? 0,
    );
  /** Fills the signup form (the page shows it) and submits it. */
  async function signUp(page: Page, username: string, password: string) {
    await page.locator("#username").fill(username);
    await page.locator("#password").fill(password);
    await page.locator("#confirm").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
  }
  async function signIn(page: Page, username: string, password: string) {
    await page.locator("#username").fill(username);
    await page.locator("#password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  }
  /** Moves between the guest's views until the page notices the session ended (revocation takes ~1 s). */
  async function untilSignedOut(page: Page) {
    for (const end = Date.now() + 20_000; Date.now() < end; ) {
      if (await page.locator("#username").count()) return;
      await page
        .click((await page.locator("#nav-trash[aria-current]").count()) ? "#nav-files" : "#nav-trash", {
          timeout: 2000,
        })
        .catch(() => undefined);
      await page.waitForTimeout(300);
    }
    await page.locator("#username").waitFor({ timeout: 1000 });
  }
  const dialog = () => boss.page.locator("dialog.manage-user[open]");
  const result = () => dialog().locator("> .notice");
  async function manageGuest(): Promise<Locator> {
    const page = boss.page;
    if (await dialog().count()) return dialog();
    await page.getByRole("searchbox", { name: "Search users" }).fill(guestName);
    await page.waitForFunction(() => document.querySelectorAll("tr.user-row").length === 1);
    await page.getByRole("button", { name: `Manage ${guestName}`, exact: true }).click();
    await dialog().waitFor();
    return dialog();
  }
  const auditActions = () => boss.page.locator("tr.audit-event td.action").allTextContents();

  test("the named administrator signs up without a code and sees the admin page; an invite lets another browser sign up", async () => {
    boss = await open();
    const page = boss.page;
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Invite code").waitFor();
    await signUp(page, ADMIN, PASSWORD);
    await page.getByText("Your account is ready").waitFor();
    await page.locator("#password").fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#signout");
    await page.getByRole("link", { name: "Admin", exact: true }).click();
    await page.getByRole("heading", { name: "Administration" }).waitFor();
    const stats = page.getByRole("definition").first();
    await stats.waitFor();
    expect(await stats.textContent()).toBe("1 (1 admin, 0 disabled)");
    // The users table loads beside the statistics: wait for its first row before counting.
    await page.locator("tr.user-row").first().waitFor();
    expect(await page.locator("tr.user-row").count()).toBe(1);
    expect(await page.locator("tr.user-row").textContent()).toContain("Admin");

    // An invite, its code shown once.
    await page.getByLabel("Note (whom it is for)").fill(`for ${guestName}`);
    await page.getByRole("button", { name: "Create invite" }).click();
    const code = await page.locator("#new-invite-code").inputValue();
    const link = await page.locator("#new-invite-link").inputValue();
    expect(code.length).toBeGreaterThanOrEqual(16);
    expect(link).toBe(`${kit.server.gatewayUrl}/?view=signup&invite=${encodeURIComponent(code)}`);
    await page.locator("tr.invite", { hasText: `for ${guestName}` }).waitFor();
    await shot(page, "60-admin");

    // Another browser: no code, refused; the link fills the code in.
    guest = await open();
    const other = guest.page;
    await other.getByRole("button", { name: "Create an account" }).click();
    await signUp(other, guestName, guestPassword);
    await other.getByText("Signing up needs an invite code from an administrator.").waitFor();
    expect(await other.locator("#signout").count()).toBe(0);
    await other.goto(link);
    expect(await other.getByLabel("Invite code").inputValue()).toBe(code);
    await signUp(other, guestName, guestPassword);
    await other.getByText("Your account is ready").waitFor();
    await other.locator("#password").fill(guestPassword);
    await other.keyboard.press("Enter");
    await other.waitForSelector("#signout");
    expect(await other.locator("#nav-admin").isVisible()).toBe(false);
    // The invite is used up: listed as used with the inactive ones.
    await page.getByLabel("Show used and expired invites").check();
    await page.locator("tr.invite", { hasText: `${guestName},` }).waitFor();

    // Another invite, revoked: gone from the active ones.
    await page.getByLabel("Show used and expired invites").uncheck();
    await page.getByLabel("Note (whom it is for)").fill("never used");
    await page.getByRole("button", { name: "Create invite" }).click();
    await page.getByRole("button", { name: "Revoke invite never used" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Revoke" }).click();
    await page.getByText("No invites.").waitFor();

    // Creating a user; a taken name is refused with the server's message.
    const made = uniqueName("made");
    await page.getByLabel("Username", { exact: true }).fill(made);
    await page.getByLabel("Password (at least 8 characters)").fill(PASSWORD);
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText(`Created ${made}.`).waitFor();
    await page.locator("tr.user-row", { hasText: made }).getByText("Must change password").waitFor();
    await page.getByLabel("Username", { exact: true }).fill(made);
    await page.getByLabel("Password (at least 8 characters)").fill(PASSWORD);
    await page.getByRole("button", { name: "Create user" }).click();
    expect(await page.locator("#create-user [role=alert]").filter({ hasText: /\S/ }).textContent()).toMatch(
      /taken|exists/i,
    );
    expect([boss.errors, guest.errors]).toEqual([[], []]);
  }, 120_000);

  test("quota, disable and enable, the admin role, a reset password changed at signin, delete; audit and stats", async () => {
    const page = boss.page;
    const other = guest.page;
    let d = await manageGuest();
    await d.getByLabel("Custom").check();
    await d.getByLabel("Amount", { exact: true }).fill("1.5");
    await d.getByLabel("Unit", { exact: true }).selectOption("MiB");
    await d.getByRole("button", { name: "Save quota" }).click();
    await result().getByText(`Quota of ${guestName}: 1.5 MiB.`).waitFor();
    await shot(page, "61-admin-manage-user");
    await page.keyboard.press("Escape");
    await page.locator("tr.user-row", { hasText: "of 1.5 MiB" }).waitFor();
    // The user's own usage line says so.
    await other.reload();
    await other.locator("[data-testid=usage]").getByText("0 B of 1.5 MiB used").waitFor();

    // Disabled: the guest's page is signed out and signin is refused with the reason.
    d = await manageGuest();
    await d.getByLabel("Reason (kept in the audit log)").fill("e2e check");
    await d.getByRole("button", { name: "Disable account" }).click();
    await result().getByText(`Disabled ${guestName}`).waitFor();
    await untilSignedOut(other);
    await signIn(other, guestName, guestPassword);
    await other.getByText("This account has been disabled by an administrator.").waitFor();
    await shot(other, "62-signin-disabled");

    // Enabled again: signin works.
    await d.getByRole("button", { name: "Enable account" }).click();
    await result().getByText(`Enabled ${guestName}.`).waitFor();
    await signIn(other, guestName, guestPassword);
    await other.waitForSelector("#signout");

    // The admin role, granted and revoked.
    await d.getByRole("button", { name: "Make administrator" }).click();
    await result().getByText(`${guestName} is now an administrator.`).waitFor();
    await d.getByRole("button", { name: "Remove administrator role" }).click();
    await result().getByText(`${guestName} is no longer an administrator.`).waitFor();

    // A reset password: shown once; the guest is signed out and must choose a new one at signin.
    await d.getByRole("button", { name: "Reset password" }).click();
    await page
      .locator("dialog[open]", { hasText: "must choose a new password" })
      .getByRole("button", {
        name: "Reset password",
      })
      .click();
    const temporary = await page.locator("#temporary-password").inputValue();
    expect(temporary.length).toBeGreaterThanOrEqual(8);
    await untilSignedOut(other);
    await signIn(other, guestName, temporary);
    await other.getByText("An administrator set your password. Choose a new one to continue.").waitFor();
    await shot(other, "63-signin-new-password");
    guestPassword = "my own new password";
    await other.getByLabel("New password (at least 8 characters)").fill(guestPassword);
    await other.getByLabel("Confirm new password").fill(guestPassword);
    await other.getByRole("button", { name: "Sign in", exact: true }).click();
    await other.waitForSelector("#signout");

    // Deleted (typing the name): gone from the list; the guest's page is signed out.
    await d.getByLabel(`Type ${guestName} to delete this account for good`).fill(guestName);
    await d.getByRole("button", { name: "Delete account" }).click();
    await dialog().waitFor({ state: "detached" });
    await page.getByText(`Deleted ${guestName}`).waitFor();
    await page.getByText("No user matches.").waitFor();
    await untilSignedOut(other);

    // The audit log (newest first) and the statistics.
    await page.waitForFunction(
      () => document.querySelector("tr.audit-event td.action")?.textContent === "user.delete",
    );
    expect(await auditActions()).toEqual([
      "user.delete",
      "user.reset_password",
      "user.admin",
      "user.admin",
      "user.enable",
      "user.disable",
      "user.quota",
      "user.create",
      "invite.revoke",
      "invite.create",
      "invite.create",
    ]);
    expect(await page.locator("tr.audit-event").first().textContent()).toContain(ADMIN);
    // The statistics (cached by meta for a few seconds: their numbers may lag the changes).
    expect(await page.getByRole("definition").first().textContent()).toMatch(
      /^\d+ \(\d+ admin, \d+ disabled\)$/,
    );
    expect(await page.locator("dl.stats dt").allTextContents()).toContain("Dedup ratio");
    await page.getByRole("searchbox", { name: "Search users" }).fill("");
    await page.locator("tr.user-row").first().waitFor();
    await shot(page, "64-admin-audit");
    await page.setViewportSize({ width: 375, height: 800 });
    await shot(page, "65-admin-375px");
    await noSidewaysScroll(page);
    expect([boss.errors, guest.errors]).toEqual([[], []]);
  }, 180_000);
});
