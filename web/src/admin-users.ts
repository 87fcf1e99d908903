// The admin page's users: a table searched by name and paged by the server (usage against quota, files,
// last activity, the account's state), each row opening its management dialog; and creating a user.
import type { ManagedUser } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { badges, manageUser } from "./admin-user-dialog.ts";
import { admin } from "./api.ts";
import { h, mount } from "./dom.ts";
import { bytes, date, percent } from "./format.ts";
import type { Notices } from "./notices.ts";
import { actionForm, field, listTable, passwordField, section, showError, tokenPager } from "./page-parts.ts";

const PAGE = 50;

/** "1.2 GiB of 10 GiB" with a bar, or "1.2 GiB (unlimited)". */
export function usageCell(u: ManagedUser): HTMLElement {
  const used = Number(u.usedBytes);
  const quota = Number(u.quotaBytes);
  const share = quota > 0 ? percent(used, quota) : 0;
  return h(
    "td",
    { class: quota > 0 && share >= 90 ? "usage-cell full" : "usage-cell" },
    quota > 0 &&
      h("progress", { max: "100", value: String(share), "aria-label": `Storage used by ${u.username}` }),
    h(
      "span",
      null,
      quota > 0 ? `${bytes(used)} of ${bytes(quota)}` : `${bytes(used)} (unlimited)`,
      u.defaultQuota ? " · default" : "",
    ),
  );
}

export function usersSection(
  selfId: string,
  say: Notices,
  changed: () => void,
): { el: HTMLElement; reload: () => void } {
  const body = h("div", { class: "table-wrap" }, h("p", { class: "muted" }, "Loading…"));
  const search = h("input", {
    id: "user-search",
    type: "search",
    placeholder: "Search by username",
    "aria-label": "Search users",
    autocomplete: "off",
  });
  const row = (u: ManagedUser) =>
    h(
      "tr",
      { class: u.disabled ? "user-row disabled" : "user-row", "data-username": u.username },
      h("td", { class: "name" }, u.username, " ", badges(u)),
      usageCell(u),
      h("td", { class: "number" }, Number(u.files).toLocaleString()),
      h("td", { class: "date" }, u.lastActiveAt ? date(u.lastActiveAt) : "Never"),
      h(
        "td",
        { class: "buttons" },
        h(
          "button",
          {
            type: "button",
            "aria-label": `Manage ${u.username}`,
            onclick: () =>
              void manageUser(u, selfId, say, () => {
                pages.again();
                changed();
              }),
          },
          "Manage",
        ),
      ),
    );
  const pages = tokenPager(
    (token) => admin.listUsers({ query: search.value.trim(), pageSize: PAGE, pageToken: token }),
    (r, pager) =>
      mount(
        body,
        r.users.length === 0
          ? h("p", { class: "muted" }, search.value.trim() ? "No user matches." : "No users.")
          : listTable(
              "Users",
              ["Username", "Storage", "Files", "Last activity", ""],
              r.users.map(row),
              "list users",
            ),
        pager,
      ),
    (err) => showError(body, err),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(pages.first, 250);
  });
  pages.first();
  return {
    el: section("users", "Users", h("div", { class: "toolbar" }, search), body),
    reload: pages.again,
  };
}

/** Creating a user whatever the signup policy; by default they choose their own password at first signin. */
export function createUserSection(created: () => void): HTMLElement {
  const [nameLabel, username] = field("new-username", "Username", {
    required: true,
    minlength: 3,
    maxlength: 64,
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*",
  });
  const [passwordLabel, password] = passwordField(
    "new-user-password",
    "Password (at least 8 characters)",
    "new-password",
  );
  password.minLength = 8;
  const mustChange = h("input", { type: "checkbox", id: "new-user-must-change", checked: true });
  const makeAdmin = h("input", { type: "checkbox", id: "new-user-admin" });
  const { form } = actionForm(
    {
      label: "Create a user",
      submit: "Create user",
      run: async () => {
        const r = await admin.createUser({
          username: username.value,
          password: password.value,
          admin: makeAdmin.checked,
          mustChangePassword: mustChange.checked,
        });
        form.reset();
        created();
        return `Created ${r.user?.username ?? username.value}.`;
      },
    },
    nameLabel,
    username,
    passwordLabel,
    password,
    h("label", { class: "check-line" }, mustChange, "Must choose a new password at first sign-in"),
    h("label", { class: "check-line" }, makeAdmin, "Administrator"),
  );
  return section("create-user", "Create a user", form);
}
