// meta's internal file rows as the public filestore.file.v1.File message.
import { create } from "@bufbuild/protobuf";
import { type File, FileKind, FileSchema } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";

/** `sha1` fills in when the record carries none (calls that do not read it). */
export function publicFile(r: FileRecord, sha1 = ""): File {
  return create(FileSchema, {
    id: r.id,
    parentId: r.parentId,
    name: r.name,
    kind: r.kind === "folder" ? FileKind.FOLDER : FileKind.FILE,
    size: r.size,
    sha256: r.blobSha256,
    sha1: r.sha1 || sha1,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    deletedAt: r.deletedAt,
  });
}
