// Where an entry lives: the folders from the top level down to it, fetched once each and kept in the
// drive's folder cache (breadcrumbs, search results).
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import type { DriveState } from "./drive-state.ts";

/** Folders being fetched: the search's results often share ancestors, each is asked for once. */
const fetching = new Map<string, Promise<StoredFile | undefined>>();

async function folder(drive: DriveState, id: string): Promise<StoredFile | undefined> {
  const known = drive.folders.get(id);
  if (known) return known;
  let got = fetching.get(id);
  if (!got) {
    got = files
      .getFile({ id })
      .then(({ file }) => {
        if (file) drive.folders.set(id, file);
        return file;
      })
      .finally(() => fetching.delete(id));
    fetching.set(id, got);
  }
  return got;
}

/** The folders from the top level down to `id`, from the cache where it has them (bounded against loops). */
export async function pathTo(drive: DriveState, id: string): Promise<StoredFile[]> {
  const trail: StoredFile[] = [];
  for (let at = id; at && trail.length < 64; ) {
    const f = await folder(drive, at);
    if (!f) break;
    trail.unshift(f);
    at = f.parentId;
  }
  return trail;
}

/** The paths of several folders ("/docs/2024", "/" for the top level), each fetched once. */
export async function folderPaths(drive: DriveState, ids: Iterable<string>): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const trails = await Promise.all(unique.map((id) => pathTo(drive, id).catch(() => undefined)));
  return new Map(
    unique.map((id, i) => {
      const trail = trails[i];
      return [id, trail ? `/${trail.map((f) => f.name).join("/")}` : ""];
    }),
  );
}
