// The admin page's audit log: every administrative action (who, what, whom, when, from where), newest
// first, a page at a time.
import type { AuditEvent } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { admin } from "./api.ts";
import { h, mount } from "./dom.ts";
import { date } from "./format.ts";
import { listTable, section, showError, tokenPager } from "./page-parts.ts";

const PAGE = 25;

export function auditSection(): { el: HTMLElement; reload: () => void } {
  const body = h("div", { class: "table-wrap" }, h("p", { class: "muted" }, "Loading…"));
  const row = (e: AuditEvent) =>
    h(
      "tr",
      { class: "audit-event" },
      h("td", { class: "date" }, date(e.at)),
      h("td", null, e.actorUsername || e.actorId),
      h("td", { class: "action" }, e.action),
      h("td", null, e.targetUsername || e.targetId),
      h("td", null, e.clientAddress || "—"),
      h("td", { class: "details" }, e.details),
    );
  const pages = tokenPager(
    (token) => admin.listAuditEvents({ pageSize: PAGE, pageToken: token }),
    (r, pager) =>
      mount(
        body,
        r.events.length === 0
          ? h("p", { class: "muted" }, "Nothing has been recorded yet.")
          : listTable("Audit log", ["When", "Who", "Action", "Whom", "From", "Details"], r.events.map(row)),
        pager,
      ),
    (err) => showError(body, err),
    { previous: "← Newer", next: "Older →" },
  );
  pages.first();
  return { el: section("audit", "Audit log", body), reload: pages.first };
}
