// The top bar every signed-in page shares: the views (My files, Trash, Shares, Account, and Admin for
// administrators), who is signed in, and Sign out. Whether the user is an administrator is asked once
// per page (GetUserInfo): the role can change while a tab is open, and the admin page's calls are
// checked by the server anyway.
import { account, auth } from "./api.ts";
import { h } from "./dom.ts";

export type AppView = "files" | "trash" | "shares" | "account" | "admin";

export interface AppHeader {
  header: HTMLElement;
  navFiles: HTMLAnchorElement;
  navTrash: HTMLAnchorElement;
}

export function appHeader(username: string, current?: AppView): AppHeader {
  const link = (view: AppView, href: string, label: string) =>
    h("a", { href, id: `nav-${view}`, "aria-current": view === current ? "page" : undefined }, label);
  const navFiles = link("files", "#/", "My files");
  const navTrash = link("trash", "#/trash", "Trash");
  const navAdmin = link("admin", "#/admin", "Admin");
  navAdmin.hidden = true;
  const views = h(
    "nav",
    { class: "views", "aria-label": "Views" },
    navFiles,
    navTrash,
    link("shares", "#/shares", "Shares"),
    link("account", "#/account", "Account"),
    navAdmin,
  );
  account
    .getUserInfo({})
    .then((r) => {
      navAdmin.hidden = !r.user?.admin;
    })
    // Only the link depends on it: without an answer it stays hidden.
    .catch(() => undefined);
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/" }, "filestore"),
    views,
    h(
      "span",
      { class: "who" },
      h("span", { class: "user", title: "Signed in as" }, username),
      h("button", { type: "button", id: "signout", onclick: () => void auth.signout() }, "Sign out"),
    ),
  );
  return { header, navFiles, navTrash };
}
