// The consistency checker's stuck-work phase (fsck.ts): work whose deadline passed more than the grace
// period ago and still holds bytes or quota reservations, because its sweeper did not run or failed each
// time — upload sessions past their expiry, transfer jobs in flight without a sign of life or dead, content
// unreferenced (or moved) and never deleted. Meta lists them (IntegrityService.ListStuckWork). A repair
// cleans each kind up with the function its own sweeper uses (the upload worker's session sweep, GC's
// collection, the transfer worker's deletion of moved copies); a stuck transfer is started afresh and the
// copy its abandoned attempt left is deleted. What is still listed afterwards counts as not cleaned.

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ListStuckWorkResponse } from "../../proto/gen/filestore/meta/v1/integrity_pb.ts";
import { deleteMovedCopies } from "../transfer/transfer.ts";
import { sweepSession } from "../upload/sessions.ts";
import type { FsckDeps, FsckOptions } from "./fsck.ts";
import { type FsckReport, ITEMS_KEPT, stuckCount, type Tally } from "./fsck-report.ts";
import { collectGarbage } from "./gc.ts";

/** Rounds of a repair (each a listing of up to LIST_LIMIT items of each kind). */
const MAX_ROUNDS = 20;
const LIST_LIMIT = 100;

const sessionKey = (id: string) => `session:${id}`;
const transferKey = (sha256: string) => `transfer:${sha256}`;
const deletionKey = (kind: string, location: string) => `${kind}:${location}`;

/** The keys of everything a listing names. */
function keysOf(w: ListStuckWorkResponse): Set<string> {
  return new Set([
    ...w.sessions.map((s) => sessionKey(s.id)),
    ...w.transfers.map((t) => transferKey(t.blobSha256)),
    ...w.deletions.map((d) => deletionKey(d.kind, d.location)),
  ]);
}

const tally = <T>(count: bigint, bytes: bigint, items: T[]): Tally<T> => ({
  count: Number(count),
  bytes: Number(bytes),
  items,
});

function record(report: FsckReport, w: ListStuckWorkResponse): void {
  report.stuckSessions = tally(
    w.sessionCount,
    w.sessionBytes,
    w.sessions.map((s) => ({
      id: s.id,
      ownerId: s.ownerId,
      name: s.name,
      size: Number(s.size),
      state: s.state,
      expiresAt: s.expiresAt ? timestampMs(s.expiresAt) : 0,
      cleaned: false,
    })),
  );
  report.stuckTransfers = tally(
    w.transferCount,
    w.transferBytes,
    w.transfers.map((t) => ({
      sha256: t.blobSha256,
      state: t.state,
      attempts: t.attempts,
      lastError: t.lastError,
      targetLocation: t.targetLocation,
      updatedAt: Number(t.updatedAtMs),
      size: Number(t.size),
      cleaned: false,
    })),
  );
  report.pendingDeletions = tally(
    w.deletionCount,
    w.deletionBytes,
    w.deletions.map((d) => ({
      kind: d.kind,
      sha256: d.sha256,
      backend: d.backend,
      location: d.location,
      size: Number(d.size),
      since: Number(d.sinceMs),
      cleaned: false,
    })),
  );
}

export async function checkStuck(deps: FsckDeps, report: FsckReport, opts: FsckOptions): Promise<void> {
  opts.signal?.throwIfAborted();
  const staleMs = BigInt(deps.graceMs);
  const found = await deps.meta.listStuckWork({ staleMs, limit: ITEMS_KEPT });
  record(report, found);
  opts.onProgress?.({ phase: "stuck", checked: stuckCount(report) });
  if (!report.repair || stuckCount(report) === 0) return;
  await cleanUp(deps, found, opts);
  const left = await deps.meta.listStuckWork({ staleMs, limit: 1000 });
  const still = keysOf(left);
  for (const s of report.stuckSessions.items) s.cleaned = !still.has(sessionKey(s.id));
  for (const t of report.stuckTransfers.items) t.cleaned = !still.has(transferKey(t.sha256));
  for (const d of report.pendingDeletions.items) d.cleaned = !still.has(deletionKey(d.kind, d.location));
  const leftCount = Number(left.sessionCount + left.transferCount + left.deletionCount);
  report.stuckCleanFailures = leftCount;
  report.stuckCleaned = Math.max(0, stuckCount(report) - leftCount);
}

/** Runs the sweepers over what is listed, a page at a time, until a listing names nothing new. */
async function cleanUp(deps: FsckDeps, first: ListStuckWorkResponse, opts: FsckOptions): Promise<void> {
  const tried = new Set<string>();
  const staleMs = BigInt(deps.graceMs);
  let page = first;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    opts.signal?.throwIfAborted();
    const fresh = [...keysOf(page)].filter((k) => !tried.has(k));
    if (fresh.length === 0) return;
    for (const k of fresh) tried.add(k);
    for (const s of page.sessions) {
      await attempt(deps, "an upload session", { id: s.id }, () =>
        sweepSession({ meta: deps.meta, blobs: deps.storeFor(s.backend) }, s),
      );
    }
    for (const t of page.transfers) {
      await attempt(deps, "a transfer job", { sha256: t.blobSha256 }, () =>
        resetTransfer(deps, t.blobSha256),
      );
    }
    if (page.deletions.length > 0) await deletePending(deps);
    page = await deps.meta.listStuckWork({ staleMs, limit: LIST_LIMIT });
  }
}

async function attempt(
  deps: FsckDeps,
  what: string,
  fields: Record<string, string>,
  run: () => Promise<unknown>,
): Promise<void> {
  try {
    await run();
    deps.log?.info(`fsck: stuck work cleaned up: ${what}`, fields);
  } catch (err) {
    deps.log?.warn(`fsck: cleaning up ${what} failed`, { ...fields, err: String(err) });
  }
}

/** Starts a stuck job afresh and deletes the copy its abandoned attempt left (on S3). */
async function resetTransfer(deps: FsckDeps, sha256: string): Promise<void> {
  const r = await deps.meta.resetStuckTransfer({ blobSha256: sha256, staleMs: BigInt(deps.graceMs) });
  if (r.leftoverLocation) await deps.storeFor("s3").delete(r.leftoverLocation);
}

/** GC's collection (content unreferenced for the grace period) and the transfer worker's moved copies. */
async function deletePending(deps: FsckDeps): Promise<void> {
  await attempt(deps, "unreferenced content", {}, () =>
    collectGarbage({ meta: deps.meta, storeFor: deps.storeFor, graceMs: deps.graceMs, log: deps.log }),
  );
  if (!deps.backends.includes("local")) return;
  const local = deps.storeFor("local");
  await attempt(deps, "local copies of moved content", {}, async () => {
    for (let round = 0; round < MAX_ROUNDS; round++)
      if ((await deleteMovedCopies({ meta: deps.meta, local })) < LIST_LIMIT) return;
  });
}
