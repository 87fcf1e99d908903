// The public page of a share link (/s/<id>, and /s/<id>/f/<folder id> inside a shared folder), no login
// needed: it opens the link (asking for a password when the bare link does not open: the server never
// says which links exist, so "needs a password" and "gone" look alike until a password is tried), then
// shows who shares what (owner, name, size, expiry) and hands over to share-browse.ts (view links) or
// share-drop.ts (drop links). The share token lives in this page's memory only.
import { ShareMode } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { auth, visitorShares } from "./api.ts";
import { h, mount } from "./dom.ts";
import { passwordField } from "./page-parts.ts";
import { browseShare } from "./share-browse.ts";
import { dropPage } from "./share-drop.ts";
import { shareProblem } from "./share-errors.ts";
import { type OpenedShare, shareRouteOf } from "./share-visit.ts";

function pageFrame(root: HTMLElement): HTMLElement {
  const session = auth.current();
  const main = h("main", { id: "main", class: "page share-page", tabindex: -1 });
  mount(
    root,
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "/" }, "filestore"),
      h(
        "span",
        { class: "who" },
        session
          ? [h("span", { class: "user" }, session.username), h("a", { href: "/#/" }, "My files")]
          : h("a", { href: "/", id: "share-signin" }, "Sign in"),
      ),
    ),
    main,
  );
  root.removeAttribute("aria-busy");
  return main;
}

/** Shows the share page for the current URL in `root`. */
export function sharePage(root: HTMLElement): void {
  const main = pageFrame(root);
  const route = shareRouteOf(location.pathname);
  if (!route) {
    mount(
      main,
      h("h1", null, "Shared link"),
      h("p", { class: "error", role: "alert" }, "This link is not valid."),
    );
    return;
  }
  void open(main, route.id, "", true);
}

/** Opens the link with `password`; `first`: the bare link, before any password was asked for. */
async function open(main: HTMLElement, id: string, password: string, first: boolean): Promise<void> {
  if (first) mount(main, h("p", { class: "muted" }, "Opening the link…"));
  try {
    const info = await visitorShares.openShare({ id, password });
    show(main, { id, token: info.shareToken, info });
  } catch (err) {
    const problem = shareProblem(err);
    if (problem.kind !== "gone") {
      mount(main, h("h1", null, "Shared link"), h("p", { class: "error", role: "alert" }, problem.message));
      return;
    }
    askPassword(main, id, first ? undefined : problem.message);
  }
}

function askPassword(main: HTMLElement, id: string, error?: string): void {
  const [label, input] = passwordField("share-password", "Password");
  const failed = h("p", { class: "error", role: "alert", id: "share-password-error" }, error ?? "");
  const button = h("button", { type: "submit", class: "primary" }, "Open");
  mount(
    main,
    h("h1", null, "This link is protected"),
    h(
      "p",
      { class: "muted" },
      "Enter the password you were given with the link. A link that was revoked or has expired cannot be opened with any password.",
    ),
    h(
      "form",
      {
        class: "share-password",
        onsubmit: (e: Event) => {
          e.preventDefault();
          button.disabled = true;
          void open(main, id, input.value, false);
        },
      },
      label,
      input,
      button,
      failed,
    ),
  );
  queueMicrotask(() => input.focus());
}

function show(main: HTMLElement, s: OpenedShare): void {
  if (s.info.mode === ShareMode.DROP) dropPage(main, s);
  else browseShare(main, s);
}
