// The JSON the CLI prints for --json: stable field names (camelCase, as the API's JSON), times as ISO 8601
// strings, sizes as numbers. Documented in README.md ("Command-line client"); add fields, never rename.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { File } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { isFolder } from "./remote.ts";

export const isoTime = (t: Timestamp | undefined): string | null =>
  t ? timestampDate(t).toISOString() : null;

export interface EntryJson {
  id: string;
  name: string;
  kind: "file" | "folder";
  /** Bytes; 0 for folders. */
  size: number;
  /** Hex SHA-256 of the content; "" for folders. */
  sha256: string;
  /** "" for the root folder. */
  parentId: string;
  createdAt: string | null;
  updatedAt: string | null;
}

export function entryJson(f: File): EntryJson {
  return {
    id: f.id,
    name: f.name,
    kind: isFolder(f) ? "folder" : "file",
    size: Number(f.size),
    sha256: f.sha256,
    parentId: f.parentId,
    createdAt: isoTime(f.createdAt),
    updatedAt: isoTime(f.updatedAt),
  };
}
