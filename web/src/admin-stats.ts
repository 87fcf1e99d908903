// The admin page's instance statistics: users, files, what users are charged (logical bytes) against
// what the backends hold (stored bytes: each blob once), the dedup ratio, and each backend's share.
import { admin } from "./api.ts";
import { h, mount } from "./dom.ts";
import { bytes } from "./format.ts";
import { listTable, section, showError } from "./page-parts.ts";

export function statsSection(): { el: HTMLElement; reload: () => void } {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const item = (term: string, value: string) => [h("dt", null, term), h("dd", null, value)];
  const reload = () => {
    admin
      .getInstanceStats({})
      .then((s) => {
        const n = (v: bigint) => Number(v).toLocaleString();
        mount(
          body,
          h(
            "dl",
            { class: "stats", "aria-label": "Instance statistics" },
            item("Users", `${n(s.users)} (${n(s.admins)} admin, ${n(s.disabledUsers)} disabled)`),
            item("Files", n(s.files)),
            item("Logical size", bytes(Number(s.logicalBytes))),
            item("Stored size", bytes(Number(s.storedBytes))),
            item("Dedup ratio", `${s.dedupRatio.toFixed(2)}×`),
            item("In the trash", bytes(Number(s.trashBytes))),
            item("Reserved by uploads", bytes(Number(s.reservedBytes))),
          ),
          s.backends.length > 0 &&
            listTable(
              "Storage backends",
              ["Backend", "Blobs", "Stored"],
              s.backends.map((b) =>
                h(
                  "tr",
                  null,
                  h("td", null, b.backend),
                  h("td", null, n(b.blobs)),
                  h("td", null, bytes(Number(b.storedBytes))),
                ),
              ),
            ),
        );
      })
      .catch((err) => showError(body, err));
  };
  reload();
  const note = h(
    "p",
    { class: "muted small" },
    "Counted every few seconds: a change may show a little later.",
  );
  return { el: section("stats", "Instance", body, note), reload };
}
