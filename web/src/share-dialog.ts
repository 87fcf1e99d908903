// The drive's share dialog for a file or a folder: the item's links (copy, edit, revoke) and a form that
// creates a new one with its options (share-options.ts); a new link is shown at once, ready to copy.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { Share } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { explain, shares } from "./api.ts";
import { modal } from "./dialogs.ts";
import { h, mount } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { isFolder } from "./file-kinds.ts";
import { listTable } from "./page-parts.ts";
import { copyShareLink, shareHeadings, shareRow, shareUrl } from "./share-links.ts";
import { shareOptionFields } from "./share-options.ts";

export async function openShareDialog(drive: DriveState, f: StoredFile): Promise<void> {
  await modal<void>(
    `Share ${f.name}`,
    (close) => {
      const links = h(
        "div",
        { class: "table-wrap", id: "share-links" },
        h("p", { class: "muted" }, "Loading…"),
      );
      const created = h("div", { id: "share-created", role: "status" });
      const load = async () => {
        try {
          const all: Share[] = [];
          for (let pageToken = ""; ; ) {
            const page = await shares.listShares({ targetId: f.id, pageSize: 100, pageToken });
            all.push(...page.shares);
            if (!page.nextPageToken) break;
            pageToken = page.nextPageToken;
          }
          mount(
            links,
            all.length === 0
              ? h("p", { class: "muted" }, "No links yet.")
              : listTable(
                  `Links to ${f.name}`,
                  shareHeadings("dialog"),
                  all.map((s) => shareRow(drive, s, () => void load(), "dialog")),
                ),
          );
        } catch (err) {
          mount(links, h("p", { class: "error", role: "alert" }, explain(err)));
        }
      };
      void load();
      const fields = shareOptionFields({ folder: isFolder(f), prefix: "new-share" });
      const form = h(
        "form",
        {
          class: "share-create",
          onsubmit: fields.onSubmit(async (o) => {
            try {
              const res = await shares.createShare({
                targetId: f.id,
                password: o.password,
                expiresAt: o.expiresAt,
                maxDownloads: o.maxDownloads,
                mode: o.mode,
                maxFileBytes: o.maxFileBytes,
              });
              const s = res.share as Share;
              mount(
                created,
                h("label", { for: "share-new-url" }, "New link"),
                h("input", { id: "share-new-url", value: shareUrl(s), readonly: true }),
                h("button", { type: "button", onclick: () => void copyShareLink(drive, s) }, "Copy link"),
              );
              void load();
            } catch (err) {
              fields.error.textContent = explain(err);
            }
          }),
        },
        h("h3", null, "New link"),
        fields.el,
        fields.error,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "submit", class: "primary", id: "share-create" }, "Create link"),
        ),
      );
      return [
        links,
        form,
        created,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", onclick: () => close() }, "Done"),
        ),
      ];
    },
    { wide: true, className: "share-dialog" },
  );
}
