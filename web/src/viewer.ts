// The file viewer: an overlay over the list that shows one file and steps through the folder's files
// (buttons, ← and →); Escape closes. What a preview shows is preview-body.ts's; anything else shows its
// details and a download button.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { explain } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { downloadUrl } from "./download-url.ts";
import type { DriveState } from "./drive-state.ts";
import { download } from "./file-actions.ts";
import { isFolder, type ViewKind, viewKind } from "./file-kinds.ts";
import { rememberFocus } from "./focus-return.ts";
import { bytes, date } from "./format.ts";
import { previewBody } from "./preview-body.ts";

export function openViewer(drive: DriveState, first: StoredFile): void {
  const list = drive.entries.filter((f) => !isFolder(f));
  let at = Math.max(
    0,
    list.findIndex((f) => f.id === first.id),
  );
  let shown = 0;
  const giveFocusBack = rememberFocus();
  const title = h("h2", { class: "viewer-title", id: "viewer-title" });
  const counter = h("span", { class: "muted viewer-count" });
  const stage = h("div", { class: "viewer-stage" });
  const step = (by: number) => {
    if (list.length < 2) return;
    at = (at + by + list.length) % list.length;
    void show();
  };
  const prev = h(
    "button",
    { type: "button", class: "viewer-step", "aria-label": "Previous file", onclick: () => step(-1) },
    "‹",
  );
  const next = h(
    "button",
    { type: "button", class: "viewer-step", "aria-label": "Next file", onclick: () => step(1) },
    "›",
  );
  const dialog = h(
    "dialog",
    { class: "viewer", "aria-labelledby": "viewer-title" },
    h(
      "div",
      { class: "viewer-head" },
      title,
      counter,
      h(
        "span",
        { class: "viewer-buttons" },
        h(
          "button",
          { type: "button", onclick: () => void download(list[at] as StoredFile).catch(drive.fail) },
          "Download",
        ),
        h("button", { type: "button", "aria-label": "Close viewer", onclick: () => dialog.close() }, "✕"),
      ),
    ),
    h("div", { class: "viewer-body" }, prev, stage, next),
  );
  dialog.addEventListener("keydown", (e) => {
    // Media elements and text selection keep their own arrow keys.
    if ((e.target as HTMLElement).closest("video, audio, input")) return;
    if (e.key === "ArrowLeft") step(-1);
    else if (e.key === "ArrowRight") step(1);
    else return;
    e.preventDefault();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    giveFocusBack();
  });

  const show = async () => {
    const f = list[at] as StoredFile;
    const ticket = ++shown;
    title.textContent = f.name;
    counter.textContent = list.length > 1 ? `${at + 1} of ${list.length}` : "";
    prev.hidden = next.hidden = list.length < 2;
    const kind = viewKind(f);
    stage.dataset.kind = kind;
    mount(stage, h("p", { class: "muted" }, "Loading…"));
    try {
      const body = await render(f, kind);
      if (ticket === shown) mount(stage, body);
    } catch (err) {
      if (ticket === shown)
        mount(stage, h("p", { class: "error", role: "alert" }, explain(err)), details(drive, f));
    }
  };
  document.body.append(dialog);
  dialog.showModal();
  void show();

  async function render(f: StoredFile, kind: ViewKind): Promise<Child> {
    if (kind === "other" || kind === "folder") return details(drive, f);
    return previewBody(kind, await downloadUrl(f, { inline: true }), f.name, Number(f.size));
  }
}

function details(drive: DriveState, f: StoredFile): Child {
  return h(
    "div",
    { class: "viewer-details" },
    h("p", null, "There is no preview for this kind of file."),
    h(
      "dl",
      null,
      h("dt", null, "Size"),
      h("dd", null, bytes(Number(f.size))),
      h("dt", null, "Modified"),
      h("dd", null, date(f.updatedAt)),
      h("dt", null, "Created"),
      h("dd", null, date(f.createdAt)),
    ),
    h(
      "button",
      { type: "button", class: "primary", onclick: () => void download(f).catch(drive.fail) },
      `Download ${f.name}`,
    ),
  );
}
