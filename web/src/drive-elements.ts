// The drive's fixed markup: top bar, toolbar, the main area that lists and takes drops, and the toast.
// Built once with no behaviour of the drive in it (the other parts attach theirs), so that everything
// that wires it can start from the finished page.
import { appHeader } from "./app-header.ts";
import { h } from "./dom.ts";
import { type SearchOptions, searchBox, searchOptions } from "./search-box.ts";

export interface DriveElements {
  header: HTMLElement;
  navFiles: HTMLAnchorElement;
  navTrash: HTMLAnchorElement;
  toolbar: HTMLElement;
  newFolder: HTMLButtonElement;
  /** List or grid; its aria-pressed says which. */
  layoutToggle: HTMLButtonElement;
  search: HTMLInputElement;
  /** The search's filters (kind, date, this folder only), shown under the toolbar while searching. */
  searchOptions: SearchOptions;
  /** The selection's toolbar, hidden while nothing is selected. */
  selectionBar: HTMLElement;
  selectionCount: HTMLElement;
  moveSelected: HTMLButtonElement;
  copySelected: HTMLButtonElement;
  deleteSelected: HTMLButtonElement;
  /** The trash's: restore or delete for good what is selected. */
  restoreSelected: HTMLButtonElement;
  purgeSelected: HTMLButtonElement;
  clearSelection: HTMLButtonElement;
  filePicker: HTMLInputElement;
  folderPicker: HTMLInputElement;
  /** The list's landmark and drop zone; focus falls back here when the focused row goes away. */
  main: HTMLElement;
  heading: HTMLElement;
  crumbs: HTMLElement;
  alert: HTMLElement;
  content: HTMLElement;
  hint: HTMLElement;
  toast: HTMLElement;
  /** Where the toast and the error toast float. */
  toasts: HTMLElement;
}

export function driveElements(username: string): DriveElements {
  const { header, navFiles, navTrash } = appHeader(username);
  // The pickers stay hidden: the buttons open them, so that they look like the rest of the toolbar.
  const filePicker = h("input", { type: "file", multiple: true, hidden: true, id: "pick-files" });
  const folderPicker = h("input", { type: "file", multiple: true, hidden: true, id: "pick-folder" });
  folderPicker.setAttribute("webkitdirectory", "");
  const newFolder = h("button", { type: "button", id: "new-folder" }, "New folder");
  const layoutToggle = h(
    "button",
    { type: "button", id: "layout-toggle", "aria-pressed": "false", title: "Show as tiles" },
    "Grid view",
  );
  const search = searchBox();
  const filters = searchOptions();
  const selectionCount = h("span", { class: "count", role: "status" });
  const moveSelected = h("button", { type: "button", id: "move-selected" }, "Move");
  const copySelected = h("button", { type: "button", id: "copy-selected" }, "Copy");
  const deleteSelected = h("button", { type: "button", id: "delete-selected", class: "danger" }, "Delete");
  const restoreSelected = h("button", { type: "button", id: "restore-selected" }, "Restore");
  const purgeSelected = h(
    "button",
    { type: "button", id: "purge-selected", class: "danger" },
    "Delete forever",
  );
  const clearSelection = h("button", { type: "button", class: "link", id: "clear-selection" }, "Clear");
  // "Download as ZIP" joins them when its API lands.
  const selectionBar = h(
    "div",
    { class: "selection-bar", role: "toolbar", "aria-label": "Selected items", hidden: true },
    selectionCount,
    moveSelected,
    copySelected,
    deleteSelected,
    restoreSelected,
    purgeSelected,
    clearSelection,
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
    newFolder,
    h("span", { class: "spacer" }),
    search,
    layoutToggle,
    filePicker,
    folderPicker,
  );
  const heading = h("h1", { class: "visually-hidden" }, "My files");
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Folder path" });
  const alert = h("p", { id: "alert", class: "toast error", role: "alert" });
  const content = h("div", { class: "content" });
  const hint = h(
    "p",
    { class: "drop-hint", id: "drop-hint" },
    "Drop files or folders anywhere here to upload them.",
  );
  const main = h(
    "main",
    { id: "main", class: "drive", tabindex: -1 },
    heading,
    toolbar,
    filters.bar,
    crumbs,
    selectionBar,
    content,
    hint,
  );
  // Notices float at the bottom; the error one has its own live region so that it is announced at once.
  const toast = h("p", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  const toasts = h("div", { class: "toasts" }, toast, alert);
  return {
    header,
    navFiles,
    navTrash,
    toolbar,
    newFolder,
    layoutToggle,
    search,
    searchOptions: filters,
    selectionBar,
    selectionCount,
    moveSelected,
    copySelected,
    deleteSelected,
    restoreSelected,
    purgeSelected,
    clearSelection,
    filePicker,
    folderPicker,
    main,
    heading,
    crumbs,
    alert,
    content,
    hint,
    toast,
    toasts,
  };
}
