// The signed-in app: the file list (folders, sort, paging, rename, move, trash, download, copy link), the
// trash, and uploads by picking or dropping files and folders. Routes live in the URL hash:
// #/ (top level), #/folder/<id>, #/trash.
import { Code } from "@connectrpc/connect";
import { FileKind, SortField, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { auth, codeOf, downloads, explain, files, type Session } from "./api.ts";
import { askName, confirmAction, pickFolder, showLink } from "./dialogs.ts";
import { type Child, h, mount } from "./dom.ts";
import { bytes, date } from "./format.ts";
import { uploadPanel } from "./upload-view.ts";
import { UploadQueue } from "./uploads.ts";

const PAGE_SIZE = 50;

type Route = { view: "files"; folderId: string } | { view: "trash" };

function route(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  if (hash === "trash") return { view: "trash" };
  const m = /^folder\/([^/]+)$/.exec(hash);
  return { view: "files", folderId: m ? decodeURIComponent(m[1] as string) : "" };
}

interface ListState {
  sort: SortField;
  descending: boolean;
  /** Page tokens of the pages before this one, and this page's. */
  previous: string[];
  token: string;
}

export function driveView(root: HTMLElement, session: Session): () => void {
  const stop = new AbortController();
  const toast = h("p", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  const alert = h("p", { id: "alert", class: "error", role: "alert" });
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const say = (msg: string) => {
    alert.textContent = "";
    toast.textContent = msg;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      toast.textContent = "";
    }, 5000);
  };
  const fail = (err: unknown) => {
    toast.textContent = "";
    alert.textContent = explain(err);
  };

  const list: ListState = { sort: SortField.NAME, descending: false, previous: [], token: "" };
  let current = route();
  const content = h("div", { class: "content" });
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Folder path" });
  const heading = h("h1", { class: "visually-hidden" }, "My files");

  const queue = new UploadQueue((f) => {
    say(`Uploaded ${f.name}`);
    scheduleReload();
  });
  const folderOfUpload = () => (current.view === "files" ? current.folderId : "");
  const filePicker = h("input", { type: "file", multiple: true, hidden: true, id: "pick-files" });
  const folderPicker = h("input", { type: "file", multiple: true, hidden: true, id: "pick-folder" });
  folderPicker.setAttribute("webkitdirectory", "");
  const picked = (input: HTMLInputElement) => () => {
    const chosen = [...(input.files ?? [])].map((file) => ({
      file,
      path: file.webkitRelativePath || file.name,
    }));
    input.value = "";
    if (chosen.length) queue.add(chosen, folderOfUpload());
  };
  filePicker.addEventListener("change", picked(filePicker));
  folderPicker.addEventListener("change", picked(folderPicker));

  const nav = h(
    "nav",
    { class: "views", "aria-label": "Views" },
    h("a", { href: "#/", id: "nav-files" }, "My files"),
    h("a", { href: "#/trash", id: "nav-trash" }, "Trash"),
  );
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/" }, "filestore"),
    nav,
    h(
      "span",
      { class: "who" },
      h("span", { class: "user", title: "Signed in as" }, session.username),
      h("button", { type: "button", id: "signout", onclick: () => void auth.signout() }, "Sign out"),
    ),
  );
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h(
      "button",
      { type: "button", class: "primary", id: "upload-files", onclick: () => filePicker.click() },
      "Upload files",
    ),
    h(
      "button",
      { type: "button", id: "upload-folder", onclick: () => folderPicker.click() },
      "Upload folder",
    ),
    h("button", { type: "button", id: "new-folder", onclick: () => void newFolder() }, "New folder"),
    filePicker,
    folderPicker,
  );
  const hint = h(
    "p",
    { class: "drop-hint", id: "drop-hint" },
    "Drop files or folders anywhere here to upload them.",
  );
  const drop = h(
    "main",
    { id: "main", class: "drive", tabindex: -1 },
    heading,
    toolbar,
    crumbs,
    alert,
    content,
    hint,
  );
  const panel = uploadPanel(
    queue,
    () => session.userId,
    () => filePicker.click(),
  );
  mount(root, header, drop, panel, toast);

  // --- drag & drop --------------------------------------------------------------------------
  let depth = 0;
  drop.addEventListener("dragenter", (e) => {
    if (current.view !== "files") return;
    e.preventDefault();
    depth++;
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove("dragging");
  });
  drop.addEventListener("dragover", (e) => {
    if (current.view !== "files") return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove("dragging");
    if (current.view !== "files" || !e.dataTransfer) return;
    const target = folderOfUpload();
    droppedFiles(e.dataTransfer)
      .then((entries) => entries.length && queue.add(entries, target))
      .catch(fail);
  });

  // --- the list ------------------------------------------------------------------------------
  let loading = 0;
  async function load(): Promise<void> {
    const ticket = ++loading;
    current = route();
    nav.querySelector("#nav-files")?.toggleAttribute("aria-current", current.view === "files");
    nav.querySelector("#nav-trash")?.toggleAttribute("aria-current", current.view === "trash");
    toolbar.hidden = current.view !== "files";
    hint.hidden = current.view !== "files";
    try {
      if (current.view === "trash") {
        heading.textContent = "Trash";
        mount(
          crumbs,
          h("span", null, "Trash"),
          h("span", { class: "muted" }, " — deleted files can be restored"),
        );
        const page = await files.listTrash({ pageSize: PAGE_SIZE, pageToken: list.token });
        if (ticket !== loading) return;
        keepingFocus(() => mount(content, trashTable(page.files), pager(page.nextPageToken)));
        return;
      }
      const folderId = current.folderId;
      const [page, trail] = await Promise.all([
        files.listFiles({
          parentId: folderId,
          pageSize: PAGE_SIZE,
          pageToken: list.token,
          sort: list.sort,
          descending: list.descending,
        }),
        pathTo(folderId),
      ]);
      if (ticket !== loading) return;
      heading.textContent = trail.length ? (trail[trail.length - 1]?.name ?? "") : "My files";
      mount(
        crumbs,
        h("a", { href: "#/" }, "My files"),
        trail.map((f, i) => [
          h("span", { class: "sep", "aria-hidden": "true" }, " / "),
          i === trail.length - 1
            ? h("span", { "aria-current": "page" }, f.name)
            : h("a", { href: `#/folder/${encodeURIComponent(f.id)}` }, f.name),
        ]),
      );
      keepingFocus(() => mount(content, fileTable(page.files), pager(page.nextPageToken)));
    } catch (err) {
      if (ticket !== loading) return;
      if (codeOf(err) === Code.NotFound && current.view === "files" && current.folderId) {
        location.hash = "#/";
        return;
      }
      mount(content, h("p", { class: "error", role: "alert" }, `Could not load the list: ${explain(err)}`));
    }
  }

  /** Redraws the list without losing the keyboard focus (live updates redraw it at any time). */
  function keepingFocus(redraw: () => void) {
    const was = document.activeElement;
    const key = (el: Element) => el.getAttribute("aria-label") ?? el.getAttribute("href") ?? el.textContent;
    const focused = was && content.contains(was) ? key(was) : undefined;
    redraw();
    if (focused === undefined) return;
    for (const el of content.querySelectorAll<HTMLElement>("button, a")) {
      if (key(el) === focused) return el.focus();
    }
    drop.focus();
  }

  const folders = new Map<string, StoredFile>();
  async function pathTo(id: string): Promise<StoredFile[]> {
    const trail: StoredFile[] = [];
    for (let at = id; at && trail.length < 64; ) {
      let f = folders.get(at);
      if (!f) {
        f = (await files.getFile({ id: at })).file;
        if (!f) break;
        folders.set(at, f);
      }
      trail.unshift(f);
      at = f.parentId;
    }
    return trail;
  }

  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleReload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), 150);
  }

  const sortButton = (label: string, field: SortField) => {
    const active = list.sort === field;
    return h(
      "th",
      { scope: "col", "aria-sort": active ? (list.descending ? "descending" : "ascending") : "none" },
      h(
        "button",
        {
          type: "button",
          class: "sort",
          onclick: () => {
            list.descending = active ? !list.descending : field !== SortField.NAME;
            list.sort = field;
            list.previous = [];
            list.token = "";
            void load();
          },
        },
        label,
        active ? (list.descending ? " ↓" : " ↑") : "",
      ),
    );
  };

  function fileTable(entries: StoredFile[]): Child {
    if (entries.length === 0 && !list.token)
      return h("p", { class: "empty" }, "Nothing here yet. Upload files or drop them on this page.");
    return h(
      "table",
      { class: "files", "aria-label": "Files" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          sortButton("Name", SortField.NAME),
          sortButton("Size", SortField.SIZE),
          sortButton("Modified", SortField.UPDATED_AT),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      h("tbody", null, entries.map(fileRow)),
    );
  }

  function fileRow(f: StoredFile): HTMLTableRowElement {
    const folder = f.kind === FileKind.FOLDER;
    const act = (label: string, run: () => Promise<void>, cls?: string) =>
      h(
        "button",
        {
          type: "button",
          class: cls,
          "aria-label": `${label} ${f.name}`,
          onclick: () => void run().catch(fail),
        },
        label,
      );
    return h(
      "tr",
      { class: folder ? "entry folder" : "entry file", "data-id": f.id },
      h(
        "td",
        { class: "name" },
        folder
          ? h(
              "a",
              { href: `#/folder/${encodeURIComponent(f.id)}`, class: "open" },
              h("span", { class: "icon folder", "aria-hidden": "true" }),
              h("span", { class: "filename" }, f.name),
            )
          : h(
              "span",
              null,
              h("span", { class: "icon file", "aria-hidden": "true" }),
              h("span", { class: "filename" }, f.name),
            ),
      ),
      h("td", { class: "size" }, folder ? "—" : bytes(Number(f.size))),
      h("td", { class: "date" }, date(f.updatedAt)),
      h(
        "td",
        { class: "actions" },
        h(
          "div",
          null,
          !folder && act("Download", () => download(f)),
          !folder && act("Copy link", () => copyLink(f)),
          act("Rename", () => rename(f)),
          act("Move", () => move(f)),
          act("Delete", () => trash(f), "danger"),
        ),
      ),
    );
  }

  function trashTable(entries: StoredFile[]): Child {
    if (entries.length === 0 && !list.token) return h("p", { class: "empty" }, "The trash is empty.");
    return h(
      "table",
      { class: "files trash", "aria-label": "Trash" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col" }, "Size"),
          h("th", { scope: "col" }, "Deleted"),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      h(
        "tbody",
        null,
        entries.map((f) =>
          h(
            "tr",
            { class: "entry", "data-id": f.id },
            h("td", { class: "name" }, h("span", { class: "filename" }, f.name)),
            h("td", { class: "size" }, f.kind === FileKind.FOLDER ? "—" : bytes(Number(f.size))),
            h("td", { class: "date" }, date(f.deletedAt)),
            h(
              "td",
              { class: "actions" },
              h(
                "div",
                null,
                h(
                  "button",
                  {
                    type: "button",
                    "aria-label": `Restore ${f.name}`,
                    onclick: () => void restore(f).catch(fail),
                  },
                  "Restore",
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Delete ${f.name} forever`,
                    onclick: () => void purge(f).catch(fail),
                  },
                  "Delete forever",
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function pager(next: string): Child {
    if (!next && list.previous.length === 0) return null;
    const go = (token: string, previous: string[]) => {
      list.token = token;
      list.previous = previous;
      void load().then(() => drop.focus());
    };
    return h(
      "div",
      { class: "pager" },
      h(
        "button",
        {
          type: "button",
          disabled: list.previous.length === 0,
          onclick: () => go(list.previous[list.previous.length - 1] ?? "", list.previous.slice(0, -1)),
        },
        "← Previous",
      ),
      h("span", { class: "muted" }, `Page ${list.previous.length + 1}`),
      h(
        "button",
        { type: "button", disabled: !next, onclick: () => go(next, [...list.previous, list.token]) },
        "Next →",
      ),
    );
  }

  // --- actions -----------------------------------------------------------------------------
  async function newFolder() {
    const name = await askName("New folder", "Folder name", "", "Create");
    if (!name) return;
    try {
      await files.createFolder({ parentId: folderOfUpload(), name });
      say(`Created ${name}`);
      void load();
    } catch (err) {
      fail(err);
    }
  }

  async function rename(f: StoredFile) {
    const name = await askName(
      `Rename ${f.kind === FileKind.FOLDER ? "folder" : "file"}`,
      "New name",
      f.name,
      "Rename",
    );
    if (!name || name === f.name) return;
    await files.renameFile({ id: f.id, name });
    folders.delete(f.id);
    say(`Renamed to ${name}`);
    void load();
  }

  async function move(f: StoredFile) {
    const target = await pickFolder(`Move ${f.name}`, f.id);
    if (target === undefined || target === f.parentId) return;
    await files.moveFile({ id: f.id, newParentId: target });
    folders.delete(f.id);
    say(`Moved ${f.name}`);
    void load();
  }

  async function trash(f: StoredFile) {
    await files.deleteFile({ id: f.id });
    say(`Moved ${f.name} to the trash`);
    void load();
  }

  async function restore(f: StoredFile) {
    await files.restoreFile({ id: f.id });
    say(`Restored ${f.name}`);
    void load();
  }

  async function purge(f: StoredFile) {
    if (!(await confirmAction("Delete forever?", `${f.name} will be gone for good.`, "Delete forever")))
      return;
    await files.purgeFile({ id: f.id });
    say(`Deleted ${f.name} for good`);
    void load();
  }

  async function linkFor(f: StoredFile): Promise<string> {
    const { url } = await downloads.createDownloadUrl({ fileId: f.id });
    return new URL(url, location.origin).href;
  }

  async function download(f: StoredFile) {
    const a = h("a", { href: await linkFor(f), download: f.name, hidden: true });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  async function copyLink(f: StoredFile) {
    const url = await linkFor(f);
    try {
      await navigator.clipboard.writeText(url);
      say(`Copied a download link for ${f.name}`);
    } catch {
      await showLink(url);
    }
  }

  // --- live updates --------------------------------------------------------------------------
  async function watch() {
    for (let delay = 1000; !stop.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        for await (const _ of files.watchFiles({}, { signal: stop.signal })) {
          delay = 1000;
          scheduleReload();
        }
      } catch (err) {
        // Without WatchFiles the list is reloaded after each action instead.
        if (stop.signal.aborted || codeOf(err) === Code.Unimplemented || codeOf(err) === Code.Unauthenticated)
          return;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  const onHash = () => {
    list.previous = [];
    list.token = "";
    void load();
  };
  addEventListener("hashchange", onHash, { signal: stop.signal });
  void load();
  void watch();
  return () => {
    stop.abort();
    for (const it of queue.items) queue.pause(it.id);
  };
}

/** Files of a drop, with their paths inside dropped folders. */
async function droppedFiles(dt: DataTransfer): Promise<{ file: File; path: string }[]> {
  const out: { file: File; path: string }[] = [];
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...dt.files);
  for (const f of loose) out.push({ file: f, path: f.name });
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, path: prefix + entry.name });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) return;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}
