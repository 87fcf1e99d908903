// filestore.meta.v1.MetaService over the store functions.
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { MetaService } from "../../proto/gen/filestore/meta/v1/meta_pb.ts";
import type { Db } from "../lib/db/database.ts";
import { alreadyExists, invalidArgument, notFound, unauthenticated } from "../lib/errors.ts";
import type { ServiceModule } from "../lib/server.ts";
import * as store from "./store.ts";

const hex64 = /^[0-9a-f]{64}$/;

function userRecord(u: store.UserRow) {
  return {
    id: u.id,
    username: u.username,
    passwordHash: u.password_hash,
    createdAt: timestampFromMs(u.created_at),
    lastActiveAt: timestampFromMs(u.last_active_at),
  };
}

function tokenHash(value: string, field = "token_hash"): string {
  if (!hex64.test(value)) throw invalidArgument(`${field} must be 64 lower-case hex characters`);
  return value;
}

export function metaModule(db: Db, now: () => number = Date.now): ServiceModule {
  return {
    services: [MetaService],
    routes(router: ConnectRouter) {
      router.service(MetaService, {
        async createUser(req) {
          if (!req.username || !req.passwordHash)
            throw invalidArgument("username and password_hash are required");
          try {
            return { user: userRecord(await store.createUser(db, req.username, req.passwordHash, now())) };
          } catch (err) {
            if (err instanceof store.DuplicateUsernameError)
              throw alreadyExists(`username "${req.username}" is taken`);
            throw err;
          }
        },
        async getUser(req) {
          const key = req.key;
          if (!key.case || !key.value) throw invalidArgument("give an id or a username");
          const user = await store.findUser(
            db,
            key.case === "id" ? { id: key.value } : { username: key.value },
          );
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
              },
              now(),
            );
          } catch (err) {
            if (err instanceof store.TokenReplayError) {
              throw unauthenticated(
                "refresh token was already used; every session of that sign-in is now revoked",
              );
            }
            if (err instanceof store.TokenInvalidError)
              throw unauthenticated("refresh token is invalid or expired");
            throw err;
          }
        },
        async revokeRefreshToken(req) {
          return { revoked: await store.revokeRefreshToken(db, tokenHash(req.tokenHash), now()) };
        },
      });
    },
  };
}
