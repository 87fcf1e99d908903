// DavTransferService on both databases through the real interceptors: a transfer is created once per
// owner and id, read back, tied to one session only (the first of two racing chunks wins), invisible to
// another user, deleted, and gone at its expiry (a day from MKCOL, then the session's), expired rows swept.
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { codeOf } from "../lib/testing.ts";
import { TRANSFER_MS } from "./dav-transfers.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`DavTransferService on ${target.dialect}`, () => {
    let clock = 5_000_000;
    const s = metaSuite(target, () => clock, "davtransfers");
    const key = (transferId: string, ownerId = s.ownerId) => ({ ownerId, transferId });
    const session = (transferId: string, sessionId: string, expiresAtMs: bigint) =>
      s.meta.setDavTransferSession({
        ...key(transferId),
        sessionId,
        total: 12n,
        partSize: 5n,
        partCount: 3,
        expiresAtMs,
      });

    test("create, get, a second MKCOL of the id refused; the first session wins", async () => {
      const made = (await s.meta.createDavTransfer({ ...key("t-1"), total: 12n })).transfer;
      expect(made).toMatchObject({ transferId: "t-1", sessionId: "", total: 12n, partCount: 0 });
      expect(made?.expiresAtMs).toBe(BigInt(clock + TRANSFER_MS));
      expect(await codeOf(s.meta.createDavTransfer(key("t-1")))).toBe(Code.AlreadyExists);
      const untotalled = (await s.meta.createDavTransfer(key("t-2"))).transfer;
      expect(untotalled?.total).toBeUndefined();
      const first = (await session("t-1", "sess-a", BigInt(clock + 1000))).transfer;
      expect(first).toMatchObject({ sessionId: "sess-a", total: 12n, partSize: 5n, partCount: 3 });
      // A chunk on another replica created a session too, later: the stored one stands.
      const second = (await session("t-1", "sess-b", BigInt(clock + 9000))).transfer;
      expect(second?.sessionId).toBe("sess-a");
      expect(second?.expiresAtMs).toBe(BigInt(clock + 1000));
      expect((await s.meta.getDavTransfer(key("t-1"))).transfer?.sessionId).toBe("sess-a");
    });

    test("another user's transfer id is invisible, and theirs is their own", async () => {
      const other =
        (await s.meta.createUser({ username: "davtransfers-b", passwordHash: "x" })).user?.id ?? "";
      await s.meta.createDavTransfer(key("shared-name"));
      expect(await codeOf(s.meta.getDavTransfer(key("shared-name", other)))).toBe(Code.NotFound);
      expect(await codeOf(s.meta.deleteDavTransfer(key("shared-name", other)))).toBe(Code.NotFound);
      await s.meta.createDavTransfer(key("shared-name", other));
      await s.meta.deleteDavTransfer(key("shared-name", other));
      expect((await s.meta.getDavTransfer(key("shared-name"))).transfer?.transferId).toBe("shared-name");
    });

    test("delete returns the transfer once; then it is not found", async () => {
      await s.meta.createDavTransfer(key("t-del"));
      await session("t-del", "sess-del", BigInt(clock + 60_000));
      const gone = (await s.meta.deleteDavTransfer(key("t-del"))).transfer;
      expect(gone?.sessionId).toBe("sess-del");
      expect(await codeOf(s.meta.getDavTransfer(key("t-del")))).toBe(Code.NotFound);
      expect(await codeOf(s.meta.deleteDavTransfer(key("t-del")))).toBe(Code.NotFound);
      expect(await codeOf(session("t-del", "sess-x", BigInt(clock + 60_000)))).toBe(Code.NotFound);
    });

    test("a transfer expires a day after MKCOL, then with its session; expired rows are swept", async () => {
      await s.meta.createDavTransfer(key("t-idle"));
      await s.meta.createDavTransfer(key("t-busy"));
      await session("t-busy", "sess-busy", BigInt(clock + 2 * TRANSFER_MS));
      clock += TRANSFER_MS;
      expect(await codeOf(s.meta.getDavTransfer(key("t-idle")))).toBe(Code.NotFound);
      expect((await s.meta.getDavTransfer(key("t-busy"))).transfer?.sessionId).toBe("sess-busy");
      clock += TRANSFER_MS;
      expect(await codeOf(s.meta.getDavTransfer(key("t-busy")))).toBe(Code.NotFound);
      // An expired id may be taken again (the sweep removed the old row), and the sweep left no rows.
      await s.meta.createDavTransfer(key("t-idle"));
      const rows = await s.db
        .selectFrom("dav_transfers")
        .select("transfer_id")
        .where("expires_at", "<=", clock)
        .execute();
      expect(rows).toEqual([]);
    });

    test("bad input: empty or long ids, a negative total, a session without its shape", async () => {
      expect(await codeOf(s.meta.createDavTransfer(key("")))).toBe(Code.InvalidArgument);
      expect(await codeOf(s.meta.createDavTransfer(key("x".repeat(201))))).toBe(Code.InvalidArgument);
      expect(await codeOf(s.meta.createDavTransfer({ ...key("neg"), total: -1n }))).toBe(
        Code.InvalidArgument,
      );
      await s.meta.createDavTransfer(key("t-shape"));
      const bad = s.meta.setDavTransferSession({
        ...key("t-shape"),
        sessionId: "s",
        total: 1n,
        partSize: 0n,
        partCount: 0,
        expiresAtMs: 0n,
      });
      expect(await codeOf(bad)).toBe(Code.InvalidArgument);
    });
  });
}
