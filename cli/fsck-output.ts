// What `filestore admin fsck` prints: the report as JSON (--json; camelCase, bytes as numbers, times as ISO
// 8601; add fields, never rename) or as lines for people.
import type {
  IntegrityCorruptBlob,
  IntegrityFileRef,
  IntegrityMissingBlob,
  IntegrityReport,
} from "../proto/gen/filestore/admin/v1/admin_pb.ts";
import { isoTime } from "./json-output.ts";
import { formatBytes } from "./progress.ts";

const fileJson = (f: IntegrityFileRef) => ({
  ownerId: f.ownerId,
  username: f.username,
  fileId: f.fileId,
  name: f.name,
  version: f.version,
});

const missingJson = (m: IntegrityMissingBlob) => ({
  sha256: m.sha256,
  backend: m.backend,
  location: m.location,
  size: Number(m.size),
  ...(m.foundSize === undefined ? {} : { foundSize: Number(m.foundSize) }),
  files: m.files.map(fileJson),
});

const corruptJson = (c: IntegrityCorruptBlob) => ({
  sha256: c.sha256,
  backend: c.backend,
  location: c.location,
  size: Number(c.size),
  foundSha256: c.foundSha256,
  files: c.files.map(fileJson),
  repaired: c.repaired,
  repairedFrom: c.repairedFrom,
});

export function fsckJson(r: IntegrityReport) {
  const n = Number;
  return {
    repair: r.repair,
    clean: isClean(r),
    blobsChecked: n(r.blobsChecked),
    objectsListed: n(r.objectsListed),
    usersChecked: n(r.usersChecked),
    youngObjectsSkipped: n(r.youngObjectsSkipped),
    blobsOnUnavailableBackends: n(r.blobsOnUnavailableBackends),
    missing: { count: n(r.missingCount), bytes: n(r.missingBytes), items: r.missing.map(missingJson) },
    wrongSize: {
      count: n(r.wrongSizeCount),
      bytes: n(r.wrongSizeBytes),
      items: r.wrongSize.map(missingJson),
    },
    orphans: {
      count: n(r.orphanCount),
      bytes: n(r.orphanBytes),
      deleted: n(r.orphansDeleted),
      deleteFailures: n(r.orphanDeleteFailures),
      items: r.orphans.map((o) => ({
        backend: o.backend,
        location: o.location,
        size: n(o.size),
        changedAt: isoTime(o.changedAt),
        deleted: o.deleted,
      })),
    },
    refcountDrifts: {
      count: n(r.refcountDriftCount),
      items: r.refcountDrifts.map((d) => ({
        sha256: d.sha256,
        stored: n(d.stored),
        counted: n(d.counted),
        repaired: d.repaired,
      })),
    },
    ...stuckJson(r),
    ...(r.scrubbed
      ? {
          scrub: {
            blobs: n(r.scrubbedBlobs),
            bytes: n(r.scrubbedBytes),
            corrupt: {
              count: n(r.corruptCount),
              bytes: n(r.corruptBytes),
              repaired: n(r.corruptRepaired),
              items: r.corrupt.map(corruptJson),
            },
          },
        }
      : {}),
    usageDrifts: {
      count: n(r.usageDriftCount),
      items: r.usageDrifts.map((d) => ({
        userId: d.userId,
        usedBefore: n(d.usedBefore),
        usedAfter: n(d.usedAfter),
        reservedBefore: n(d.reservedBefore),
        reservedAfter: n(d.reservedAfter),
        repaired: d.repaired,
      })),
    },
  };
}

function stuckJson(r: IntegrityReport) {
  const n = Number;
  return {
    stuck: {
      cleaned: n(r.stuckCleaned),
      left: n(r.stuckCleanFailures),
      sessions: {
        count: n(r.stuckSessionCount),
        bytes: n(r.stuckSessionBytes),
        items: r.stuckSessions.map((x) => ({
          id: x.id,
          ownerId: x.ownerId,
          name: x.name,
          size: n(x.size),
          state: x.state,
          expiresAt: isoTime(x.expiresAt),
          cleaned: x.cleaned,
        })),
      },
      transfers: {
        count: n(r.stuckTransferCount),
        items: r.stuckTransfers.map((t) => ({
          sha256: t.blobSha256,
          state: t.state,
          attempts: t.attempts,
          lastError: t.lastError,
          targetLocation: t.targetLocation,
          updatedAt: isoTime(t.updatedAt),
          size: n(t.size),
          cleaned: t.cleaned,
        })),
      },
      deletions: {
        count: n(r.pendingDeletionCount),
        bytes: n(r.pendingDeletionBytes),
        items: r.pendingDeletions.map((d) => ({
          kind: d.kind,
          sha256: d.sha256,
          backend: d.backend,
          location: d.location,
          size: n(d.size),
          since: isoTime(d.since),
          cleaned: d.cleaned,
        })),
      },
    },
  };
}

const stuckCount = (r: IntegrityReport) =>
  r.stuckSessionCount + r.stuckTransferCount + r.pendingDeletionCount;

/** Nothing to fix was found. */
export const isClean = (r: IntegrityReport): boolean =>
  r.missingCount +
    r.wrongSizeCount +
    r.orphanCount +
    r.refcountDriftCount +
    r.usageDriftCount +
    stuckCount(r) +
    r.corruptCount ===
  0n;

