// What administrators set on an account, as sign-in applies it: a disabled account is refused, and the
// users named in ADMIN_USERS are administrators. ADMIN_USERS is applied at signup (created as
// administrators), at each signin and at each AdminService call (the role is written to the database when
// it is missing there, so ListUsers and GetUserInfo agree with the configuration); removing a name from
// ADMIN_USERS does not revoke the role it gave (AdminService.SetAdmin does), and SetAdmin cannot revoke
// the role of a name still listed.
import { Code } from "@connectrpc/connect";
import { Reason, reasonError } from "../../core/reasons.ts";
import type { UserRecord } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import type { AccountDeps } from "./account.ts";

/** True when ADMIN_USERS names `username` (case-insensitively). */
export const isNamedAdmin = (deps: Pick<AccountDeps, "adminUsers">, username: string): boolean =>
  deps.adminUsers?.has(username.toLowerCase()) ?? false;

/** PermissionDenied with the reason ACCOUNT_DISABLED for an account an administrator disabled. */
export function refuseDisabled(record: UserRecord): void {
  if (record.disabledAt)
    throw reasonError(
      "this account has been disabled by an administrator",
      Code.PermissionDenied,
      Reason.ACCOUNT_DISABLED,
    );
}

/** The record with the role ADMIN_USERS gives it, written to the database when it was missing there. */
export async function applyNamedAdmin(
  deps: Pick<AccountDeps, "meta" | "adminUsers">,
  record: UserRecord,
): Promise<UserRecord> {
  if (record.admin || !isNamedAdmin(deps, record.username)) return record;
  await deps.meta.setUserAdmin({ userId: record.id, admin: true });
  return { ...record, admin: true };
}
