// Where the grid view gets a tile's picture.
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";

/**
 * The URL of a small picture of the file, or undefined to show its kind's icon. The server's thumbnails
 * (issue 16) plug in here; nothing else in the UI needs to change for them.
 */
export function thumbnailFor(_file: StoredFile): string | undefined {
  return undefined;
}
