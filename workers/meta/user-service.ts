// filestore.meta.v1.UserService: users, their refresh tokens and revoked sessions (logic in users.ts).
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { Reason, reasonError, withReason } from "../../core/reasons.ts";
import type { UserService } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { alreadyExists, invalidArgument, notFound, unauthenticated } from "../lib/errors.ts";
import { hex, size } from "../lib/validate.ts";
import { InviteInvalidError } from "./invites.ts";
import type { MetaDeps } from "./records.ts";
import * as store from "./users.ts";

function userRecord(u: store.UserRow) {
  return {
    id: u.id,
    username: u.username,
    passwordHash: u.password_hash,
    createdAt: timestampFromMs(u.created_at),
    lastActiveAt: timestampFromMs(u.last_active_at),
    admin: u.admin === 1,
    disabledAt: u.disabled_at == null ? undefined : timestampFromMs(u.disabled_at),
    mustChangePassword: u.must_change_password === 1,
  };
}

const tokenHash = (value: string, field = "token_hash"): string => hex(value, 64, field);

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A session id given by the caller (a lower-case UUID), or undefined for none. */
function sessionId(value: string): string | undefined {
  if (!value) return undefined;
  if (!uuid.test(value)) throw invalidArgument("session_id must be a lower-case UUID");
  return value;
}

const revocationExpiry = (t: Timestamp | undefined): number | undefined =>
  t ? timestampDate(t).getTime() : undefined;

export function userService({ db, now }: MetaDeps): ServiceImpl<typeof UserService> {
  return {
    async createUser(req) {
      if (!req.username || !req.passwordHash)
        throw invalidArgument("username and password_hash are required");
      if (req.quotaBytes !== undefined && req.quotaBytes < 0n)
        throw invalidArgument("a quota cannot be negative (0: unlimited)");
      const opts = {
        admin: req.admin,
        mustChangePassword: req.mustChangePassword,
        inviteCodeHash: req.inviteCodeHash ? hex(req.inviteCodeHash, 64, "invite_code_hash") : undefined,
        quotaBytes: req.quotaBytes === undefined ? undefined : size(req.quotaBytes),
      };
      try {
        return { user: userRecord(await store.createUser(db, req.username, req.passwordHash, now(), opts)) };
      } catch (err) {
        if (err instanceof store.DuplicateUsernameError)
          throw alreadyExists(`username "${req.username}" is taken`);
        if (err instanceof InviteInvalidError)
          throw reasonError(
            "this invite code is not valid: it may be used or expired; ask an administrator for a new one",
            Code.PermissionDenied,
            Reason.INVITE_REQUIRED,
          );
        throw err;
      }
    },
    async getUser(req) {
      const key = req.key;
      if (!key.case || !key.value) throw invalidArgument("give an id or a username");
      const user = await store.findUser(db, key.case === "id" ? { id: key.value } : { username: key.value });
      if (!user) throw notFound("no such user");
      return { user: userRecord(user) };
    },
    async touchUser(req) {
      if (!req.id) throw invalidArgument("id is required");
      await store.touchUser(db, req.id, now());
      return {};
    },
    async createRefreshToken(req) {
      if (!req.userId || !req.expiresAt) throw invalidArgument("user_id and expires_at are required");
      await store.createRefreshToken(
        db,
        {
          userId: req.userId,
          tokenHash: tokenHash(req.tokenHash),
          expiresAt: timestampDate(req.expiresAt).getTime(),
          familyId: sessionId(req.sessionId),
          clientAddress: req.clientAddress,
          userAgent: req.userAgent,
        },
        now(),
      );
      return {};
    },
    async rotateRefreshToken(req) {
      if (!req.newExpiresAt) throw invalidArgument("new_expires_at is required");
      try {
        return await store.rotateRefreshToken(
          db,
          tokenHash(req.tokenHash),
          {
            tokenHash: tokenHash(req.newTokenHash, "new_token_hash"),
            expiresAt: timestampDate(req.newExpiresAt).getTime(),
            clientAddress: req.clientAddress,
            userAgent: req.userAgent,
          },
          now(),
          revocationExpiry(req.revocationExpiresAt),
        );
      } catch (err) {
        if (err instanceof store.TokenReplayError) {
          throw withReason(
            unauthenticated("refresh token was already used; every session of that sign-in is now revoked"),
            Reason.REFRESH_TOKEN_REPLAYED,
          );
        }
        if (err instanceof store.TokenInvalidError)
          throw unauthenticated("refresh token is invalid or expired");
        throw err;
      }
    },
    async revokeRefreshToken(req) {
      const hash = tokenHash(req.tokenHash);
      return {
        revoked: await store.revokeRefreshToken(db, hash, now(), revocationExpiry(req.revocationExpiresAt)),
      };
    },
    async listRevokedSessions(req) {
      const t = now();
      const rows = await store.listRevokedSessions(db, req.since ? timestampDate(req.since).getTime() : 0, t);
      return {
        sessions: rows.map((r) => ({ sessionId: r.sessionId, expiresAt: timestampFromMs(r.expiresAt) })),
        now: timestampFromMs(t),
      };
    },
  };
}
