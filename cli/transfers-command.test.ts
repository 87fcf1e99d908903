// What `filestore transfers` prints: the JSON shapes (stable names, numbers, ISO times, null when nothing
// is queued) and the lines for people.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  GetTransferStatsResponseSchema,
  JobState,
  TransferJobSchema,
} from "../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { jobJson, jobRow, statsJson, statsLines } from "./transfers-command.ts";

const at = Date.UTC(2026, 11, 4, 9, 30, 5);

describe("filestore transfers output", () => {
  test("a job: JSON and one line with the last error", () => {
    const j = create(TransferJobSchema, {
      blobSha256: "ab".repeat(32),
      state: JobState.FAILED,
      attempts: 5,
      size: 3n * 1024n * 1024n,
      lastError: "S3 unreachable",
      createdAt: timestampFromMs(at - 60_000),
      updatedAt: timestampFromMs(at),
    });
    expect(jobJson(j)).toEqual({
      sha256: "ab".repeat(32),
      state: "failed",
      attempts: 5,
      size: 3 * 1024 * 1024,
      lastError: "S3 unreachable",
      createdAt: "2026-12-04T09:29:05.000Z",
      updatedAt: "2026-12-04T09:30:05.000Z",
    });
    expect(jobRow(j)).toBe(
      `2026-12-04 09:30:05  failed    5     3.0 MiB  ${"ab".repeat(32)}  S3 unreachable`,
    );
  });

  test("stats: the oldest queued job's wait when one is queued; null and no wait when none is", () => {
    const s = create(GetTransferStatsResponseSchema, {
      queued: 3n,
      running: 1n,
      failed: 2n,
      done: 10n,
      doneLastHour: 4n,
      localBlobs: 5n,
      oldestQueuedAt: timestampFromMs(at),
      oldestQueuedAge: durationFromMs(125_000),
      bytesWaiting: 2048n,
    });
    expect(statsJson(s)).toMatchObject({
      oldestQueuedAt: "2026-12-04T09:30:05.000Z",
      oldestQueuedAgeSeconds: 125,
    });
    expect(statsLines(s).slice(0, 5)).toEqual([
      "Queued      3 (the oldest waiting 2m05s)",
      "Running     1",
      "Failed      2 (dead letters: retry them with TransferService.RetryDeadLetter)",
      "Done        10 (4 in the last hour)",
      "To move     2.0 KiB",
    ]);
    const idle = create(GetTransferStatsResponseSchema, {});
    expect(statsJson(idle)).toMatchObject({ oldestQueuedAt: null, oldestQueuedAgeSeconds: 0, queued: 0 });
    expect(statsLines(idle)[0]).toBe("Queued      0");
  });
});
