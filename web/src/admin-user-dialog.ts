// The admin's dialog for one user: quota (an amount with a unit, unlimited, or the instance's default),
// disable (with a reason for the audit log) or enable, reset the password (the temporary one shown this
// once), grant or revoke the admin role, delete (typing the username). What an action did shows at the
// top of the dialog; a refusal shows the server's message next to the control.
import type { ManagedUser } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { admin, explain } from "./api.ts";
import { confirmAction, modal } from "./dialogs.ts";
import { type Child, h, mount } from "./dom.ts";
import { bytes, date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { actionForm, field, secretOnce } from "./page-parts.ts";
import { fromBytes, SIZE_UNITS, type SizeUnit, toBytes } from "./size-units.ts";

const DEFAULT_CUSTOM = 10n * 2n ** 30n;

/** What is special about an account, as small labels. */
export const badges = (u: ManagedUser) => [
  u.admin && h("span", { class: "tag" }, "Admin"),
  u.disabled && h("span", { class: "tag danger" }, "Disabled"),
  u.twoFactorEnabled && h("span", { class: "tag" }, "2FA"),
  u.mustChangePassword && h("span", { class: "tag" }, "Must change password"),
];

export function manageUser(
  initial: ManagedUser,
  selfId: string,
  say: Notices,
  changed: () => void,
): Promise<void> {
  return modal<void>(
    `Manage ${initial.username}`,
    (close) => {
      let user = initial;
      const self = user.id === selfId;
      const result = h("div", { class: "notice", role: "status", "aria-live": "polite" });
      const error = h("p", { class: "error", role: "alert" });
      const parts = h("div");
      /** Runs an action; `u`: the user as it now is. */
      const done = (message: string | Child, u?: ManagedUser) => {
        if (u) user = u;
        mount(result, message);
        render();
        changed();
      };
      const act = async (work: () => Promise<void>) => {
        error.textContent = "";
        try {
          await work();
        } catch (err) {
          error.textContent = explain(err);
        }
      };

      const quotaForm = () => {
        const custom = !user.defaultQuota && user.quotaBytes > 0n;
        const shown = fromBytes(custom ? user.quotaBytes : DEFAULT_CUSTOM);
        const radio = (value: string, label: string, checked: boolean) =>
          h(
            "label",
            { class: "check-line" },
            h("input", { type: "radio", name: "quota-mode", value, checked, onchange: sync }),
            label,
          );
        const [amountLabel, amount] = field("quota-amount", "Amount", {
          value: shown.amount,
          inputmode: "decimal",
          required: true,
        });
        const unit = h(
          "select",
          { id: "quota-unit", "aria-label": "Unit" },
          SIZE_UNITS.map((u) => h("option", { value: u, selected: u === shown.unit }, u)),
        );
        const modes = h(
          "fieldset",
          { class: "quota-modes" },
          h("legend", null, "Quota"),
          radio("default", "Instance default", user.defaultQuota),
          radio("unlimited", "Unlimited", !user.defaultQuota && user.quotaBytes === 0n),
          radio("custom", "Custom", custom),
          h("div", { class: "quota-amount" }, amountLabel, h("div", { class: "secret-line" }, amount, unit)),
        );
        function sync() {
          const mode = (modes.querySelector("input[name=quota-mode]:checked") as HTMLInputElement | null)
            ?.value;
          amount.disabled = unit.disabled = mode !== "custom";
        }
        sync();
        const { form } = actionForm(
          {
            label: "Quota",
            submit: "Save quota",
            run: async () => {
              const mode = (form.querySelector("input[name=quota-mode]:checked") as HTMLInputElement).value;
              let bytesWanted = 0n;
              if (mode === "custom") {
                const b = toBytes(amount.value, unit.value as SizeUnit);
                if (b === undefined) throw new Error("Enter the quota as a number, like 10 or 2.5.");
                bytesWanted = b;
              }
              const r = await admin.setQuota({
                userId: user.id,
                quota:
                  mode === "default"
                    ? { case: "useDefault", value: true }
                    : { case: "quotaBytes", value: bytesWanted },
              });
              const q = r.user?.quotaBytes ?? 0n;
              done(`Quota of ${user.username}: ${q > 0n ? bytes(Number(q)) : "unlimited"}.`, r.user);
              return undefined;
            },
          },
          modes,
        );
        return form;
      };

      const stateForm = (): Child => {
        if (user.disabled)
          return [
            h("p", null, "This account is disabled: it cannot sign in."),
            h(
              "button",
              {
                type: "button",
                onclick: () =>
                  act(async () => {
                    const r = await admin.enableUser({ userId: user.id });
                    done(`Enabled ${user.username}.`, r.user);
                  }),
              },
              "Enable account",
            ),
          ];
        const [reasonLabel, reason] = field("disable-reason", "Reason (kept in the audit log)", {
          maxlength: 500,
        });
        return actionForm(
          {
            label: "Disable account",
            submit: "Disable account",
            danger: true,
            run: async () => {
              const r = await admin.disableUser({ userId: user.id, reason: reason.value.trim() });
              done(`Disabled ${user.username}; ${r.sessionsRevoked} sessions signed out.`, r.user);
              return undefined;
            },
          },
          reasonLabel,
          reason,
        ).form;
      };

      const resetButton = h(
        "button",
        {
          type: "button",
          onclick: () =>
            act(async () => {
              const ok = await confirmAction(
                "Reset password",
                `${user.username} is signed out everywhere and must choose a new password at the next sign-in.`,
                "Reset password",
              );
              if (!ok) return;
              const r = await admin.resetPassword({ userId: user.id, newPassword: "" });
              user = { ...user, mustChangePassword: true };
              done(
                secretOnce(
                  "temporary-password",
                  "Temporary password",
                  r.temporaryPassword,
                  `Give it to ${user.username}: it is not shown again. ${r.sessionsRevoked} sessions were signed out.`,
                ),
              );
            }),
        },
        "Reset password",
      );

      const adminButton = () =>
        h(
          "button",
          {
            type: "button",
            onclick: () =>
              act(async () => {
                const r = await admin.setAdmin({ userId: user.id, admin: !user.admin });
                done(
                  r.user?.admin
                    ? `${user.username} is now an administrator.`
                    : `${user.username} is no longer an administrator.`,
                  r.user,
                );
              }),
          },
          user.admin ? "Remove administrator role" : "Make administrator",
        );

      const deleteForm = () => {
        const [label, confirm] = field(
          "confirm-delete-username",
          `Type ${user.username} to delete this account for good`,
          {
            required: true,
          },
        );
        confirm.addEventListener("input", () =>
          confirm.setCustomValidity(confirm.value === user.username ? "" : `Type ${user.username} exactly.`),
        );
        return actionForm(
          {
            label: "Delete account",
            submit: "Delete account",
            danger: true,
            run: async () => {
              const r = await admin.deleteUser({ userId: user.id, confirmUsername: confirm.value });
              say.say(`Deleted ${user.username} (${r.filesDeleted} files and folders)`);
              changed();
              close(undefined);
              return undefined;
            },
          },
          h("p", { class: "muted" }, "Their files are purged and their sessions and download links end."),
          label,
          confirm,
        ).form;
      };

      const render = () =>
        mount(
          parts,
          h(
            "dl",
            { class: "stats" },
            h("dt", null, "State"),
            h("dd", null, badges(user), !user.admin && !user.disabled && "Active"),
            h("dt", null, "Storage"),
            h(
              "dd",
              null,
              `${bytes(Number(user.usedBytes))} used`,
              user.reservedBytes > 0n ? `, ${bytes(Number(user.reservedBytes))} reserved` : "",
              `, ${Number(user.files).toLocaleString()} files`,
            ),
            h("dt", null, "Created"),
            h("dd", null, date(user.createdAt)),
            h("dt", null, "Last activity"),
            h("dd", null, user.lastActiveAt ? date(user.lastActiveAt) : "Never"),
          ),
          quotaForm(),
          h("h3", null, "Sign-in"),
          self
            ? h("p", { class: "muted" }, "This is your own account: change it on your account page.")
            : [stateForm(), h("div", { class: "form-buttons" }, resetButton, adminButton())],
          !self && [h("h3", null, "Delete"), deleteForm()],
        );
      render();
      return [
        result,
        error,
        parts,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", onclick: () => close(undefined) }, "Close"),
        ),
      ];
    },
    { wide: true, className: "manage-user" },
  );
}
