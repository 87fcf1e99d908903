// The events on the bus, one JSON shape per topic, and their encoders: whoever publishes and whoever
// listens use these (a listener skips a body it cannot read rather than failing its subscription).
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type WatchFilesResponse_Change as Change,
  type File,
  FileSchema,
} from "../../../proto/gen/filestore/file/v1/file_pb.ts";
import { type TransferJob, TransferJobSchema } from "../../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import type { EventBus } from "./types.ts";

/** What was done to a file (WatchFiles clients get the `change`; the op says more for logs and caches). */
export type FileOp =
  | "create"
  | "rename"
  | "move"
  | "delete"
  | "restore"
  | "purge"
  | "copy"
  | "upload"
  | "version";

/** Topic "files": one entry changed (its File as its owner sees it after the change). */
export interface FileEvent {
  ownerId: string;
  op: FileOp;
  change: Change;
  file: File;
}

/** Topic "uploads": content became a file (any upload path, instant links included). */
export interface UploadEvent {
  ownerId: string;
  fileId: string;
  sha256: string;
  size: number;
}

/**
 * Topic "links": a share link was revoked or edited ("share"), every signed link of a file was revoked
 * ("file-links"), or a user was disabled or deleted ("owner": every link of theirs stops).
 */
export interface LinkEvent {
  kind: "share" | "file-links" | "owner";
  /** The share's id, the file's id for "file-links", the user's for "owner". */
  id: string;
  ownerId: string;
}

/** Topic "blobs": content no file refers to any more (garbage collection may take it after its grace). */
export interface BlobEvent {
  sha256: string;
}

const parse = (body: string): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(body);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
};

export function encodeFileEvent(e: FileEvent): string {
  return JSON.stringify({ ownerId: e.ownerId, op: e.op, change: e.change, file: toJson(FileSchema, e.file) });
}

export function decodeFileEvent(body: string): FileEvent | undefined {
  const v = parse(body);
  if (!v || typeof v.ownerId !== "string" || typeof v.change !== "number") return undefined;
  try {
    return {
      ownerId: v.ownerId,
      op: String(v.op) as FileOp,
      change: v.change as Change,
      file: fromJson(FileSchema, v.file as JsonValue, { ignoreUnknownFields: true }),
    };
  } catch {
    return undefined;
  }
}

/** The owner and file id of a file event, without decoding the file (the download cache's hot path). */
export function fileEventKey(body: string): { ownerId: string; fileId: string } | undefined {
  const v = parse(body);
  const file = v?.file as Record<string, unknown> | undefined;
  return typeof v?.ownerId === "string" ? { ownerId: v.ownerId, fileId: String(file?.id ?? "") } : undefined;
}

export function encodeTransferEvent(job: TransferJob): string {
  return JSON.stringify({ job: toJson(TransferJobSchema, job) });
}

export function decodeTransferEvent(body: string): TransferJob | undefined {
  const v = parse(body);
  try {
    return v ? fromJson(TransferJobSchema, v.job as JsonValue, { ignoreUnknownFields: true }) : undefined;
  } catch {
    return undefined;
  }
}

export const decodeLinkEvent = (body: string): LinkEvent | undefined => {
  const v = parse(body);
  return v && typeof v.id === "string" && typeof v.kind === "string"
    ? (v as unknown as LinkEvent)
    : undefined;
};

/** How long a link's change waits for the bus before its caller answers (the default lookup cache's life). */
export const LINK_EVENT_WAIT_MS = 1000;

/** The publishing side in one place, so that callers need not know topics and encodings. */
export function publishers(bus: EventBus | undefined) {
  return {
    fileChanged(e: FileEvent): void {
      void bus?.publish("files", encodeFileEvent(e));
    },
    uploaded(e: UploadEvent): void {
      void bus?.publish("uploads", JSON.stringify(e));
    },
    /**
     * Resolves once the event is on the bus (the caller answers after it: replicas that keep a link's
     * answer drop it before the next request can reach them), or after LINK_EVENT_WAIT_MS while the bus
     * is unreachable (the event still goes out when it is back; the caches' expiry bounds the rest).
     */
    async linkRevoked(e: LinkEvent): Promise<void> {
      if (!bus) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, LINK_EVENT_WAIT_MS);
      });
      await Promise.race([bus.publish("links", JSON.stringify(e)).catch(() => {}), waited]);
      clearTimeout(timer);
    },
    blobUnreferenced(e: BlobEvent): void {
      void bus?.publish("blobs", JSON.stringify(e));
    },
    transferChanged(job: TransferJob): void {
      void bus?.publish("transfers", encodeTransferEvent(job));
    },
  };
}
export type Publishers = ReturnType<typeof publishers>;
