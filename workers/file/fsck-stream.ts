// FileAdminService.CheckIntegrity: a consistency check (fsck.ts) as a stream of progress messages and then
// its report, in the shape of filestore.admin.v1 (AdminService streams it on to the administrator).
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { IntegrityProgress, IntegrityReport } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import type { CheckIntegrityResponse } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type FsckDeps, type FsckOptions, type FsckProgress, runFsck } from "./fsck.ts";
import type { FileRef, FsckReport, MissingBlob } from "./fsck-report.ts";

type Plain<T> = Omit<T, "$typeName" | "$unknown">;
type Event = Plain<CheckIntegrityResponse>["event"];

const ref = (f: FileRef) => ({ ...f });
const missing = (m: MissingBlob) => ({
  sha256: m.sha256,
  backend: m.backend,
  location: m.location,
  size: BigInt(m.size),
  foundSize: m.foundSize === undefined ? undefined : BigInt(m.foundSize),
  files: m.files.map(ref),
});

/** The report as filestore.admin.v1.IntegrityReport. */
export function reportMessage(r: FsckReport): Plain<IntegrityReport> {
  const n = BigInt;
  return {
    repair: r.repair,
    blobsChecked: n(r.blobsChecked),
    objectsListed: n(r.objectsListed),
    usersChecked: n(r.usersChecked),
    youngObjectsSkipped: n(r.youngObjectsSkipped),
    blobsOnUnavailableBackends: n(r.blobsOnUnavailableBackends),
    missingCount: n(r.missing.count),
    missingBytes: n(r.missing.bytes),
    missing: r.missing.items.map(missing) as IntegrityReport["missing"],
    wrongSizeCount: n(r.wrongSize.count),
    wrongSizeBytes: n(r.wrongSize.bytes),
    wrongSize: r.wrongSize.items.map(missing) as IntegrityReport["wrongSize"],
    orphanCount: n(r.orphans.count),
    orphanBytes: n(r.orphans.bytes),
    orphans: r.orphans.items.map((o) => ({
      backend: o.backend,
      location: o.location,
      size: n(o.size),
      changedAt: timestampFromMs(Math.floor(o.changedAt)),
      deleted: o.deleted,
    })) as IntegrityReport["orphans"],
    orphansDeleted: n(r.orphansDeleted),
    orphanDeleteFailures: n(r.orphanDeleteFailures),
    refcountDriftCount: n(r.refcountDrifts.count),
    refcountDrifts: r.refcountDrifts.items.map((d) => ({
      sha256: d.sha256,
      stored: n(d.stored),
      counted: n(d.counted),
      repaired: d.repaired,
    })) as IntegrityReport["refcountDrifts"],
    usageDriftCount: n(r.usageDrifts.count),
    usageDrifts: r.usageDrifts.items.map((d) => ({
      userId: d.userId,
      usedBefore: n(d.usedBefore),
      usedAfter: n(d.usedAfter),
      reservedBefore: n(d.reservedBefore),
      reservedAfter: n(d.reservedAfter),
      repaired: d.repaired,
    })) as IntegrityReport["usageDrifts"],
    ...stuckFields(r),
    scrubbed: r.scrubbed,
    scrubbedBlobs: n(r.scrubbedBlobs),
    scrubbedBytes: n(r.scrubbedBytes),
    corruptCount: n(r.corrupt.count),
    corruptBytes: n(r.corrupt.bytes),
    corrupt: r.corrupt.items.map((c) => ({
      sha256: c.sha256,
      backend: c.backend,
      location: c.location,
      size: n(c.size),
      foundSha256: c.foundSha256,
      files: c.files.map(ref),
      repaired: c.repaired,
      repairedFrom: c.repairedFrom,
    })) as IntegrityReport["corrupt"],
    corruptRepaired: n(r.corruptRepaired),
  };
}

const time = (ms: number) => timestampFromMs(Math.floor(ms));

function stuckFields(r: FsckReport) {
  const n = BigInt;
  return {
    stuckSessionCount: n(r.stuckSessions.count),
    stuckSessionBytes: n(r.stuckSessions.bytes),
    stuckSessions: r.stuckSessions.items.map((s) => ({
      ...s,
      size: n(s.size),
      expiresAt: time(s.expiresAt),
    })) as IntegrityReport["stuckSessions"],
    stuckTransferCount: n(r.stuckTransfers.count),
    stuckTransfers: r.stuckTransfers.items.map((t) => ({
      blobSha256: t.sha256,
      state: t.state,
      attempts: t.attempts,
      lastError: t.lastError,
      targetLocation: t.targetLocation,
      updatedAt: time(t.updatedAt),
      size: n(t.size),
      cleaned: t.cleaned,
    })) as IntegrityReport["stuckTransfers"],
    pendingDeletionCount: n(r.pendingDeletions.count),
    pendingDeletionBytes: n(r.pendingDeletions.bytes),
    pendingDeletions: r.pendingDeletions.items.map((d) => ({
      ...d,
      size: n(d.size),
      since: time(d.since),
    })) as IntegrityReport["pendingDeletions"],
    stuckCleaned: n(r.stuckCleaned),
    stuckCleanFailures: n(r.stuckCleanFailures),
  };
}

/** Runs a check, yielding each progress message as it comes and the report last. */
export async function* checkIntegrityStream(
  deps: FsckDeps,
  opts: Pick<FsckOptions, "repair" | "scrub">,
  signal?: AbortSignal,
): AsyncGenerator<{ event: Event }> {
  const queue: Plain<IntegrityProgress>[] = [];
  let wake: (() => void) | undefined;
  const onProgress = (p: FsckProgress) => {
    queue.push({ phase: p.phase, checked: BigInt(p.checked) });
    wake?.();
  };
  let finished = false;
  const run = runFsck(deps, { ...opts, onProgress, signal }).finally(() => {
    finished = true;
    wake?.();
  });
  run.catch(() => {}); // rethrown below, once the progress so far is out
  for (;;) {
    while (queue.length > 0) {
      const progress = queue.shift() as Plain<IntegrityProgress>;
      yield { event: { case: "progress", value: progress as IntegrityProgress } };
    }
    if (finished) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  yield { event: { case: "report", value: reportMessage(await run) as IntegrityReport } };
}
