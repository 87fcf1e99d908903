// Legacy account routes (shared/LEGACY_API.md): /user/signup, /user/signin, /user/info.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Hono } from "hono";
import { type AccessTokenVerifier, InvalidTokenError } from "../../core/access-token.ts";
import { AccountService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { type Upstream, upstreamClient } from "../upstreams.ts";
import { legacyError, tokenInvalid } from "./errors.ts";
import { LegacyCode, legacyParams, legacyTime } from "./params.ts";

export interface LegacyUserOptions {
  account: Upstream;
  verifier: AccessTokenVerifier;
  /** Base URLs handed to legacy pages for uploads and downloads; default: this gateway's origin. */
  uploadEntry?: string;
  downloadEntry?: string;
}

export function legacyUserRoutes(opts: LegacyUserOptions) {
  const account = upstreamClient(AccountService, opts.account);
  const app = new Hono<{ Variables: { clientIp: string; requestId: string } }>();
  const fwd = (c: { get(k: "clientIp" | "requestId"): string }) => ({
    headers: { "x-forwarded-for": c.get("clientIp"), "x-request-id": c.get("requestId") },
  });

  app.get("/signup", (c) => c.redirect("/?view=signup", 302));
  app.get("/signin", (c) => c.redirect("/?view=signin", 302));

  app.post("/signup", async (c) => {
    const p = await legacyParams(c);
    if (!p.username || !p.password)
      return c.json({ code: LegacyCode.invalidParams, msg: "username and password are required" });
    try {
      const inviteCode = p.invite_code ?? "";
      await account.signup({ username: p.username, password: p.password, inviteCode }, fwd(c));
      return c.json({ code: LegacyCode.ok, msg: "OK" });
    } catch (err) {
      return legacyError(c, "signup", err);
    }
  });

  app.post("/signin", async (c) => {
    const p = await legacyParams(c);
    try {
      const res = await account.signin({ username: p.username ?? "", password: p.password ?? "" }, fwd(c));
      const origin = new URL(c.req.url).origin;
      return c.json({
        code: LegacyCode.ok,
        msg: "OK",
        data: {
          Location: "/",
          Username: res.user?.username ?? p.username,
          Token: res.tokens?.accessToken ?? "",
          UploadEntry: opts.uploadEntry ?? origin,
          DownloadEntry: opts.downloadEntry ?? origin,
        },
      });
    } catch (err) {
      return legacyError(c, "signin", err);
    }
  });

  app.post("/info", async (c) => {
    const p = await legacyParams(c);
    const invalid = () => tokenInvalid(c);
    if (!p.token) return invalid();
    try {
      const who = await opts.verifier.verify(p.token);
      if (!p.username || p.username.toLowerCase() !== who.username.toLowerCase()) return invalid();
      const { user } = await account.getUserInfo(
        {},
        { headers: { ...fwd(c).headers, authorization: `Bearer ${p.token}` } },
      );
      return c.json({
        code: 0,
        msg: "OK",
        data: {
          Username: user?.username ?? who.username,
          SignupAt: user?.createdAt ? legacyTime(timestampMs(user.createdAt)) : "",
          LastActive: user?.lastActiveAt ? legacyTime(timestampMs(user.lastActiveAt)) : "",
        },
      });
    } catch (err) {
      if (err instanceof InvalidTokenError) return invalid();
      return legacyError(c, "info", err);
    }
  });
  return app;
}
