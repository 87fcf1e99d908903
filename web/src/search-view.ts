// The search's results: the matches of the query (SearchFiles), in the list's sort order and paged like a
// folder, each with the folder it is in (a link there). A result opens like any entry: a folder is
// entered, a file opens in the viewer.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { type DriveState, PAGE_SIZE } from "./drive-state.ts";
import { fileTable } from "./file-table.ts";
import { folderPaths } from "./folder-path.ts";
import { pager } from "./pager.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Draws the heading and crumbs and returns the list to show, or undefined when a newer load began. */
export async function searchView(
  drive: DriveState,
  folderId: string,
  stale: () => boolean,
): Promise<Child[] | undefined> {
  const { list, search } = drive;
  const below = search.inFolder ? folderId : "";
  const page = await files.searchFiles({
    query: search.query,
    folderId: below,
    category: search.category,
    modifiedFrom: search.sinceDays ? timestampFromMs(Date.now() - search.sinceDays * DAY_MS) : undefined,
    sort: list.sort,
    descending: list.descending,
    pageSize: PAGE_SIZE,
    pageToken: list.token,
  });
  const paths = await folderPaths(drive, [...page.files.map((f) => f.parentId), below].filter(Boolean));
  if (stale()) return undefined;
  drive.el.heading.textContent = `Search results for ${search.query}`;
  const scope = below ? (paths.get(below) ?? "this folder") : "My files";
  mount(
    drive.el.crumbs,
    h("a", { href: "#/", "data-folder-id": "" }, "My files"),
    h("span", { class: "sep", "aria-hidden": "true" }, " / "),
    h("span", { "aria-current": "page" }, `Results for “${search.query}” in ${scope}`),
  );
  drive.entries = page.files;
  const where = (f: StoredFile) => {
    const path = f.parentId ? paths.get(f.parentId) : "/";
    const label = path === "/" ? "My files" : path || "—";
    return h(
      "a",
      {
        href: f.parentId ? `#/folder/${encodeURIComponent(f.parentId)}` : "#/",
        class: "location-link",
        title: path === "/" ? "My files" : path,
        "aria-label": `Open the folder of ${f.name}`,
      },
      label,
    );
  };
  const table = fileTable(drive, page.files, {
    where,
    empty: `No matches for “${search.query}”${below ? ` in ${scope}` : ""}.`,
  });
  return [table, pager(drive, page.nextPageToken)];
}
