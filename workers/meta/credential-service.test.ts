// CredentialService on both databases through the real interceptors: sessions (list, revoke, the password
// change that keeps one), TOTP steps that cannot be replayed, recovery codes used once, app passwords, and
// deleting an account (its files purged, content references dropped, shared content kept).
import { describe, expect, test } from "bun:test";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { TotpState } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import { codeOf as code } from "../lib/testing.ts";
import { testDatabases } from "./db/testing.ts";
import { metaSuite, metaTestClient } from "./testing.ts";

const h64 = (c: string) => c.repeat(64);

for (const target of testDatabases()) {
  describe(`CredentialService on ${target.dialect}`, () => {
    let clock = 1_000_000;
    const s = metaSuite(target, () => clock, "alice");
    const newUser = async (username: string) =>
      (await s.meta.createUser({ username, passwordHash: "$old" })).user?.id ?? "";
    const signIn = async (userId: string, token: string, client = {}) => {
      const sessionId = crypto.randomUUID();
      await s.meta.createRefreshToken({
        userId,
        tokenHash: h64(token),
        expiresAt: timestampFromMs(clock + 3_600_000),
        sessionId,
        ...client,
      });
      return sessionId;
    };
    const rotate = (from: string, to: string, client = {}) =>
      s.meta.rotateRefreshToken({
        tokenHash: h64(from),
        newTokenHash: h64(to),
        newExpiresAt: timestampFromMs(clock + 3_600_000),
        ...client,
      });
    const revoked = async () => (await s.meta.listRevokedSessions({})).sessions.map((r) => r.sessionId);

    test("sessions: listed with their client, revoked one by one or all but one", async () => {
      const uid = await newUser("sessions1");
      const a = await signIn(uid, "1", { clientAddress: "10.0.0.1", userAgent: "curl/8" });
      clock += 1000;
      const b = await signIn(uid, "2", { clientAddress: "10.0.0.2", userAgent: "Firefox" });
      clock += 1000;
      await rotate("1", "3", { clientAddress: "10.0.0.9" });
      const listed = (await s.meta.listUserSessions({ userId: uid })).sessions;
      expect(listed.map((x) => [x.sessionId, x.clientAddress, x.userAgent])).toEqual([
        [a, "10.0.0.9", "curl/8"],
        [b, "10.0.0.2", "Firefox"],
      ]);
      const first = listed[0];
      expect([
        timestampMs(first?.createdAt ?? timestampFromMs(0)),
        timestampMs(first?.lastUsedAt ?? timestampFromMs(0)),
      ]).toEqual([clock - 2000, clock]);
      // Another user's session is not this user's to end.
      const other = await newUser("sessions2");
      expect((await s.meta.revokeUserSession({ userId: other, sessionId: a })).revoked).toBe(false);
      expect((await s.meta.revokeUserSession({ userId: uid, sessionId: a })).revoked).toBe(true);
      expect((await s.meta.revokeUserSession({ userId: uid, sessionId: a })).revoked).toBe(false);
      expect(await revoked()).toContain(a);
      expect(await code(rotate("3", "4"))).toBe(Code.Unauthenticated);
      const c = await signIn(uid, "5");
      expect((await s.meta.revokeUserSessions({ userId: uid, keepSessionId: c })).sessionsRevoked).toBe(1);
      expect((await s.meta.listUserSessions({ userId: uid })).sessions.map((x) => x.sessionId)).toEqual([c]);
      expect(await revoked()).toContain(b);
      expect(await code(s.meta.listUserSessions({ userId: "" }))).toBe(Code.InvalidArgument);
      // A session whose refresh token expired a minute ago may still hold access tokens: it ends too.
      const lapsed = await signIn(uid, "b");
      clock += 3_660_000;
      const window = timestampFromMs(clock + 16 * 60_000);
      expect((await s.meta.listUserSessions({ userId: uid })).sessions).toEqual([]);
      await s.meta.revokeUserSessions({ userId: uid, keepSessionId: "", revocationExpiresAt: window });
      expect(await revoked()).toContain(lapsed);
    });

    test("password change: only from the expected hash, ends every other session in the same step", async () => {
      const uid = await newUser("passwd1");
      const keep = await signIn(uid, "6");
      const other = await signIn(uid, "7");
      const change = { userId: uid, passwordHash: "$new", expectedPasswordHash: "$old", keepSessionId: keep };
      expect(await code(s.meta.setPasswordHash({ ...change, expectedPasswordHash: "$stale" }))).toBe(
        Code.FailedPrecondition,
      );
      expect((await s.meta.listUserSessions({ userId: uid })).sessions).toHaveLength(2);
      expect((await s.meta.setPasswordHash(change)).sessionsRevoked).toBe(1);
      expect((await s.meta.getUser({ key: { case: "id", value: uid } })).user?.passwordHash).toBe("$new");
      expect(await revoked()).toContain(other);
      expect(await revoked()).not.toContain(keep);
      expect(await code(rotate("7", "8"))).toBe(Code.Unauthenticated);
      expect((await rotate("6", "9")).sessionId).toBe(keep);
    });

    test("TOTP: pending, on, a step accepted once and never an older one, recovery codes used once", async () => {
      const uid = await newUser("totp1");
      expect((await s.meta.getTotp({ userId: uid })).state).toBe(TotpState.OFF);
      expect(await code(s.meta.setPendingTotp({ userId: uid, secret: "not base32!" }))).toBe(
        Code.InvalidArgument,
      );
      await s.meta.setPendingTotp({ userId: uid, secret: "A".repeat(32) });
      await s.meta.setPendingTotp({ userId: uid, secret: "B".repeat(32) });
      expect((await s.meta.getTotp({ userId: uid })).state).toBe(TotpState.PENDING);
      // No step counts while pending.
      expect((await s.meta.claimTotpStep({ userId: uid, step: 5n })).claimed).toBe(false);
      const hashes = [h64("a"), h64("b")];
      const enable = { userId: uid, secret: "A".repeat(32), step: 100n, recoveryCodeHashes: hashes };
      expect(await code(s.meta.enableTotp(enable))).toBe(Code.FailedPrecondition);
      await s.meta.enableTotp({ ...enable, secret: "B".repeat(32) });
      const on = await s.meta.getTotp({ userId: uid });
      expect([on.state, on.secret, on.recoveryCodesLeft]).toEqual([TotpState.ON, "B".repeat(32), 2]);
      expect(await code(s.meta.setPendingTotp({ userId: uid, secret: "C".repeat(32) }))).toBe(
        Code.FailedPrecondition,
      );
      // The enrolment's own step is used; a later one once; an earlier one never.
      expect((await s.meta.claimTotpStep({ userId: uid, step: 100n })).claimed).toBe(false);
      expect((await s.meta.claimTotpStep({ userId: uid, step: 101n })).claimed).toBe(true);
      expect((await s.meta.claimTotpStep({ userId: uid, step: 101n })).claimed).toBe(false);
      expect((await s.meta.claimTotpStep({ userId: uid, step: 99n })).claimed).toBe(false);
      // Of concurrent uses of one step, exactly one wins.
      const race = await Promise.all(
        Array.from({ length: 5 }, () => s.meta.claimTotpStep({ userId: uid, step: 102n })),
      );
      expect(race.filter((r) => r.claimed)).toHaveLength(1);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("a") })).used).toBe(true);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("a") })).used).toBe(false);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("c") })).used).toBe(false);
      expect((await s.meta.getTotp({ userId: uid })).recoveryCodesLeft).toBe(1);
      expect((await s.meta.disableTotp({ userId: uid })).disabled).toBe(true);
      expect((await s.meta.disableTotp({ userId: uid })).disabled).toBe(false);
      const off = await s.meta.getTotp({ userId: uid });
      expect([off.state, off.recoveryCodesLeft]).toEqual([TotpState.OFF, 0]);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("b") })).used).toBe(false);
    });

    test("TOTP secrets sealed at rest: not in the column, legacy plaintext sealed on read, wrong key fails closed", async () => {
      const uid = await newUser("totp-sealed");
      const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
      const column = async () =>
        (
          await s.db
            .selectFrom("user_totp")
            .select("secret")
            .where("user_id", "=", uid)
            .executeTakeFirstOrThrow()
        ).secret;
      await s.meta.setPendingTotp({ userId: uid, secret });
      const sealed = await column();
      expect(sealed.startsWith("v1:")).toBe(true);
      expect(sealed).not.toContain(secret);
      expect(Buffer.from(sealed.slice(3), "base64url").toString("latin1")).not.toContain(secret);
      expect((await s.meta.getTotp({ userId: uid })).secret).toBe(secret);
      await s.meta.enableTotp({ userId: uid, secret, step: 7n, recoveryCodeHashes: [h64("e")] });
      expect((await s.meta.getTotp({ userId: uid })).state).toBe(TotpState.ON);
      // Another user's row with this user's sealed value does not open (the user id is bound in).
      const other = await newUser("totp-sealed2");
      await s.db
        .insertInto("user_totp")
        .values({ user_id: other, secret: await column(), enabled_at: 1, last_step: 0, created_at: 1 })
        .execute();
      expect(await code(s.meta.getTotp({ userId: other }))).toBe(Code.FailedPrecondition);
      // A row written before encryption still works and is sealed on its first read.
      await s.db.updateTable("user_totp").set({ secret }).where("user_id", "=", uid).execute();
      expect((await s.meta.getTotp({ userId: uid })).secret).toBe(secret);
      const resealed = await column();
      expect([resealed.startsWith("v1:"), resealed.includes(secret)]).toEqual([true, false]);
      expect((await s.meta.getTotp({ userId: uid })).secret).toBe(secret);
      // Under another INTERNAL_SECRET the secret does not open: refused with a reason, never guessed.
      const wrongKey = metaTestClient(s.db, () => clock, "another-secret-".repeat(3));
      const err = await wrongKey.getTotp({ userId: uid }).catch((e) => ConnectError.from(e));
      expect(err instanceof ConnectError && [err.code, /INTERNAL_SECRET/.test(err.rawMessage)]).toEqual([
        Code.FailedPrecondition,
        true,
      ]);
      expect(await column()).toBe(resealed);
    });

    test("recovery codes replaced while TOTP is on: the old ones stop working", async () => {
      const uid = await newUser("totp-regen");
      const replace = (codeHashes: string[]) => s.meta.replaceRecoveryCodes({ userId: uid, codeHashes });
      expect(await code(replace([h64("1")]))).toBe(Code.FailedPrecondition);
      await s.meta.setPendingTotp({ userId: uid, secret: "C".repeat(32) });
      expect(await code(replace([h64("1")]))).toBe(Code.FailedPrecondition);
      await s.meta.enableTotp({
        userId: uid,
        secret: "C".repeat(32),
        step: 1n,
        recoveryCodeHashes: [h64("1")],
      });
      expect(await code(replace([]))).toBe(Code.InvalidArgument);
      expect(await code(replace(["nothex"]))).toBe(Code.InvalidArgument);
      await replace([h64("2"), h64("3")]);
      expect((await s.meta.getTotp({ userId: uid })).recoveryCodesLeft).toBe(2);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("1") })).used).toBe(false);
      expect((await s.meta.useRecoveryCode({ userId: uid, codeHash: h64("2") })).used).toBe(true);
    });

    test("app passwords: found by hash (use recorded), listed, revoked with their tokens' sid", async () => {
      const uid = await newUser("apps1");
      const created = (await s.meta.createAppPassword({ userId: uid, name: "rclone", tokenHash: h64("d") }))
        .appPassword;
      expect(created?.lastUsedAt).toBeUndefined();
      expect(await code(s.meta.createAppPassword({ userId: uid, name: "", tokenHash: h64("e") }))).toBe(
        Code.InvalidArgument,
      );
      clock += 5000;
      const found = (await s.meta.findAppPassword({ tokenHash: h64("d") })).appPassword;
      expect([found?.id, found?.userId, timestampMs(found?.lastUsedAt ?? timestampFromMs(0))]).toEqual([
        created?.id,
        uid,
        clock,
      ]);
      const listed = (await s.meta.listAppPasswords({ userId: uid })).appPasswords;
      expect(listed.map((a) => [a.name, timestampMs(a.lastUsedAt ?? timestampFromMs(0))])).toEqual([
        ["rclone", clock],
      ]);
      const other = await newUser("apps2");
      expect((await s.meta.revokeAppPassword({ userId: other, id: created?.id ?? "" })).revoked).toBe(false);
      expect((await s.meta.revokeAppPassword({ userId: uid, id: created?.id ?? "" })).revoked).toBe(true);
      expect(await revoked()).toContain(created?.id ?? "missing");
      expect(await code(s.meta.findAppPassword({ tokenHash: h64("d") }))).toBe(Code.NotFound);
    });

    test("deleting an account purges its files (refcounts drop; shared content stays), ends its sign-in, frees the name", async () => {
      const uid = await newUser("leaver");
      const keeper = await newUser("keeper");
      const session = await signIn(uid, "a");
      const app = (await s.meta.createAppPassword({ userId: uid, name: "x", tokenHash: h64("f") }))
        .appPassword;
      const blob = (c: string) => ({
        sha256: h64(c),
        sha1: "",
        size: 10n,
        backend: "local",
        location: `l-${c}`,
      });
      const folder = (await s.meta.createFolder({ ownerId: uid, parentId: "", name: "docs" })).folder;
      expect(folder?.id).toBeTruthy();
      await s.meta.addFileWithContent({
        file: { ownerId: uid, parentId: folder?.id ?? "", name: "a" },
        blob: blob("1"),
      });
      await s.meta.addFileWithContent({ file: { ownerId: uid, parentId: "", name: "b" }, blob: blob("2") });
      await s.meta.addFileForExistingBlob({
        file: { ownerId: keeper, parentId: "", name: "b" },
        sha256: h64("2"),
      });
      const trashed = (
        await s.meta.addFileForExistingBlob({
          file: { ownerId: uid, parentId: "", name: "c" },
          sha256: h64("1"),
        })
      ).file;
      await s.meta.trashFile({ ownerId: uid, id: trashed?.id ?? "" });
      const res = await s.meta.deleteAccount({ userId: uid });
      expect(res.filesDeleted).toBe(4n);
      const refcount = async (c: string) => (await s.meta.getBlob({ sha256: h64(c) })).blob?.refcount;
      expect([await refcount("1"), await refcount("2")]).toEqual([0, 1]);
      expect(await code(s.meta.getUser({ key: { case: "id", value: uid } }))).toBe(Code.NotFound);
      expect(await revoked()).toEqual(expect.arrayContaining([session, app?.id]));
      expect(await code(s.meta.findAppPassword({ tokenHash: h64("f") }))).toBe(Code.NotFound);
      expect(await code(rotate("a", "b"))).toBe(Code.Unauthenticated);
      expect((await s.meta.deleteAccount({ userId: uid })).filesDeleted).toBe(0n);
      // The name is free again.
      expect(await newUser("leaver")).not.toBe(uid);
    });
  });
}
