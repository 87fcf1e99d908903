// A file's versions, in a dialog opened from its ⋯ menu: the current content first, then the earlier ones
// (newest first), each with its size and when it was written. An earlier version can be downloaded,
// restored (it becomes the current content, the current one a version: the list is read again) or deleted.
// Errors show inside the dialog: the page's toasts sit under it.
import type { FileVersion, File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { explain, files } from "./api.ts";
import { confirmAction, modal } from "./dialogs.ts";
import { h, mount } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { download } from "./file-actions.ts";
import { bytes, date } from "./format.ts";

export async function showVersions(drive: DriveState, f: StoredFile): Promise<void> {
  await modal<void>(
    `Versions of ${f.name}`,
    (close) => {
      let file = f;
      const body = h("div", { class: "versions-body" });
      const problem = h("p", { class: "error", role: "alert" });
      /** Runs an action of a row; its error stays in the dialog. */
      const act = (work: () => Promise<unknown>) => async () => {
        problem.textContent = "";
        try {
          await work();
        } catch (err) {
          problem.textContent = explain(err);
        }
      };
      /** A row's button; its label names the version for screen readers (minutes alone may repeat). */
      const button = (label: string, at: string, work: () => Promise<unknown>, cls?: string) =>
        h(
          "button",
          { type: "button", class: cls, "aria-label": `${label} the version of ${at}`, onclick: act(work) },
          label,
        );
      const row = (v: FileVersion) => {
        const at = `${date(v.createdAt)}, ${bytes(Number(v.size))}`;
        return h(
          "tr",
          { class: "version", "data-version": v.id },
          h("td", { class: "date" }, date(v.createdAt)),
          h("td", { class: "size" }, bytes(Number(v.size))),
          h(
            "td",
            { class: "buttons" },
            button("Restore", at, async () => {
              const res = await files.restoreVersion({ fileId: file.id, versionId: v.id });
              if (res.file) file = res.file;
              drive.say(`Restored the version of ${at}`);
              drive.scheduleReload();
              await show();
            }),
            button("Download", at, () => download(file, v.id)),
            button(
              "Delete",
              at,
              async () => {
                if (
                  !(await confirmAction("Delete version", `Delete the version of ${at} for good?`, "Delete"))
                )
                  return;
                await files.deleteVersion({ fileId: file.id, versionId: v.id });
                await show();
              },
              "danger",
            ),
          ),
        );
      };
      const show = async () => {
        try {
          const { versions } = await files.listVersions({ fileId: file.id });
          const now = `${date(file.updatedAt)}, ${bytes(Number(file.size))} (current)`;
          mount(
            body,
            h(
              "table",
              { class: "versions", "aria-label": "Versions" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", { scope: "col" }, "Modified"),
                  h("th", { scope: "col" }, "Size"),
                  h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
                ),
              ),
              h(
                "tbody",
                null,
                h(
                  "tr",
                  { class: "version current" },
                  h(
                    "td",
                    { class: "date" },
                    date(file.updatedAt),
                    " ",
                    h("span", { class: "badge" }, "Current"),
                  ),
                  h("td", { class: "size" }, bytes(Number(file.size))),
                  h(
                    "td",
                    { class: "buttons" },
                    button("Download", now, () => download(file)),
                  ),
                ),
                versions.map(row),
              ),
            ),
            versions.length === 0 && h("p", { class: "muted" }, "No earlier versions."),
          );
        } catch (err) {
          mount(body, h("p", { class: "error", role: "alert" }, explain(err)));
        }
      };
      mount(body, h("p", { class: "muted" }, "Loading…"));
      void show();
      return [
        body,
        problem,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", class: "primary", onclick: () => close() }, "Close"),
        ),
      ];
    },
    { wide: true, className: "versions-dialog" },
  );
}
