// Who may call AdminService, and what each change leaves in the audit log. The role is read from the
// database on every call (never from the token, so a revoked role stops at once), or given by ADMIN_USERS
// (account-state.ts); tokens obtained with an app password never administer.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { permissionDenied } from "../lib/errors.ts";
import type { AccountDeps } from "./account.ts";
import { applyNamedAdmin, refuseDisabled } from "./account-state.ts";

/** The administrator making a call, and where from (for the audit log). */
export interface Actor {
  id: string;
  username: string;
  clientAddress: string;
}

const ADMINS_ONLY = "this needs an administrator: your account is not one";

/** The caller as an administrator; PermissionDenied unless they are one, signed in with their password. */
export async function requireAdmin(deps: AccountDeps, who: Identity, clientAddress: string): Promise<Actor> {
  if (who.scope === "app")
    throw permissionDenied("an app password cannot administer the server; sign in with your password");
  let record: Awaited<ReturnType<typeof deps.meta.getUser>>["user"];
  try {
    record = (await deps.meta.getUser({ key: { case: "id", value: who.userId } })).user;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) throw permissionDenied(ADMINS_ONLY);
    throw err;
  }
  if (!record) throw permissionDenied(ADMINS_ONLY);
  refuseDisabled(record);
  record = await applyNamedAdmin(deps, record);
  if (!record.admin) throw permissionDenied(ADMINS_ONLY);
  return { id: record.id, username: record.username, clientAddress };
}

/** One audit event for a change `actor` made; details are key=value text, never a secret. */
export async function audit(
  deps: AccountDeps,
  actor: Actor,
  action: string,
  target: { id: string; username: string },
  details: Record<string, string | number | boolean> = {},
): Promise<void> {
  await deps.meta.appendAuditEvent({
    event: {
      actorId: actor.id,
      actorUsername: actor.username,
      action,
      targetId: target.id,
      targetUsername: target.username,
      clientAddress: actor.clientAddress,
      details: Object.entries(details)
        .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, " ")}`)
        .join(" "),
    },
  });
}
