// TransferJobService over an in-memory transport with the real interceptors: argument checks, the rows as
// messages and the codes its errors map to (the logic itself is tested in transfer.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { SwitchBlobLocationResponse_Outcome as Outcome } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import type { Db } from "../lib/db/database.ts";
import { testDatabases } from "../lib/db/testing.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { codeOf as code } from "../lib/testing.ts";
import { metaTestClient } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

for (const target of testDatabases()) {
  describe(`TransferJobService on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let meta: MetaClient;
    const clock = 1_000_000;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      meta = metaTestClient(db, () => clock);
      const ownerId = (await meta.createUser({ username: "frank", passwordHash: "h" })).user?.id ?? "";
      await meta.addFileWithContent({
        file: { ownerId, parentId: "", name: "a" },
        blob: { sha256: h64("a"), sha1: "", size: 3n, backend: "local", location: "blobs/a" },
        enqueueTransfer: true,
      });
    });
    afterAll(() => drop());

    test("a job from outbox to switch: published, attempted, switched", async () => {
      const toPublish = await meta.listTransferJobsToPublish({ staleMs: 60_000n });
      expect(toPublish.jobs.map((j) => [j.blobSha256, j.state, j.createdAt])).toEqual([
        [h64("a"), "queued", timestampFromMs(clock)],
      ]);
      await meta.markTransferJobsPublished({ blobSha256s: [h64("a")] });
      expect((await meta.listTransferJobsToPublish({ staleMs: 60_000n })).jobs).toEqual([]);
      const begin = await meta.beginTransferAttempt({
        blobSha256: h64("a"),
        attempt: 1,
        targetLocation: "s3/a",
      });
      expect([begin.blob?.location, begin.blob?.size, begin.skipReason]).toEqual(["blobs/a", 3n, ""]);
      const counts = await meta.countTransferJobs({});
      expect([counts.localBlobs, counts.running]).toEqual([1n, 1n]);
      const switched = await meta.switchBlobLocation({
        blobSha256: h64("a"),
        fromLocation: "blobs/a",
        toBackend: "s3",
        toLocation: "s3/a",
        deleteLocalAfter: timestampFromMs(clock),
      });
      expect(switched.outcome).toBe(Outcome.SWITCHED);
      expect((await meta.getTransferJob({ blobSha256: h64("a") })).job?.state).toBe("done");
      expect((await meta.listDueTransferCleanups({})).cleanups).toEqual([
        expect.objectContaining({ blobSha256: h64("a"), location: "blobs/a" }),
      ]);
    });

    test("bad input is InvalidArgument; unknown jobs NotFound; a job that is not failed cannot be retried", async () => {
      for (const call of [
        meta.getTransferJob({ blobSha256: "../x" }),
        meta.markTransferJobsPublished({ blobSha256s: [h64("A")] }),
        meta.beginTransferAttempt({ blobSha256: h64("a"), attempt: 0, targetLocation: "s3/b" }),
        meta.switchBlobLocation({ blobSha256: h64("a"), fromLocation: "blobs/a" }),
        meta.listFailedTransferJobs({ afterSha256: "zz" }),
      ])
        expect(await code(call)).toBe(Code.InvalidArgument);
      expect(await code(meta.getTransferJob({ blobSha256: h64("b") }))).toBe(Code.NotFound);
      expect(await code(meta.retryTransferJob({ blobSha256: h64("b") }))).toBe(Code.NotFound);
      expect(await code(meta.retryTransferJob({ blobSha256: h64("a") }))).toBe(Code.FailedPrecondition);
    });
  });
}
