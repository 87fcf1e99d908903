// The parts of a multipart session sent in parallel: a pool of part slots shared by the files of a page,
// and the loop that sends a session's missing parts through it (sendPart: progress, retries with
// backoff). The drive's upload queue (uploads.ts) and a drop link's page (share-drop.ts) both use it;
// they differ in how the session is created and completed, and in the credentials a part carries.
import type { UploadItem } from "./upload-item.ts";
import { type PartCredentials, sendPart } from "./upload-transport.ts";

/**
 * Files above this size go through a multipart session on a drop link's page (smaller ones in one PUT):
 * the server's smallest default part size (partSizeFor in workers/meta/part-sizes.ts), so a session always
 * has at least two parts to send in parallel and to resume.
 */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;

/**
 * Parts in flight, over all files: browsers open about six HTTP/1.1 connections per host, and the file
 * list's RPCs and the WatchFiles stream need some of them too.
 */
export const PARTS_IN_PARALLEL = 4;

/** At most `n` parts in flight; the rest wait their turn in order. */
export class PartSlots {
  private waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Hands the slot to the next part waiting, or frees it. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** What sending parts needs of an upload (the drive's UploadItem has more). */
export type PartItem = Pick<UploadItem, "file" | "state" | "inflight" | "note" | "samples" | "sent">;

export interface PartPlan {
  partCount: number;
  partSize: number;
  /** Part n's URLs: on the data plane, and presigned in the bucket when the server gave one. */
  urlsOf(n: number): { direct?: string; plane: string };
  /** What a part sent to the data plane carries (default: the signed-in user's access token). */
  credentials?: PartCredentials;
}

/** Part n's size: all are partSize but the last. */
export const partSizeOf = (item: PartItem, plan: PartPlan, n: number) =>
  n < plan.partCount ? plan.partSize : item.file.size - plan.partSize * (plan.partCount - 1);

/** Takes the server's part list (ListParts, or a drop session's) as what is done: `done` and item.sent. */
export function partsOnServer(
  item: PartItem,
  plan: PartPlan,
  done: Set<number>,
  parts: { partNumber: number; size: bigint | string | number }[],
): void {
  for (const p of parts) if (Number(p.size) === partSizeOf(item, plan, p.partNumber)) done.add(p.partNumber);
  item.sent = [...done].reduce((a, n) => a + partSizeOf(item, plan, n), 0);
}

/**
 * Sends the parts not in `done`, `lanes` at a time and each in a slot of `slots`; adds each one sent to
 * `done` and item.sent, then calls `sent`. Returns when all are sent, or early when the item leaves
 * "uploading" (paused or canceled: the parts in flight were aborted and are sent again on resume).
 */
export async function sendParts(
  item: PartItem,
  plan: PartPlan,
  done: Set<number>,
  o: { slots: PartSlots; lanes: number; changed: () => void; sent?: (n: number) => void },
): Promise<void> {
  const todo = Array.from({ length: plan.partCount }, (_, i) => i + 1).filter((n) => !done.has(n));
  const lane = async () => {
    for (let n = todo.shift(); n !== undefined; n = todo.shift()) {
      await o.slots.take();
      try {
        const size = partSizeOf(item, plan, n);
        await sendPart(item, n, plan.urlsOf(n), plan.partSize, size, o.changed, plan.credentials);
      } finally {
        o.slots.give();
      }
      if (item.state !== "uploading") {
        todo.unshift(n);
        return;
      }
      done.add(n);
      item.sent += partSizeOf(item, plan, n);
      o.sent?.(n);
    }
  };
  await Promise.all(Array.from({ length: o.lanes }, lane));
}
