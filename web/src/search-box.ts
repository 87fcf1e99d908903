// The search box (Ctrl/Cmd+F). Server-side search (SearchFiles, issue 16) plugs into runSearch; until
// then it narrows the page on screen by name, which is all the list has.
import { h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";

export function searchBox(): HTMLInputElement {
  return h("input", {
    type: "search",
    id: "search",
    class: "search",
    placeholder: "Search",
    "aria-label": "Search files by name",
    autocomplete: "off",
  });
}

/** Wires the box to the drive: typing filters, Escape clears. */
export function wireSearch(drive: DriveState, box: HTMLInputElement): void {
  box.addEventListener("input", () => runSearch(drive, box.value));
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !box.value) return;
    box.value = "";
    runSearch(drive, "");
  });
}

/**
 * The hook for search: today it hides the entries of the page whose names do not contain the query
 * (case- and accent-insensitive); with the search API it lists the matches of the whole tree instead.
 */
export function runSearch(drive: DriveState, query: string): void {
  const q = fold(query.trim());
  for (const el of drive.el.content.querySelectorAll<HTMLElement>(".entry[data-id]")) {
    const f = drive.entries[Number(el.dataset.index)];
    el.hidden = q !== "" && !!f && !fold(f.name).includes(q);
  }
}

const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
