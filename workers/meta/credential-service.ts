// filestore.meta.v1.CredentialService: a user's password, sessions, TOTP state, app passwords and the
// deletion of the account (logic in user-sessions.ts, second-factor.ts, app-passwords.ts,
// account-deletion.ts).
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type CredentialService, TotpState } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import { failedPrecondition, invalidArgument, notFound } from "../lib/errors.ts";
import { hex } from "../lib/validate.ts";
import { deleteAccount } from "./account-deletion.ts";
import * as apps from "./app-passwords.ts";
import { transact } from "./db/transact.ts";
import type { MetaDeps } from "./records.ts";
import * as totp from "./second-factor.ts";
import { TotpSecretKeyError } from "./totp-secret-box.ts";
import * as sessions from "./user-sessions.ts";

const required = (value: string, field: string): string => {
  if (!value) throw invalidArgument(`${field} is required`);
  return value;
};
const userId = (value: string) => required(value, "user_id");
const expiry = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : undefined);
const BASE32 = /^[A-Z2-7]{16,64}$/;

const appRecord = (r: apps.AppPasswordRow) => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  createdAt: timestampFromMs(r.created_at),
  lastUsedAt: r.last_used_at === null ? undefined : timestampFromMs(r.last_used_at),
});

const STATES = { off: TotpState.OFF, pending: TotpState.PENDING, on: TotpState.ON } as const;

export function credentialService({ db, now, totpBox }: MetaDeps): ServiceImpl<typeof CredentialService> {
  const rethrowTotp = (err: unknown): never => {
    if (err instanceof totp.TotpStateError) throw failedPrecondition(err.message);
    if (err instanceof TotpSecretKeyError) throw failedPrecondition(err.message);
    throw err;
  };
  return {
    async setPasswordHash(req) {
      const change = {
        userId: userId(req.userId),
        hash: required(req.passwordHash, "password_hash"),
        expected: required(req.expectedPasswordHash, "expected_password_hash"),
        keepSessionId: req.keepSessionId,
      };
      try {
        const n = await sessions.setPasswordHash(db, change, now(), expiry(req.revocationExpiresAt));
        return { sessionsRevoked: n };
      } catch (err) {
        if (err instanceof sessions.PasswordChangedError)
          throw failedPrecondition("the password was changed meanwhile; sign in again");
        throw err;
      }
    },
    async listUserSessions(req) {
      const rows = await sessions.listUserSessions(db, userId(req.userId), now());
      return {
        sessions: rows.map((r) => ({
          sessionId: r.sessionId,
          createdAt: timestampFromMs(r.createdAt),
          lastUsedAt: timestampFromMs(r.lastUsedAt),
          clientAddress: r.clientAddress,
          userAgent: r.userAgent,
        })),
      };
    },
    async revokeUserSession(req) {
      const id = required(req.sessionId, "session_id");
      const t = now();
      return {
        revoked: await sessions.revokeUserSession(
          db,
          userId(req.userId),
          id,
          t,
          expiry(req.revocationExpiresAt),
        ),
      };
    },
    async revokeUserSessions(req) {
      const id = userId(req.userId);
      const t = now();
      const n = await transact(db, (tx) =>
        sessions.revokeUserSessions(tx, id, req.keepSessionId, t, expiry(req.revocationExpiresAt)),
      );
      return { sessionsRevoked: n };
    },
    async getTotp(req) {
      const row = await totp.getTotp(db, totpBox, userId(req.userId)).catch(rethrowTotp);
      return { state: STATES[row.state], secret: row.secret, recoveryCodesLeft: row.recoveryCodesLeft };
    },
    async setPendingTotp(req) {
      if (!BASE32.test(req.secret)) throw invalidArgument("secret must be 16-64 base32 characters");
      await totp.setPendingTotp(db, totpBox, userId(req.userId), req.secret, now()).catch(rethrowTotp);
      return {};
    },
    async enableTotp(req) {
      const hashes = req.recoveryCodeHashes.map((h) => hex(h, 64, "recovery_code_hashes"));
      const confirm = {
        secret: required(req.secret, "secret"),
        step: Number(req.step),
        recoveryCodeHashes: hashes,
      };
      await totp.enableTotp(db, totpBox, userId(req.userId), confirm, now()).catch(rethrowTotp);
      return {};
    },
    async disableTotp(req) {
      return { disabled: await totp.disableTotp(db, userId(req.userId)) };
    },
    async claimTotpStep(req) {
      if (req.step <= 0n) throw invalidArgument("step must be positive");
      return { claimed: await totp.claimTotpStep(db, userId(req.userId), Number(req.step)) };
    },
    async useRecoveryCode(req) {
      const hash = hex(req.codeHash, 64, "code_hash");
      return { used: await totp.useRecoveryCode(db, userId(req.userId), hash) };
    },
    async replaceRecoveryCodes(req) {
      const hashes = req.codeHashes.map((h) => hex(h, 64, "code_hashes"));
      if (hashes.length === 0) throw invalidArgument("code_hashes must not be empty");
      if (!(await totp.replaceRecoveryCodes(db, userId(req.userId), hashes, now())))
        throw failedPrecondition("two-factor sign-in is not on");
      return {};
    },
    async createAppPassword(req) {
      const name = required(req.name, "name");
      if ([...name].length > 100) throw invalidArgument("name must be at most 100 characters");
      const row = await apps.createAppPassword(
        db,
        { userId: userId(req.userId), name, tokenHash: hex(req.tokenHash, 64, "token_hash") },
        now(),
      );
      return { appPassword: appRecord(row) };
    },
    async listAppPasswords(req) {
      return { appPasswords: (await apps.listAppPasswords(db, userId(req.userId))).map(appRecord) };
    },
    async revokeAppPassword(req) {
      const id = required(req.id, "id");
      const t = now();
      return {
        revoked: await apps.revokeAppPassword(db, userId(req.userId), id, t, expiry(req.revocationExpiresAt)),
      };
    },
    async findAppPassword(req) {
      const row = await apps.findAppPassword(db, hex(req.tokenHash, 64, "token_hash"), now());
      if (!row) throw notFound("no such app password");
      return { appPassword: appRecord(row) };
    },
    async deleteAccount(req) {
      const n = await deleteAccount(db, userId(req.userId), now(), expiry(req.revocationExpiresAt));
      return { filesDeleted: BigInt(n) };
    },
  };
}
