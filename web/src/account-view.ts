// The account page (#/account): storage used, password, sign-in sessions, two-factor sign-in, app
// passwords, and deleting the account. Every call is AccountService's self-service part with the
// user's own token (see account.proto); each section loads and fails on its own.

import { appPasswordsSection } from "./account-app-passwords.ts";
import { accountDeletion, passwordChange } from "./account-security.ts";
import { sessionsSection } from "./account-sessions.ts";
import { twoFactorSection } from "./account-two-factor.ts";
import type { Session } from "./api.ts";
import { appHeader } from "./app-header.ts";
import { h, mount } from "./dom.ts";
import { notices } from "./notices.ts";
import { section } from "./page-parts.ts";
import { usageBar } from "./usage-bar.ts";

export function accountView(root: HTMLElement, session: Session): () => void {
  const { header } = appHeader(session.username, "account");
  const toast = h("p", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  const alert = h("p", { id: "alert", class: "toast error", role: "alert" });
  const say = notices(toast, alert);
  const usage = usageBar();
  usage.refresh();
  const sessions = sessionsSection(say);
  const deletion = accountDeletion(session.username);
  mount(
    root,
    header,
    h(
      "main",
      { id: "main", class: "page", tabindex: -1 },
      h("h1", null, "Your account"),
      section("storage", "Storage", usage.el),
      passwordChange(sessions.reload),
      sessions.el,
      twoFactorSection(deletion.twoFactor),
      appPasswordsSection(say),
      deletion.el,
    ),
    h("div", { class: "toasts" }, toast, alert),
  );
  return () => undefined;
}
