// A view link's page: the shared file (preview, download), or the shared folder as a paged list with
// breadcrumbs that never go above the shared folder (the server answers for nothing outside it), file
// previews in the page, downloads, "Download all as ZIP" (the folder on screen, counted once), and "Save to
// my drive" for a signed-in visitor. Every action asks the server again, so a link revoked meanwhile
// shows its message at the next click.
import { FileKind } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { ItemKind, ItemSort, type ShareItem } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { auth, shares, visitorShares } from "./api.ts";
import { h, mount } from "./dom.ts";
import { save } from "./file-actions.ts";
import { viewKind } from "./file-kinds.ts";
import { bytes, date } from "./format.ts";
import { listTable } from "./page-parts.ts";
import { previewBody } from "./preview-body.ts";
import { shareFailure, shareProblem } from "./share-errors.ts";
import { type OpenedShare, shareRouteOf, shareSummary } from "./share-visit.ts";

const PAGE_SIZE = 50;

interface Browse {
  s: OpenedShare;
  /** The heading (downloads left change with each mint). */
  head: HTMLElement;
  alert: HTMLElement;
  status: HTMLElement;
  preview: HTMLElement;
}

/** Shows a failure; a link that ended offers to open it again. */
function fail(b: Browse, err: unknown): void {
  b.status.textContent = "";
  const problem = shareProblem(err).kind;
  if (problem === "limit") counted(b, 0n);
  const ended = problem === "ended";
  mount(
    b.alert,
    shareFailure(err),
    ended && " ",
    ended && h("button", { type: "button", class: "link", onclick: () => location.reload() }, "Open again"),
  );
}

/** A mint's answer: the downloads left, shown in the heading when the link has a limit. */
function counted(b: Browse, left: bigint): void {
  if (b.s.info.maxDownloads === 0n) return;
  b.s.info.downloadsLeft = left;
  const head = shareSummary(b.s);
  b.head.replaceWith(head);
  b.head = head;
}

const done = (b: Browse, text: string) => {
  b.alert.replaceChildren();
  b.status.textContent = text;
};

async function download(b: Browse, item: { id: string; name: string }, zip: boolean): Promise<void> {
  try {
    const r = await visitorShares.createShareDownloadUrl({ shareToken: b.s.token, fileId: item.id });
    counted(b, r.downloadsLeft);
    save(r.url, zip ? `${item.name}.zip` : item.name);
    done(b, zip ? `Downloading ${item.name} as a ZIP` : `Downloading ${item.name}`);
  } catch (err) {
    fail(b, err);
  }
}

async function saveToDrive(b: Browse, item: { id: string; name: string }): Promise<void> {
  try {
    const r = await shares.saveShareToDrive({ shareToken: b.s.token, itemId: item.id, parentId: "" });
    done(b, `Saved ${r.name} to your files`);
  } catch (err) {
    fail(b, err);
  }
}

/** Shows a file of the share in the page (when its kind has a preview). */
async function showPreview(b: Browse, item: ShareItem, closable: boolean): Promise<void> {
  const kind = viewKind({ name: item.name, kind: FileKind.FILE });
  const close =
    closable &&
    h(
      "button",
      {
        type: "button",
        class: "close",
        onclick: () => b.preview.replaceChildren(),
        "aria-label": "Close preview",
      },
      "✕",
    );
  const head = h("div", { class: "share-preview-head" }, h("h2", null, item.name), close);
  if (kind === "other" || kind === "folder") {
    mount(b.preview, head, h("p", { class: "muted" }, "There is no preview for this kind of file."));
    return;
  }
  const stage = h(
    "div",
    { class: "share-preview-stage", "data-kind": kind },
    h("p", { class: "muted" }, "Loading…"),
  );
  mount(b.preview, head, stage);
  b.preview.scrollIntoView?.({ block: "nearest" });
  try {
    const { url, downloadsLeft } = await visitorShares.createShareDownloadUrl({
      shareToken: b.s.token,
      fileId: item.id,
      inline: true,
    });
    counted(b, downloadsLeft);
    mount(stage, await previewBody(kind, url, item.name, Number(item.size)));
  } catch (err) {
    b.preview.replaceChildren();
    fail(b, err);
  }
}

