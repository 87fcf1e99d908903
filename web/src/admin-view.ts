// The admin page (#/admin), for administrators only (GetUserInfo's user.admin; the server checks every
// AdminService call again): instance statistics, the users (search, paging, and per user: quota,
// disable/enable, password reset, the admin role, delete), creating a user, invite codes and the audit
// log. Each section loads and fails on its own; a change reloads the sections it affects.
import { auditSection } from "./admin-audit.ts";
import { invitesSection } from "./admin-invites.ts";
import { statsSection } from "./admin-stats.ts";
import { createUserSection, usersSection } from "./admin-users.ts";
import { account, type Session } from "./api.ts";
import { appHeader } from "./app-header.ts";
import { h, mount } from "./dom.ts";
import { notices } from "./notices.ts";
import { showError } from "./page-parts.ts";

export function adminView(root: HTMLElement, session: Session): () => void {
  const { header } = appHeader(session.username, "admin");
  const toast = h("p", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  const alert = h("p", { id: "alert", class: "toast error", role: "alert" });
  const say = notices(toast, alert);
  const main = h(
    "main",
    { id: "main", class: "page", tabindex: -1 },
    h("h1", null, "Administration"),
    h("p", { class: "muted" }, "Loading…"),
  );
  mount(root, header, main, h("div", { class: "toasts" }, toast, alert));
  account
    .getUserInfo({})
    .then(({ user }) => {
      if (!user?.admin) {
        mount(
          main,
          h("h1", null, "Administration"),
          h("p", { class: "error", role: "alert" }, "Only administrators can see this page."),
        );
        return;
      }
      const stats = statsSection();
      const audit = auditSection();
      const changed = () => {
        stats.reload();
        audit.reload();
      };
      const users = usersSection(session.userId, say, changed);
      const invites = invitesSection(say, audit.reload);
      mount(
        main,
        h("h1", null, "Administration"),
        stats.el,
        users.el,
        createUserSection(() => {
          users.reload();
          changed();
        }),
        invites,
        audit.el,
      );
    })
    .catch((err) => showError(main, err));
  return () => undefined;
}
