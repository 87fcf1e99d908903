// "My shares" (#/shares): every link the user made, with its views, downloads and last access, paged;
// copy, edit or revoke each (share-links.ts).
import type { Session } from "./api.ts";
import { shares } from "./api.ts";
import { appHeader } from "./app-header.ts";
import { h, mount } from "./dom.ts";
import { notices } from "./notices.ts";
import { listTable, showError, tokenPager } from "./page-parts.ts";
import { shareHeadings, shareRow } from "./share-links.ts";

export function sharesView(root: HTMLElement, session: Session): () => void {
  const { header } = appHeader(session.username, "shares");
  const toast = h("p", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  const alert = h("p", { id: "alert", class: "toast error", role: "alert" });
  const say = notices(toast, alert);
  const body = h("div", { class: "table-wrap", id: "my-shares" }, h("p", { class: "muted" }, "Loading…"));
  const pages = tokenPager(
    (pageToken) => shares.listShares({ pageSize: 50, pageToken }),
    (page, pager) =>
      mount(
        body,
        page.shares.length === 0
          ? h("p", { class: "empty" }, "You have not shared anything yet. Use Share in an item's ⋯ menu.")
          : listTable(
              "Your share links",
              shareHeadings("page"),
              page.shares.map((s) => shareRow(say, s, () => pages.again(), "page")),
            ),
        pager,
      ),
    (err) => showError(body, err),
  );
  pages.first();
  mount(
    root,
    header,
    h("main", { id: "main", class: "page", tabindex: -1 }, h("h1", null, "My shares"), body),
    h("div", { class: "toasts" }, toast, alert),
  );
  return () => undefined;
}