export function browseShare(main: HTMLElement, s: OpenedShare): void {
  const item = s.info.item;
  const b: Browse = {
    s,
    head: shareSummary(s),
    alert: h("p", { class: "error", role: "alert", id: "share-alert" }),
    status: h("p", { class: "muted", role: "status", id: "share-status" }),
    preview: h("section", { class: "share-preview", id: "share-preview", "aria-label": "Preview" }),
  };
  const signedIn = auth.current() !== undefined;
  const saveButton = (it: { id: string; name: string }) =>
    signedIn && h("button", { type: "button", onclick: () => void saveToDrive(b, it) }, "Save to my drive");
  if (!item || item.kind !== ItemKind.FOLDER) {
    const it = item as ShareItem;
    const toolbar = h(
      "div",
      { class: "toolbar" },
      h(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: () => void download(b, { id: "", name: it.name }, false),
        },
        "Download",
      ),
      saveButton({ id: "", name: it.name }),
    );
    mount(main, b.head, toolbar, b.alert, b.status, b.preview);
    void showPreview(b, { ...it, id: "" } as ShareItem, false);
    return;
  }
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Folder path" });
  const list = h("div", { class: "table-wrap" });
  let here = { id: shareRouteOf(location.pathname)?.folderId ?? "", name: item.name };
  const toolbar = h("div", { class: "toolbar" });
  const drawToolbar = () =>
    mount(
      toolbar,
      h(
        "button",
        { type: "button", class: "primary", id: "share-zip", onclick: () => void download(b, here, true) },
        "Download all as ZIP",
      ),
      saveButton(here),
    );
  const go = (folderId: string, push: boolean) => {
    if (push)
      history.pushState(null, "", folderId ? `/s/${s.id}/f/${encodeURIComponent(folderId)}` : `/s/${s.id}`);
    b.preview.replaceChildren();
    here = { id: folderId, name: item.name };
    void load("", true);
  };
  addEventListener("popstate", () => go(shareRouteOf(location.pathname)?.folderId ?? "", false));
  const rows = h("tbody");
  const table = listTable("Shared files", ["Name", "Size", "Modified", ""], null);
  table.querySelector("tbody")?.replaceWith(rows);
  const load = async (pageToken: string, fresh: boolean) => {
    try {
      const page = await visitorShares.listShareItems({
        shareToken: s.token,
        folderId: here.id,
        pageSize: PAGE_SIZE,
        pageToken,
        sort: ItemSort.NAME,
      });
      const path = page.path.length ? page.path : [{ id: "", name: item.name } as ShareItem];
      here = { id: here.id, name: path[path.length - 1]?.name ?? item.name };
      drawToolbar();
      mount(
        crumbs,
        path.map((p, i) => [
          i > 0 && " / ",
          i === path.length - 1
            ? h("span", { "aria-current": "page" }, p.name)
            : h(
                "a",
                {
                  href: i === 0 ? `/s/${s.id}` : `/s/${s.id}/f/${p.id}`,
                  onclick: (e: Event) => {
                    e.preventDefault();
                    go(i === 0 ? "" : p.id, true);
                  },
                },
                p.name,
              ),
        ]),
      );
      if (fresh) rows.replaceChildren();
      rows.append(...page.items.map((it) => row(it)));
      const more =
        page.nextPageToken &&
        h("button", { type: "button", onclick: () => void load(page.nextPageToken, false) }, "Show more");
      mount(
        list,
        rows.children.length === 0 ? h("p", { class: "empty" }, "This folder is empty.") : table,
        more,
      );
    } catch (err) {
      fail(b, err);
    }
  };
  const row = (it: ShareItem) => {
    const folder = it.kind === ItemKind.FOLDER;
    const open = h(
      "button",
      {
        type: "button",
        class: "link open",
        onclick: () => (folder ? go(it.id, true) : void showPreview(b, it, true)),
      },
      h("span", { class: `icon ${folder ? "folder" : "file"}`, "aria-hidden": "true" }),
      it.name,
    );
    return h(
      "tr",
      { "data-name": it.name },
      h("td", null, open),
      h("td", null, folder ? "" : bytes(Number(it.size))),
      h("td", null, date(it.updatedAt)),
      h(
        "td",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            "aria-label": `Download ${it.name}`,
            onclick: () => void download(b, it, folder),
          },
          folder ? "ZIP" : "Download",
        ),
      ),
    );
  };
  mount(main, b.head, crumbs, toolbar, b.alert, b.status, list, b.preview);
  void load("", true);
}
