// Loads the view the URL names (a folder, the search's results in it, or the trash) into the main area. Loads overlap (a click, a
// change event, a hash change): only the latest one draws, and the redraw keeps the keyboard focus.
import { Code } from "@connectrpc/connect";
import { codeOf, explain } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, routeOfHash } from "./drive-state.ts";
import { findSpot, spotOf } from "./focus-return.ts";
import { folderView } from "./folder-view.ts";
import { paintSearchOptions } from "./search-box.ts";
import { searchView } from "./search-view.ts";
import { keepSelection } from "./selection.ts";
import { loadThumbnails } from "./thumbnails.ts";
import { trashView } from "./trash-view.ts";

export async function loadList(drive: DriveState): Promise<void> {
  const ticket = ++drive.loading;
  const stale = () => ticket !== drive.loading;
  const route = routeOfHash();
  drive.route = route;
  const { el } = drive;
  el.navFiles.toggleAttribute("aria-current", route.view === "files");
  el.navTrash.toggleAttribute("aria-current", route.view === "trash");
  el.toolbar.hidden = route.view !== "files";
  el.layoutToggle.setAttribute("aria-pressed", String(drive.layout === "grid"));
  el.hint.hidden = route.view !== "files";
  // The selection bar's buttons: Move and Delete in the file views, Restore and Delete forever in the trash.
  for (const b of [el.moveSelected, el.deleteSelected]) b.hidden = route.view !== "files";
  for (const b of [el.restoreSelected, el.purgeSelected]) b.hidden = route.view !== "trash";
  paintSearchOptions(drive, el.searchOptions);
  try {
    const list =
      route.view === "trash"
        ? await trashView(drive, stale)
        : drive.search.query
          ? await searchView(drive, route.folderId, stale)
          : await folderView(drive, route.folderId, stale);
    if (!list) return;
    keepingFocus(drive, list);
    keepSelection(drive);
    if (route.view === "files") void loadThumbnails(drive, ticket);
  } catch (err) {
    if (stale()) return;
    // A folder that was deleted or never existed (an old link): show the top level instead.
    if (codeOf(err) === Code.NotFound && route.view === "files" && route.folderId) {
      location.hash = "#/";
      return;
    }
    mount(el.content, h("p", { class: "error", role: "alert" }, `Could not load the list: ${explain(err)}`));
  }
}

/** Redraws the list without losing the keyboard focus (live updates redraw it at any time). */
function keepingFocus(drive: DriveState, list: Child[]): void {
  const { content, main } = drive.el;
  const was = document.activeElement;
  const spot = was && content.contains(was) ? spotOf(was) : undefined;
  mount(content, list);
  if (spot) (findSpot(content, spot) ?? main).focus();
}
