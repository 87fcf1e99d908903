// The signed-in app: the file list (folders, sort, paging, rename, move, trash, download, copy link), the
// trash, and uploads by picking or dropping files and folders. Routes live in the URL hash:
// #/ (top level), #/folder/<id>, #/trash.
//
// This file only composes the parts, which share one DriveState (drive-state.ts): the markup
// (drive-elements.ts), loading a view (list-loader.ts → folder-view.ts / trash-view.ts, file-table.ts,
// pager.ts), what rows and the toolbar do (file-actions.ts), picking and dropping files
// (file-picking.ts), live updates (live-updates.ts), the upload panel (upload-view.ts).
import { SortField } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { Session } from "./api.ts";
import { mount } from "./dom.ts";
import { driveElements } from "./drive-elements.ts";
import { type DriveState, routeOfHash } from "./drive-state.ts";
import { newFolder } from "./file-actions.ts";
import { acceptDrops, acceptPickedFiles } from "./file-picking.ts";
import { loadList } from "./list-loader.ts";
import { reloadSoon, watchFiles } from "./live-updates.ts";
import { notices } from "./notices.ts";
import { uploadPanel } from "./upload-view.ts";
import { UploadQueue } from "./uploads.ts";

/** Shows the drive in `root`; the returned function leaves it (stops the live updates, pauses uploads). */
export function driveView(root: HTMLElement, session: Session): () => void {
  const stop = new AbortController();
  const el = driveElements(session.username);
  const drive: DriveState = {
    el,
    route: routeOfHash(),
    list: { sort: SortField.NAME, descending: false, previous: [], token: "" },
    folders: new Map(),
    loading: 0,
    ...notices(el.toast, el.alert),
    load: () => loadList(drive),
    scheduleReload: reloadSoon(() => drive.load()),
  };

  const queue = new UploadQueue((f) => {
    drive.say(`Uploaded ${f.name}`);
    drive.scheduleReload();
  });
  acceptPickedFiles(drive, queue);
  acceptDrops(drive, queue);
  el.newFolder.addEventListener("click", () => void newFolder(drive));
  const panel = uploadPanel(
    queue,
    () => session.userId,
    () => el.filePicker.click(),
  );
  mount(root, el.header, el.main, panel, el.toast);

  // Another folder or view: back to its first page, in the same sort order.
  const onHash = () => {
    drive.list.previous = [];
    drive.list.token = "";
    void drive.load();
  };
  addEventListener("hashchange", onHash, { signal: stop.signal });
  void drive.load();
  void watchFiles(drive, stop.signal);
  return () => {
    stop.abort();
    for (const it of queue.items) queue.pause(it.id);
  };
}
