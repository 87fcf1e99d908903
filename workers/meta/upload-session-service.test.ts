// UploadSessionService over an in-memory transport with the real interceptors (internal secret required).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { TransitionUploadSessionRequest_Transition as T } from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import type { Db } from "../lib/db/database.ts";
import { testDatabases } from "../lib/db/testing.ts";
import type { MetaClient } from "../lib/meta-client.ts";
import { codeOf } from "../lib/testing.ts";
import { metaTestClient } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

const code = codeOf;

for (const target of testDatabases()) {
  describe(`UploadSessionService on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let meta: MetaClient;
    let owner: string;
    let clock = 1_000_000;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      meta = metaTestClient(db, () => clock);
      owner = (await meta.createUser({ username: "alice", passwordHash: "x" })).user?.id ?? "";
    });
    afterAll(() => drop());

    test("upload sessions: parts, completion once, abort, expiry", async () => {
      const session = {
        id: "s".repeat(24),
        ownerId: owner,
        parentId: "",
        name: "big.bin",
        size: 12n,
        partSize: 5n,
        partCount: 3,
        backend: "local",
        expiresAt: timestampFromMs(clock + 60_000),
      };
      await meta.createUploadSession({ session });
      expect(await code(meta.getUploadSession({ id: session.id, ownerId: "someone-else" }))).toBe(
        Code.NotFound,
      );
      for (const n of [2, 1])
        await meta.recordUploadPart({
          part: { sessionId: session.id, partNumber: n, size: 5n, sha256: h64("c") },
        });
      for (const bad of [0, 10_001, -1]) {
        expect(
          await code(
            meta.recordUploadPart({
              part: { sessionId: session.id, partNumber: bad, size: 5n, sha256: h64("c") },
            }),
          ),
        ).toBe(Code.InvalidArgument);
      }
      expect((await meta.listUploadParts({ sessionId: session.id })).parts.map((p) => p.partNumber)).toEqual([
        1, 2,
      ]);
      expect(
        (await meta.transitionUploadSession({ id: session.id, transition: T.BEGIN_COMPLETION })).done,
      ).toBe(true);
      expect(
        (await meta.transitionUploadSession({ id: session.id, transition: T.BEGIN_COMPLETION })).done,
      ).toBe(false);
      expect(
        (await meta.transitionUploadSession({ id: session.id, transition: T.COMPLETE, fileId: "f1" })).done,
      ).toBe(true);
      expect(
        await code(
          meta.recordUploadPart({
            part: { sessionId: session.id, partNumber: 3, size: 2n, sha256: h64("c") },
          }),
        ),
      ).toBe(Code.FailedPrecondition);
      expect((await meta.getUploadSession({ id: session.id, ownerId: owner })).session?.state).toBe(
        "completed",
      );

      const other = { ...session, id: "t".repeat(24), expiresAt: timestampFromMs(clock + 1000) };
      await meta.createUploadSession({ session: other });
      clock += 2000;
      expect((await meta.listExpiredUploadSessions({})).sessions.map((s) => s.id)).toContain(other.id);
      await meta.deleteUploadSession({ id: other.id });
      expect(await code(meta.getUploadSession({ id: other.id, ownerId: owner }))).toBe(Code.NotFound);
    });
  });
}
