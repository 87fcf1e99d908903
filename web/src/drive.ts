// The signed-in app: the file list (folders, sort, paging, rename, move, trash, download, copy link), search,
// the trash, and uploads by picking or dropping files and folders. Routes live in the URL hash:
// #/ (top level), #/folder/<id>, #/trash.
//
// This file only composes the parts, which share one DriveState (drive-state.ts): the markup
// (drive-elements.ts), loading a view (list-loader.ts → folder-view.ts / search-view.ts / trash-view.ts,
// file-table.ts, pager.ts, thumbnails.ts), what rows and the toolbar do (file-actions.ts, trash-actions.ts),
// picking and dropping files (file-picking.ts), live updates (live-updates.ts), the upload panel
// (upload-view.ts), selection (selection.ts), the keyboard (keyboard.ts), search (search-box.ts), drag to
// move (drag-move.ts), the viewer (viewer.ts), the usage line under the list
// (usage-bar.ts).
import {
  FileCategory,
  SortField,
  type File as StoredFile,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { Session } from "./api.ts";
import { mount } from "./dom.ts";
import { dragToMove } from "./drag-move.ts";
import { driveElements } from "./drive-elements.ts";
import { type DriveState, type Layout, routeOfHash } from "./drive-state.ts";
import { copyMany, moveMany, newFolder, trashMany } from "./file-actions.ts";
import { acceptDrops, acceptPickedFiles } from "./file-picking.ts";
import { listKeyboard } from "./keyboard.ts";
import { loadList } from "./list-loader.ts";
import { reloadSoon, watchFiles } from "./live-updates.ts";
import { notices } from "./notices.ts";
import { wireSearch } from "./search-box.ts";
import { selectAll, selectedFiles } from "./selection.ts";
import { purgeMany, restoreMany } from "./trash-actions.ts";
import { uploadPanel } from "./upload-view.ts";
import { UploadQueue } from "./uploads.ts";
import { usageBar } from "./usage-bar.ts";

const LAYOUT_KEY = "filestore.layout";

/** The upload queue, which outlives the drive's page; `uploaded`: what the page on screen does then. */
interface KeptQueue {
  userId: string;
  queue: UploadQueue;
  uploaded: (f: StoredFile) => void;
}
let kept: KeptQueue | undefined;

/**
 * The user's queue: going to the account or admin page and back leaves uploads running (the panel shows
 * them again); signing out, or another user, pauses them (resumable by adding the files again).
 */
function keptQueue(userId: string): KeptQueue {
  if (kept && kept.userId !== userId) pauseUploads();
  if (!kept) {
    const k: KeptQueue = { userId, uploaded: () => undefined, queue: new UploadQueue((f) => k.uploaded(f)) };
    kept = k;
  }
  return kept;
}

function pauseUploads(): void {
  if (kept) for (const it of kept.queue.items) kept.queue.pause(it.id);
  kept = undefined;
}

/**
 * Shows the drive in `root`; the returned function leaves it (stops the live updates; uploads go on,
 * unless the user is signing out).
 */
export function driveView(root: HTMLElement, session: Session): (signingOut?: boolean) => void {
  const stop = new AbortController();
  const el = driveElements(session.username);
  const usage = usageBar();
  const drive: DriveState = {
    el,
    route: routeOfHash(),
    list: { sort: SortField.NAME, descending: false, previous: [], token: "" },
    folders: new Map(),
    loading: 0,
    ...notices(el.toast, el.alert),
    load: () => loadList(drive).finally(usage.refresh),
    scheduleReload: reloadSoon(() => drive.load()),
    entries: [],
    selected: new Set(),
    anchor: -1,
    layout: localStorage.getItem(LAYOUT_KEY) === "grid" ? "grid" : "list",
    search: { query: "", inFolder: false, category: FileCategory.UNSPECIFIED, sinceDays: 0 },
  };

  const keep = keptQueue(session.userId);
  const queue = keep.queue;
  keep.uploaded = (f) => {
    drive.say(`Uploaded ${f.name}`);
    drive.scheduleReload();
  };
  acceptPickedFiles(drive, queue);
  acceptDrops(drive, queue);
  el.newFolder.addEventListener("click", () => void newFolder(drive));
  el.moveSelected.addEventListener(
    "click",
    () => void moveMany(drive, selectedFiles(drive)).catch(drive.fail),
  );
  el.copySelected.addEventListener(
    "click",
    () => void copyMany(drive, selectedFiles(drive)).catch(drive.fail),
  );
  el.deleteSelected.addEventListener("click", () => void trashMany(drive, selectedFiles(drive)));
  el.restoreSelected.addEventListener(
    "click",
    () => void restoreMany(drive, selectedFiles(drive)).catch(drive.fail),
  );
  el.purgeSelected.addEventListener(
    "click",
    () => void purgeMany(drive, selectedFiles(drive)).catch(drive.fail),
  );
  el.clearSelection.addEventListener("click", () => selectAll(drive, false));
  el.layoutToggle.addEventListener("click", () => {
    drive.layout = drive.layout === "grid" ? "list" : "grid";
    localStorage.setItem(LAYOUT_KEY, drive.layout satisfies Layout);
    void drive.load();
  });
  wireSearch(drive, el.search, el.searchOptions, stop.signal);
  listKeyboard(drive, el.search, stop.signal);
  dragToMove(drive, stop.signal);
  const panel = uploadPanel(
    queue,
    () => session.userId,
    () => el.filePicker.click(),
    stop.signal,
  );
  // In the page's flow under the toolbar, so that it pushes the list down instead of covering it.
  el.toolbar.after(panel);
  mount(root, el.header, el.main, usage.el, el.toasts);

  // Another folder or view: back to its first page, in the same sort order.
  const onHash = () => {
    drive.list.previous = [];
    drive.list.token = "";
    drive.selected.clear();
    drive.anchor = -1;
    void drive.load();
  };
  addEventListener("hashchange", onHash, { signal: stop.signal });
  void drive.load();
  void watchFiles(drive, stop.signal);
  return (signingOut) => {
    stop.abort();
    keep.uploaded = () => undefined;
    if (signingOut) pauseUploads();
  };
}