/**
 * Everything found was fixed by this run (or nothing was found): the exit code is 0. A dry run fixes
 * nothing; missing and wrong-size bytes are never fixed; an orphan whose delete failed is still there.
 */
export const allFixed = (r: IntegrityReport): boolean =>
  isClean(r) ||
  (r.repair &&
    r.missingCount + r.wrongSizeCount + r.orphanDeleteFailures + r.stuckCleanFailures === 0n &&
    r.corruptCount === r.corruptRepaired &&
    r.refcountDrifts.every((d) => d.repaired) &&
    r.usageDrifts.every((d) => d.repaired));

const files = (m: Pick<IntegrityMissingBlob, "files">) =>
  m.files.map((f) => `${f.username}:${f.name}${f.version ? " (a version)" : ""}`).join(", ") || "no file";

export function fsckLines(r: IntegrityReport): string[] {
  const lines = [
    `checked ${r.blobsChecked} blobs, ${r.objectsListed} stored objects (${r.youngObjectsSkipped} too recent to judge), ${r.usersChecked} users`,
  ];
  if (r.blobsOnUnavailableBackends > 0n)
    lines.push(`${r.blobsOnUnavailableBackends} blobs on backends this server has no store for: not checked`);
  const fixed = (done: boolean) => (done ? " (fixed)" : "");
  lines.push(`missing bytes: ${r.missingCount} blobs, ${formatBytes(Number(r.missingBytes))}`);
  for (const m of r.missing) lines.push(`  ${m.sha256} ${m.backend}:${m.location}  breaks ${files(m)}`);
  lines.push(`wrong size: ${r.wrongSizeCount} blobs`);
  for (const m of r.wrongSize)
    lines.push(
      `  ${m.sha256} ${m.backend}:${m.location} ${m.foundSize} bytes, recorded ${m.size}  breaks ${files(m)}`,
    );
  const deleted = r.repair ? `, ${r.orphansDeleted} deleted, ${r.orphanDeleteFailures} failed` : "";
  lines.push(`orphan bytes: ${r.orphanCount} objects, ${formatBytes(Number(r.orphanBytes))}${deleted}`);
  for (const o of r.orphans)
    lines.push(`  ${o.backend}:${o.location} ${formatBytes(Number(o.size))}${fixed(o.deleted)}`);
  lines.push(`reference counts drifted: ${r.refcountDriftCount}`);
  for (const d of r.refcountDrifts)
    lines.push(`  ${d.sha256} stored ${d.stored}, counted ${d.counted}${fixed(d.repaired)}`);
  lines.push(`usage counters drifted: ${r.usageDriftCount}`);
  for (const d of r.usageDrifts)
    lines.push(
      `  user ${d.userId} used ${d.usedBefore} -> ${d.usedAfter}, reserved ${d.reservedBefore} -> ${d.reservedAfter}${fixed(d.repaired)}`,
    );
  lines.push(...stuckLines(r));
  if (r.scrubbed) {
    lines.push(
      `scrub: ${r.scrubbedBlobs} blobs re-hashed (${formatBytes(Number(r.scrubbedBytes))}), ${r.corruptCount} no longer match${r.repair ? `, ${r.corruptRepaired} restored from a second copy` : ""}`,
    );
    for (const c of r.corrupt)
      lines.push(
        `  ${c.sha256} ${c.backend}:${c.location} hashes to ${c.foundSha256}  breaks ${files(c)}${c.repaired ? ` (restored from ${c.repairedFrom})` : ""}`,
      );
  }
  if (isClean(r)) lines.push("clean");
  else if (!r.repair) lines.push("run again with --repair to fix what can be fixed");
  return lines;
}

function stuckLines(r: IntegrityReport): string[] {
  const cleaned = (done: boolean) => (done ? " (cleaned)" : "");
  const lines = [
    `stuck upload sessions: ${r.stuckSessionCount} (${formatBytes(Number(r.stuckSessionBytes))} announced)`,
  ];
  for (const x of r.stuckSessions)
    lines.push(`  ${x.id} ${x.state} ${x.name} ${formatBytes(Number(x.size))}${cleaned(x.cleaned)}`);
  lines.push(`stuck transfer jobs: ${r.stuckTransferCount}`);
  for (const t of r.stuckTransfers)
    lines.push(
      `  ${t.blobSha256} ${t.state} after ${t.attempts} attempts${t.targetLocation ? `, copy ${t.targetLocation} not switched to` : ""}${cleaned(t.cleaned)}`,
    );
  lines.push(
    `pending deletions not done: ${r.pendingDeletionCount} (${formatBytes(Number(r.pendingDeletionBytes))})`,
  );
  for (const d of r.pendingDeletions)
    lines.push(`  ${d.kind} ${d.backend}:${d.location} ${formatBytes(Number(d.size))}${cleaned(d.cleaned)}`);
  if (r.repair && stuckCount(r) > 0n)
    lines.push(`stuck work cleaned: ${r.stuckCleaned}, still stuck: ${r.stuckCleanFailures}`);
  return lines;
}
