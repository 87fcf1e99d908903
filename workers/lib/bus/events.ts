// The events on the bus, one JSON shape per topic, and their encoders: whoever publishes and whoever
// listens use these (a listener skips a body it cannot read rather than failing its subscription).
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type WatchFilesResponse_Change as Change,
  type File,
  FileSchema,
} from "../../../proto/gen/filestore/file/v1/file_pb.ts";
import { type TransferJob, TransferJobSchema } from "../../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import type { EventBus, Topic } from "./types.ts";

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

/** The longest a change waits for its event to be on the bus before its caller answers. */
export const EVENT_WAIT_MS = 1000;

/**
 * A publisher whose promise resolves once the event is on the bus: a caller that answers after it knows
 * that every replica's caches (download lookups, share liveness) drop what it changed before a request
 * its answer leads to can reach them. At most EVENT_WAIT_MS, and not at all while the bus is stalled (a
 * wait timed out and no event has gone out since: Redis unreachable, events wait in the pump): a change
 * never waits on an outage; the caches' expiry bounds the rest.
 */
function teller(bus: EventBus | undefined) {
  let stalled = false;
  return async (topic: Topic, body: string): Promise<void> => {
    if (!bus) return;
    const published = bus.publish(topic, body).then(
      () => {
        stalled = false;
        return true;
      },
      () => false,
    );
    if (stalled) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), EVENT_WAIT_MS);
    });
    if (!(await Promise.race([published, waited]))) stalled = true;
    clearTimeout(timer);
  };
}

/** The publishing side in one place, so that callers need not know topics and encodings. */
export function publishers(bus: EventBus | undefined) {
  const told = teller(bus);
  return {
    /** Resolves once the event is on the bus (see told). */
    fileChanged(e: FileEvent): Promise<void> {
      return told("files", encodeFileEvent(e));
    },
    uploaded(e: UploadEvent): void {
      void bus?.publish("uploads", JSON.stringify(e));
    },
    /** Resolves once the event is on the bus (see told). */
    linkRevoked(e: LinkEvent): Promise<void> {
      return told("links", JSON.stringify(e));
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
