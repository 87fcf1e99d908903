// TransferJobService over an in-memory transport with the real interceptors: argument checks, the rows as
// messages and the codes its errors map to (the logic itself is tested in transfer.test.ts).
import { beforeAll, describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { SwitchBlobLocationResponse_Outcome as Outcome } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

for (const target of testDatabases()) {
  describe(`TransferJobService on ${target.dialect}`, () => {
    const clock = 1_000_000;
    const s = metaSuite(target, () => clock, "frank");
    beforeAll(async () => {
      await s.meta.addFileWithContent({
        file: { ownerId: s.ownerId, parentId: "", name: "a" },
        blob: { sha256: h64("a"), sha1: "", size: 3n, backend: "local", location: "blobs/a" },
        enqueueTransfer: true,
      });
    });

    test("a job from outbox to switch: published, attempted, switched", async () => {
      const toPublish = await s.meta.listTransferJobsToPublish({ staleMs: 60_000n });
      expect(toPublish.jobs.map((j) => [j.blobSha256, j.state, j.createdAt])).toEqual([
        [h64("a"), "queued", timestampFromMs(clock)],
      ]);
      await s.meta.markTransferJobsPublished({ blobSha256s: [h64("a")] });
      expect((await s.meta.listTransferJobsToPublish({ staleMs: 60_000n })).jobs).toEqual([]);
      const begin = await s.meta.beginTransferAttempt({
        blobSha256: h64("a"),
        attempt: 1,
        targetLocation: "s3/a",
      });
      expect([begin.blob?.location, begin.blob?.size, begin.skipReason]).toEqual(["blobs/a", 3n, ""]);
      const counts = await s.meta.countTransferJobs({});
      expect([counts.localBlobs, counts.running]).toEqual([1n, 1n]);
      const switched = await s.meta.switchBlobLocation({
        blobSha256: h64("a"),
        fromLocation: "blobs/a",
        toBackend: "s3",
        toLocation: "s3/a",
        deleteLocalAfter: timestampFromMs(clock),
      });
      expect(switched.outcome).toBe(Outcome.SWITCHED);
      expect((await s.meta.getTransferJob({ blobSha256: h64("a") })).job?.state).toBe("done");
      expect((await s.meta.listDueTransferCleanups({})).cleanups).toEqual([
        expect.objectContaining({ blobSha256: h64("a"), location: "blobs/a" }),
      ]);
    });

    test("bad input is InvalidArgument; unknown jobs NotFound; a job that is not failed cannot be retried", async () => {
      for (const call of [
        s.meta.getTransferJob({ blobSha256: "../x" }),
        s.meta.markTransferJobsPublished({ blobSha256s: [h64("A")] }),
        s.meta.beginTransferAttempt({ blobSha256: h64("a"), attempt: 0, targetLocation: "s3/b" }),
        s.meta.switchBlobLocation({ blobSha256: h64("a"), fromLocation: "blobs/a" }),
        s.meta.listFailedTransferJobs({ afterSha256: "zz" }),
      ])
        expect(await code(call)).toBe(Code.InvalidArgument);
      expect(await code(s.meta.getTransferJob({ blobSha256: h64("b") }))).toBe(Code.NotFound);
      expect(await code(s.meta.retryTransferJob({ blobSha256: h64("b") }))).toBe(Code.NotFound);
      expect(await code(s.meta.retryTransferJob({ blobSha256: h64("a") }))).toBe(Code.FailedPrecondition);
    });
  });
}
