// UploadService.UploadFile: a file as a client stream (a header, then chunks), for gRPC clients. The
// header's on_conflict works as on the data plane (UNSPECIFIED: FAIL).
import type { Identity } from "../../core/access-token.ts";
import type { FileRecord } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { UploadFileRequest } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { invalidArgument } from "../lib/errors.ts";
import { storeUpload, type UploadDeps } from "./upload.ts";

export async function storeStreamed(
  deps: UploadDeps,
  who: Identity,
  requests: AsyncIterable<UploadFileRequest>,
): Promise<FileRecord> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.payload.case !== "header") {
    throw invalidArgument("the first message must be the header (name, size, sha256, on_conflict)");
  }
  const header = first.value.payload.value;
  async function* chunks() {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (r.value.payload.case !== "chunk") throw invalidArgument("after the header come only chunks");
      yield r.value.payload.value;
    }
  }
  return storeUpload(
    deps,
    who,
    {
      name: header.name,
      parentId: header.parentId,
      expectedSize: header.size > 0n ? Number(header.size) : undefined,
      expectedSha256: header.sha256 || undefined,
      onConflict: header.onConflict,
    },
    chunks(),
  );
}
