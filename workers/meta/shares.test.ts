// Share links' rows on both databases: create (owner's active entries only; drop needs a folder), edit
// (version moves), the owner's list paged, a link answering only while live (expiry at the boundary,
// trashed target, disabled owner), revocation with the target's purge and the owner's deletion, items
// inside and outside a shared folder, exactly N of 20 racing download mints, and save-to-drive copies
// (content references, the saver's quota).
import { describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { Reason, reasonOf } from "../../core/reasons.ts";
import { codeOf } from "../lib/testing.ts";
import { deleteAccount } from "./account-deletion.ts";
import { setUserDisabled } from "./admin-users.ts";
import * as content from "./content.ts";
import { testDatabases } from "./db/testing.ts";
import * as files from "./files.ts";
import { metaSuite } from "./testing.ts";
import * as trashing from "./trash.ts";

let n = 0;
const sha = () => (++n).toString(16).padStart(64, "5");
let ids = 0;
const shareId = () => `share-${++ids}-${"x".repeat(22)}`;

for (const target of testDatabases()) {
  describe(`share links on ${target.dialect}`, () => {
    let clock = 1_000;
    const s = metaSuite(target, () => clock);
    const user = async (name: string) =>
      (await s.meta.createUser({ username: name, passwordHash: "x" })).user?.id ?? "";
    const addFile = async (ownerId: string, parentId: string, name: string, size = 7) => {
      const h = sha();
      const blob = { sha256: h, sha1: "", size, backend: "local", location: `loc/${h}` };
      return (await content.addFileWithContent(s.db, { ownerId, parentId, name }, blob, ++clock)).file;
    };
    const folder = (ownerId: string, parentId: string, name: string) =>
      files.createFolder(s.db, { ownerId, parentId, name }, ++clock);
    const create = (ownerId: string, targetId: string, more: Record<string, unknown> = {}) =>
      s.meta.createShareRow({ id: shareId(), ownerId, targetId, mode: "view", ...more });

    test("create: the owner's active entries only; drop links need a folder; list newest first, paged", async () => {
      const bob = await user("share-bob");
      const f = await addFile(s.ownerId, "", "report.pdf");
      const d = await folder(s.ownerId, "", "photos");
      expect(await codeOf(create(bob, f.id))).toBe(Code.NotFound);
      expect(await codeOf(create(s.ownerId, f.id, { mode: "drop" }))).toBe(Code.InvalidArgument);
      expect(await codeOf(create(s.ownerId, f.id, { mode: "edit" }))).toBe(Code.InvalidArgument);
      expect(await codeOf(create(s.ownerId, f.id, { maxDownloads: -1n }))).toBe(Code.InvalidArgument);
      const made = [];
      for (const t of [f.id, d.id, f.id]) {
        clock++;
        made.push((await create(s.ownerId, t, { maxDownloads: 3n })).share);
      }
      expect(made[0]).toMatchObject({
        targetName: "report.pdf",
        targetKind: "file",
        version: 1n,
        ownerName: "alice",
      });
      const p1 = await s.meta.listShareRows({ ownerId: s.ownerId, pageSize: 2 });
      expect(p1.shares.map((x) => x.id)).toEqual<unknown[]>([made[2]?.id, made[1]?.id]);
      const p2 = await s.meta.listShareRows({ ownerId: s.ownerId, pageSize: 2, pageToken: p1.nextPageToken });
      expect(p2.shares.map((x) => x.id)).toContain(made[0]?.id ?? "?");
      const byTarget = await s.meta.listShareRows({ ownerId: s.ownerId, pageSize: 50, targetId: d.id });
      expect(byTarget.shares.map((x) => x.id)).toEqual<unknown[]>([made[1]?.id]);
      expect((await s.meta.listShareRows({ ownerId: bob, pageSize: 50 })).shares).toEqual([]);
      expect(await codeOf(s.meta.listShareRows({ ownerId: s.ownerId, pageToken: "junk" }))).toBe(
        Code.InvalidArgument,
      );
    });

    test("edit moves the version; only the owner edits or deletes", async () => {
      const bob = await user("share-bob2");
      const f = await addFile(s.ownerId, "", "edit.txt");
      const sh = (await create(s.ownerId, f.id)).share;
      const id = sh?.id ?? "";
      expect(await codeOf(s.meta.updateShareRow({ ownerId: bob, id, maxDownloads: 1n }))).toBe(Code.NotFound);
      const up = (
        await s.meta.updateShareRow({ ownerId: s.ownerId, id, maxDownloads: 9n, passwordHash: "h" })
      ).share;
      expect([up?.version, up?.maxDownloads, up?.passwordHash]).toEqual([2n, 9n, "h"]);
      expect(await codeOf(s.meta.deleteShareRow({ ownerId: bob, id }))).toBe(Code.NotFound);
      await s.meta.deleteShareRow({ ownerId: s.ownerId, id });
      expect(await codeOf(s.meta.getLiveShare({ id }))).toBe(Code.NotFound);
    });

    test("a link answers until its expiry (not at it), while its target is active, counting views", async () => {
      const f = await addFile(s.ownerId, "", "expiring.txt");
      const id = (await create(s.ownerId, f.id, { expiresAtMs: BigInt(clock + 100) })).share?.id ?? "";
      const expiry = clock + 100;
      await s.meta.getLiveShare({ id, countView: true });
      clock = expiry - 1;
      const live = (await s.meta.getLiveShare({ id, countView: true })).share;
      expect([live?.viewCount, live?.lastAccessAtMs]).toEqual([2n, BigInt(expiry - 1)]);
      clock = expiry;
      expect(await codeOf(s.meta.getLiveShare({ id }))).toBe(Code.NotFound);
      expect(await codeOf(s.meta.consumeShareDownload({ id }))).toBe(Code.NotFound);
      clock = expiry + 10;
      // Trashed: the link stops; restored: it answers again (revoked only by the purge).
      const g = await addFile(s.ownerId, "", "trashed.txt");
      const gid = (await create(s.ownerId, g.id)).share?.id ?? "";
      await trashing.trashFile(s.db, s.ownerId, g.id, ++clock);
      expect(await codeOf(s.meta.getLiveShare({ id: gid }))).toBe(Code.NotFound);
      await trashing.purgeTrashed(s.db, s.ownerId, g.id, ++clock);
      const left = await s.db.selectFrom("shares").select("id").where("id", "=", gid).execute();
      expect(left).toEqual([]);
    });

    test("items: the target, entries below a shared folder, nothing outside it", async () => {
      const top = await folder(s.ownerId, "", "shared-top");
      const sub = await folder(s.ownerId, top.id, "sub");
      const inner = await addFile(s.ownerId, sub.id, "inner.txt");
      const outside = await addFile(s.ownerId, "", "outside.txt");
      const id = (await create(s.ownerId, sub.id)).share?.id ?? "";
      const self = await s.meta.getLiveShare({ id, withItem: true });
      expect([self.item?.id, self.chain.map((c) => c.name)]).toEqual([sub.id, ["sub"]]);
      const got = await s.meta.getLiveShare({ id, withItem: true, itemId: inner.id });
      expect([got.item?.name, got.chain.map((c) => c.name)]).toEqual(["inner.txt", ["sub"]]);
      for (const other of [top.id, outside.id, "no-such-id"])
        expect(await codeOf(s.meta.getLiveShare({ id, withItem: true, itemId: other }))).toBe(Code.NotFound);
    });

    test("exactly N of 20 racing mints consume a download; then ResourceExhausted", async () => {
      const f = await addFile(s.ownerId, "", "popular.bin");
      const id = (await create(s.ownerId, f.id, { maxDownloads: 5n })).share?.id ?? "";
      const codes = await Promise.all(
        Array.from({ length: 20 }, () => codeOf(s.meta.consumeShareDownload({ id }))),
      );
      expect(codes.filter((c) => c === "ok").length).toBe(5);
      expect(codes.filter((c) => c === Code.ResourceExhausted).length).toBe(15);
      expect((await s.meta.getLiveShare({ id })).share?.downloadCount).toBe(5n);
      const free = (await create(s.ownerId, f.id)).share?.id ?? "";
      expect((await s.meta.consumeShareDownload({ id: free })).downloadCount).toBe(1n);
    });

    test("save to drive: content references, the saver's quota, RENAME on a taken name", async () => {
      const saver = await user("share-saver");
      const top = await folder(s.ownerId, "", "album");
      const a = await addFile(s.ownerId, top.id, "a.jpg", 100);
      await addFile(s.ownerId, (await folder(s.ownerId, top.id, "deeper")).id, "b.jpg", 50);
      const refs = async () =>
        Number(
          (
            await s.db
              .selectFrom("blobs")
              .select("refcount")
              .where("sha256", "=", a.blob_sha256 ?? "")
              .executeTakeFirst()
          )?.refcount,
        );
      const before = await refs();
      const copy = await s.meta.copySharedItem({ sourceOwnerId: s.ownerId, itemId: top.id, ownerId: saver });
      expect([copy.file?.ownerId, copy.file?.name]).toEqual([saver, "album"]);
      expect(await refs()).toBe(before + 1);
      expect((await s.meta.getUsage({ ownerId: saver })).usage?.usedBytes).toBe(150n);
      const again = await s.meta.copySharedItem({ sourceOwnerId: s.ownerId, itemId: a.id, ownerId: saver });
      expect(again.file?.name).toBe("a.jpg");
      await s.meta.setQuota({ userId: saver, quotaBytes: 300n });
      expect(
        await codeOf(s.meta.copySharedItem({ sourceOwnerId: s.ownerId, itemId: top.id, ownerId: saver })),
      ).toBe(Code.ResourceExhausted);
      expect((await s.meta.getUsage({ ownerId: saver })).usage?.usedBytes).toBe(250n);
    });

    test("save to drive counts a download in the copy's transaction: a failed copy uses none up; N of 12 racing", async () => {
      const saver = await user("share-saver-count");
      const f = await addFile(s.ownerId, "", "counted.bin", 100);
      const id = (await create(s.ownerId, f.id, { maxDownloads: 2n })).share?.id ?? "";
      const save = (parentId = "") =>
        s.meta.copySharedItem({
          sourceOwnerId: s.ownerId,
          itemId: f.id,
          ownerId: saver,
          newParentId: parentId,
          countDownloadOfShare: id,
        });
      const count = async () => (await s.meta.getLiveShare({ id })).share?.downloadCount;
      // Refused copies (over quota, an unknown folder) are undone with their count.
      await s.meta.setQuota({ userId: saver, quotaBytes: 50n });
      expect(await codeOf(save())).toBe(Code.ResourceExhausted);
      expect(await codeOf(save("no-such-folder"))).toBe(Code.NotFound);
      expect(await count()).toBe(0n);
      expect((await s.meta.getUsage({ ownerId: saver })).usage?.usedBytes).toBe(0n);
      await s.meta.setQuota({ userId: saver, quotaBytes: 10_000n });
      // The limit holds under races: exactly 2 of 12 copies, the others refused with the link's reason.
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => save()));
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(2);
      const reasons = results.flatMap((r) => (r.status === "rejected" ? [reasonOf(r.reason)] : []));
      expect(reasons).toEqual(Array.from({ length: 10 }, () => Reason.SHARE_LIMIT_REACHED));
      expect(await count()).toBe(2n);
      expect((await s.meta.getUsage({ ownerId: saver })).usage?.usedBytes).toBe(200n);
      // A link that no longer answers copies nothing.
      await s.meta.deleteShareRow({ ownerId: s.ownerId, id });
      expect(reasonOf(await save().catch((e) => e))).toBe(Reason.SHARE_NOT_FOUND);
      expect((await s.meta.getUsage({ ownerId: saver })).usage?.usedBytes).toBe(200n);
    });

    test("disabling or deleting the owner revokes their links", async () => {
      const carol = await user("share-carol");
      const f = await addFile(carol, "", "c.txt");
      const id = (await create(carol, f.id)).share?.id ?? "";
      await setUserDisabled(s.db, carol, true, ++clock);
      expect(await codeOf(s.meta.getLiveShare({ id }))).toBe(Code.NotFound);
      await setUserDisabled(s.db, carol, false, ++clock);
      expect(await codeOf(s.meta.getLiveShare({ id }))).toBe(Code.NotFound);
      const g = await addFile(carol, "", "d.txt");
      const gid = (await create(carol, g.id)).share?.id ?? "";
      await deleteAccount(s.db, carol, ++clock);
      expect(await s.db.selectFrom("shares").select("id").where("id", "=", gid).execute()).toEqual([]);
    });
  });
}
