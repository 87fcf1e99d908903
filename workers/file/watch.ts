// WatchFiles: a per-process feed of each user's changes. Changes this process makes are published the
// moment they commit; changes made elsewhere (uploads, other file-service processes) are found by a cheap
// periodic check while someone watches: the user's files updated since the last check (newest first,
// with an overlap for transactions that commit late), deduplicated by (id, updated_at).
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { File } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { resourceExhausted } from "../lib/errors.ts";
import { publicFile } from "../lib/file-record.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { every } from "../lib/periodic.ts";
import { Change } from "./files.ts";

export interface FileChange {
  change: Change;
  file: File;
}

/** Changes a watcher may fall behind by before its stream ends (it should list again and re-watch). */
const MAX_QUEUED = 1000;
/** How far back each check looks beyond the previous one (late commits, clock skew between processes). */
const OVERLAP_MS = 5_000;
/** Rows one check reads per user at most (more changes than that in one interval are rare; a re-list helps). */
const MAX_CHECK_ROWS = 1000;

interface Watcher {
  queue: FileChange[];
  wake?: () => void;
  overflowed: boolean;
}

interface UserFeed {
  watchers: Set<Watcher>;
  /** Updated-at (ms) already reported per file id, within the overlap window. */
  seen: Map<string, number>;
  /** Files updated before this (ms) were checked already. */
  checkedUntil: number;
}

const updatedMs = (f: File) => (f.updatedAt ? Number(timestampMs(f.updatedAt)) : 0);

export class ChangeFeed {
  private readonly users = new Map<string, UserFeed>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Reports a change to the user's watchers (if any). */
  publish = (ownerId: string, change: Change, file: File): void => {
    const feed = this.users.get(ownerId);
    if (!feed) return;
    feed.seen.set(file.id, updatedMs(file));
    for (const w of feed.watchers) {
      if (w.queue.length >= MAX_QUEUED) w.overflowed = true;
      else w.queue.push({ change, file });
      w.wake?.();
    }
  };

  /** The user's changes from now on, until `signal` aborts. */
  async *watch(ownerId: string, signal: AbortSignal): AsyncGenerator<FileChange> {
    let feed = this.users.get(ownerId);
    if (!feed) {
      feed = { watchers: new Set(), seen: new Map(), checkedUntil: this.now() };
      this.users.set(ownerId, feed);
    }
    const w: Watcher = { queue: [], overflowed: false };
    feed.watchers.add(w);
    const onAbort = () => w.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const next = w.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (w.overflowed)
          throw resourceExhausted("too many changes to deliver: list the files again, then watch again");
        await new Promise<void>((resolve) => {
          w.wake = resolve;
        });
        w.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      feed.watchers.delete(w);
      if (feed.watchers.size === 0) this.users.delete(ownerId);
    }
  }

  /** Watched users (for the periodic check). */
  watched(): string[] {
    return [...this.users.keys()];
  }

  /** Finds and publishes one user's changes made elsewhere since the last check. */
  async check(meta: MetaClient, ownerId: string): Promise<void> {
    const feed = this.users.get(ownerId);
    if (!feed) return;
    const started = this.now();
    const since = feed.checkedUntil - OVERLAP_MS;
    const found: File[] = [];
    let pageToken = "";
    do {
      const page = await meta.listFiles({
        ownerId,
        allFolders: true,
        sort: "updated_at",
        descending: true,
        pageSize: 200,
        pageToken,
      });
      const recent = page.files.map((f) => publicFile(f)).filter((f) => updatedMs(f) >= since);
      found.push(...recent);
      pageToken = recent.length === page.files.length ? page.nextPageToken : "";
    } while (pageToken && found.length < MAX_CHECK_ROWS);
    // Oldest first, as they happened.
    for (const f of found.reverse()) {
      if (feed.seen.get(f.id) === updatedMs(f)) continue;
      const created = f.createdAt && f.updatedAt && timestampMs(f.createdAt) === timestampMs(f.updatedAt);
      this.publish(ownerId, created ? Change.CREATED : Change.UPDATED, f);
    }
    for (const [id, at] of feed.seen) if (at < since) feed.seen.delete(id);
    feed.checkedUntil = started;
  }

  /** Checks every watched user each `seconds`; returns a stop function. */
  startChecks(meta: MetaClient, seconds: number, log: Logger): () => void {
    return every(seconds, "file change check", log, async () => {
      for (const ownerId of this.watched()) await this.check(meta, ownerId);
    });
  }
}
