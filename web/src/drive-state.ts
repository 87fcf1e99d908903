// What the drive's parts share: the view the URL names, the list's sort and paging, the breadcrumbs' folder
// cache, the page's elements, and the few things every part may do (tell the user, reload the list). One
// typed object passed around, so that each part says what it reads and writes instead of closing over it.
import type {
  FileCategory,
  SortField,
  File as StoredFile,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { DriveElements } from "./drive-elements.ts";
import type { Notices } from "./notices.ts";

export const PAGE_SIZE = 50;

/** Routes live in the URL hash: #/ (top level), #/folder/<id>, #/trash. */
export type Route = { view: "files"; folderId: string } | { view: "trash" };

export function routeOfHash(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  if (hash === "trash") return { view: "trash" };
  const m = /^folder\/([^/]+)$/.exec(hash);
  return { view: "files", folderId: m ? decodeURIComponent(m[1] as string) : "" };
}

export interface ListState {
  sort: SortField;
  descending: boolean;
  /** Page tokens of the pages before this one, and this page's. */
  previous: string[];
  token: string;
}

export interface DriveState extends Notices {
  el: DriveElements;
  /** The view on screen; each load re-reads it from the URL. */
  route: Route;
  list: ListState;
  /** Folders fetched for the breadcrumbs, by id; a rename or move drops its entry. */
  folders: Map<string, StoredFile>;
  /** Number of the latest load: the answer of an earlier, slower one is dropped. */
  loading: number;
  /** Loads the route's list now. */
  load(): Promise<void>;
  /** Loads it shortly, once for a burst of changes (uploads finishing, change events). */
  scheduleReload(): void;
  /** The entries on screen, in their order: what selection, the keyboard and the viewer walk through. */
  entries: StoredFile[];
  /** Ids of the selected entries (of this page) and the index a shift-click extends from. */
  selected: Set<string>;
  anchor: number;
  /** Rows or tiles; kept in localStorage. */
  layout: Layout;
  /** The search box's query and filters: a query replaces the folder's list with its matches. */
  search: SearchState;
}

export interface SearchState {
  /** "" shows the folder. */
  query: string;
  /** Below the open folder only, or the whole tree. */
  inFolder: boolean;
  /** UNSPECIFIED: any kind. */
  category: FileCategory;
  /** Only entries modified in the last this many days (0: any time). */
  sinceDays: number;
}

export type Layout = "list" | "grid";

/** Where uploads and new folders go: the open folder, or the top level outside the file views. */
export const targetFolder = (drive: DriveState): string =>
  drive.route.view === "files" ? drive.route.folderId : "";
