// The search box (Ctrl/Cmd+F) and its filters. Typing (debounced) asks the server (SearchFiles: name
// substring, case- and accent-insensitive) for matches in the whole tree or below the open folder, of one
// kind and modified since some day; the list shows them (search-view.ts) until the box is cleared or
// another folder is opened.
import { FileCategory } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";

/** How long typing must pause before a search is sent: one request per word, not per keystroke. */
const DEBOUNCE_MS = 250;

export function searchBox(): HTMLInputElement {
  return h("input", {
    type: "search",
    id: "search",
    class: "search",
    placeholder: "Search",
    "aria-label": "Search files by name",
    autocomplete: "off",
    enterkeyhint: "search",
  });
}

export interface SearchOptions {
  bar: HTMLElement;
  inFolder: HTMLInputElement;
  kind: HTMLSelectElement;
  since: HTMLSelectElement;
}

const KINDS: [FileCategory, string][] = [
  [FileCategory.UNSPECIFIED, "Any kind"],
  [FileCategory.FOLDER, "Folders"],
  [FileCategory.IMAGE, "Images"],
  [FileCategory.VIDEO, "Videos"],
  [FileCategory.AUDIO, "Audio"],
  [FileCategory.DOCUMENT, "Documents"],
  [FileCategory.ARCHIVE, "Archives"],
];

const SINCE: [number, string][] = [
  [0, "Any time"],
  [1, "Past 24 hours"],
  [7, "Past 7 days"],
  [30, "Past 30 days"],
  [365, "Past year"],
];

/** The filters under the toolbar, shown while there is a query. */
export function searchOptions(): SearchOptions {
  const inFolder = h("input", { type: "checkbox", id: "search-in-folder" });
  const kind = h(
    "select",
    { id: "search-kind", "aria-label": "Kind" },
    KINDS.map(([v, label]) => h("option", { value: v }, label)),
  );
  const since = h(
    "select",
    { id: "search-since", "aria-label": "Modified" },
    SINCE.map(([v, label]) => h("option", { value: v }, label)),
  );
  const bar = h(
    "div",
    { class: "search-options", role: "group", "aria-label": "Search filters", hidden: true },
    h("label", { class: "search-scope" }, inFolder, " Only in this folder"),
    kind,
    since,
  );
  return { bar, inFolder, kind, since };
}

/** Wires the box and its filters to the drive: typing searches, Escape or opening a folder ends it. */
export function wireSearch(
  drive: DriveState,
  box: HTMLInputElement,
  opts: SearchOptions,
  signal: AbortSignal,
) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const now = () => {
    clearTimeout(timer);
    runSearch(drive, box.value);
  };
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(now, DEBOUNCE_MS);
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter") now();
    if (e.key !== "Escape" || !box.value) return;
    box.value = "";
    now();
  });
  const filters = () => {
    drive.search.inFolder = opts.inFolder.checked;
    drive.search.category = Number(opts.kind.value) as FileCategory;
    drive.search.sinceDays = Number(opts.since.value);
    if (drive.search.query) restart(drive);
  };
  for (const el of [opts.inFolder, opts.kind, opts.since]) el.addEventListener("change", filters);
  // Opening a folder (a result, a breadcrumb, Back) shows that folder: the search is over. The drive's own
  // hashchange listener, added after this one, then loads it.
  addEventListener(
    "hashchange",
    () => {
      clearTimeout(timer);
      box.value = "";
      drive.search.query = "";
    },
    { signal },
  );
}

/** Shows the matches of `query` (trimmed; "" goes back to the folder), from their first page. */
export function runSearch(drive: DriveState, query: string): void {
  const q = query.trim();
  if (q === drive.search.query) return;
  drive.search.query = q;
  restart(drive);
}

function restart(drive: DriveState): void {
  drive.list.previous = [];
  drive.list.token = "";
  drive.selected.clear();
  drive.anchor = -1;
  void drive.load();
}

/** Paints the filters for the view: shown while searching, "this folder" only inside one. */
export function paintSearchOptions(drive: DriveState, opts: SearchOptions): void {
  const searching = drive.route.view === "files" && drive.search.query !== "";
  opts.bar.hidden = !searching;
  const inside = drive.route.view === "files" && drive.route.folderId !== "";
  opts.inFolder.disabled = !inside;
  opts.inFolder.closest("label")?.classList.toggle("muted", !inside);
}
