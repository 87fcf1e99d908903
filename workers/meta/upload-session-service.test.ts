// UploadSessionService over an in-memory transport with the real interceptors (internal secret required).
import { describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { TransitionUploadSessionRequest_Transition as T } from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { codeOf } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

const code = codeOf;

for (const target of testDatabases()) {
  describe(`UploadSessionService on ${target.dialect}`, () => {
    let clock = 1_000_000;
    const s = metaSuite(target, () => clock, "alice");

    test("upload sessions: parts, completion once, abort, expiry", async () => {
      const session = {
        id: "s".repeat(24),
        ownerId: s.ownerId,
        parentId: "",
        name: "big.bin",
        size: 12n,
        partSize: 5n,
        partCount: 3,
        backend: "local",
        expiresAt: timestampFromMs(clock + 60_000),
      };
      await s.meta.createUploadSession({ session });
      expect(await code(s.meta.getUploadSession({ id: session.id, ownerId: "someone-else" }))).toBe(
        Code.NotFound,
      );
      for (const n of [2, 1])
        await s.meta.recordUploadPart({
          part: { sessionId: session.id, partNumber: n, size: 5n, sha256: h64("c") },
        });
      for (const bad of [0, 10_001, -1]) {
        expect(
          await code(
            s.meta.recordUploadPart({
              part: { sessionId: session.id, partNumber: bad, size: 5n, sha256: h64("c") },
            }),
          ),
        ).toBe(Code.InvalidArgument);
      }
      expect(
        (await s.meta.listUploadParts({ sessionId: session.id })).parts.map((p) => p.partNumber),
      ).toEqual([1, 2]);
      expect(
        (await s.meta.transitionUploadSession({ id: session.id, transition: T.BEGIN_COMPLETION })).done,
      ).toBe(true);
      expect(
        (await s.meta.transitionUploadSession({ id: session.id, transition: T.BEGIN_COMPLETION })).done,
      ).toBe(false);
      expect(
        (await s.meta.transitionUploadSession({ id: session.id, transition: T.COMPLETE, fileId: "f1" })).done,
      ).toBe(true);
      expect(
        await code(
          s.meta.recordUploadPart({
            part: { sessionId: session.id, partNumber: 3, size: 2n, sha256: h64("c") },
          }),
        ),
      ).toBe(Code.FailedPrecondition);
      expect((await s.meta.getUploadSession({ id: session.id, ownerId: s.ownerId })).session?.state).toBe(
        "completed",
      );

      const other = { ...session, id: "t".repeat(24), expiresAt: timestampFromMs(clock + 1000) };
      await s.meta.createUploadSession({ session: other });
      clock += 2000;
      expect((await s.meta.listExpiredUploadSessions({})).sessions.map((s) => s.id)).toContain(other.id);
      await s.meta.deleteUploadSession({ id: other.id });
      expect(await code(s.meta.getUploadSession({ id: other.id, ownerId: s.ownerId }))).toBe(Code.NotFound);
    });
  });
}
