// The admin's dialog for one user: quota (an amount with a unit, unlimited, or the instance's default),
// disable (with a reason for the audit log) or enable, reset the password (the temporary one shown this
// once), grant or revoke the admin role, delete (typing the username). What an action did shows at the
// top of the dialog; a refusal shows the server's message.
import type { ManagedUser } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { admin, explain } from "./api.ts";
import { confirmAction, modal } from "./dialogs.ts";
import { type Child, h, mount } from "./dom.ts";
import { bytes, date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { actionForm, field, secretOnce } from "./page-parts.ts";
import { fromBytes, SIZE_UNITS, type SizeUnit, toBytes } from "./size-units.ts";

/** What the custom quota field offers when the user has none of their own. */
const DEFAULT_CUSTOM = 10n * 2n ** 30n;

/** What is special about an account, as small labels. */
export const badges = (u: ManagedUser) => [
  u.admin && h("span", { class: "tag" }, "Admin"),
  u.disabled && h("span", { class: "tag danger" }, "Disabled"),
  u.twoFactorEnabled && h("span", { class: "tag" }, "2FA"),
  u.mustChangePassword && h("span", { class: "tag" }, "Must change password"),
];

/** What the parts of the dialog share: the user as last answered, and how they report. */
interface Dialog {
  user: ManagedUser;
  /** Shows what an action did at the top; `u`: the user as it now is (the parts are drawn again). */
  done(message: Child, u?: ManagedUser): void;
  /** Runs an action, showing a refusal under the title. */
  act(work: () => Promise<void>): Promise<void>;
}

export function manageUser(
  initial: ManagedUser,
  selfId: string,
  say: Notices,
  changed: () => void,
): Promise<void> {
  return modal<void>(
    `Manage ${initial.username}`,
    (close) => {
      const result = h("div", { class: "notice", role: "status", "aria-live": "polite" });
      const error = h("p", { class: "error", role: "alert" });
      const parts = h("div");
      const self = initial.id === selfId;
      const d: Dialog = {
        user: initial,
        done(message, u) {
          if (u) d.user = u;
          mount(result, message);
          render();
          changed();
        },
        async act(work) {
          error.textContent = "";
          try {
            await work();
          } catch (err) {
            error.textContent = explain(err);
          }
        },
      };
      const deleted = (message: string) => {
        say.say(message);
        changed();
        close(undefined);
      };
      const render = () =>
        mount(
          parts,
          summary(d.user),
          quotaForm(d),
          h("h3", null, "Sign-in"),
          self
            ? h("p", { class: "muted" }, "This is your own account: change it on your account page.")
            : [stateForm(d), h("div", { class: "form-buttons" }, resetButton(d), adminButton(d))],
          !self && [h("h3", null, "Delete"), deleteForm(d, deleted)],
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

function summary(user: ManagedUser): HTMLElement {
  return h(
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
  );
}

/** The quota: the instance default, unlimited, or an amount with a unit. */
function quotaForm(d: Dialog): HTMLFormElement {
  const user = d.user;
  const custom = !user.defaultQuota && user.quotaBytes > 0n;
  const shown = fromBytes(custom ? user.quotaBytes : DEFAULT_CUSTOM);
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
  const mode = () =>
    (modes.querySelector("input[name=quota-mode]:checked") as HTMLInputElement | null)?.value ?? "default";
  const sync = () => {
    amount.disabled = unit.disabled = mode() !== "custom";
  };
  const radio = (value: string, label: string, checked: boolean) =>
    h(
      "label",
      { class: "check-line" },
      h("input", { type: "radio", name: "quota-mode", value, checked, onchange: sync }),
      label,
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
  sync();
  return actionForm(
    {
      label: "Quota",
      submit: "Save quota",
      run: async () => {
        let wanted = 0n;
        if (mode() === "custom") {
          const b = toBytes(amount.value, unit.value as SizeUnit);
          if (b === undefined) throw new Error("Enter the quota as a number, like 10 or 2.5.");
          wanted = b;
        }
        const r = await admin.setQuota({
          userId: user.id,
          quota:
            mode() === "default"
              ? { case: "useDefault", value: true }
              : { case: "quotaBytes", value: wanted },
        });
        const q = r.user?.quotaBytes ?? 0n;
        d.done(`Quota of ${user.username}: ${q > 0n ? bytes(Number(q)) : "unlimited"}.`, r.user);
        return undefined;
      },
    },
    modes,
  ).form;
}

/** Disable (with a reason) or enable. */
function stateForm(d: Dialog): Child {
  const user = d.user;
  if (user.disabled)
    return [
      h("p", null, "This account is disabled: it cannot sign in."),
      h(
        "button",
        {
          type: "button",
          onclick: () =>
            d.act(async () => {
              const r = await admin.enableUser({ userId: user.id });
              d.done(`Enabled ${user.username}.`, r.user);
            }),
        },
        "Enable account",
      ),
    ];
  const [reasonLabel, reason] = field("disable-reason", "Reason (kept in the audit log)", { maxlength: 500 });
  return actionForm(
    {
      label: "Disable account",
      submit: "Disable account",
      danger: true,
      run: async () => {
        const r = await admin.disableUser({ userId: user.id, reason: reason.value.trim() });
        d.done(`Disabled ${user.username}; ${r.sessionsRevoked} sessions signed out.`, r.user);
        return undefined;
      },
    },
    reasonLabel,
    reason,
  ).form;
}

/** A generated password, shown once; the user must choose their own at the next sign-in. */
function resetButton(d: Dialog): HTMLButtonElement {
  const reset = async () => {
    const user = d.user;
    const ok = await confirmAction(
      "Reset password",
      `${user.username} is signed out everywhere and must choose a new password at the next sign-in.`,
      "Reset password",
    );
    if (!ok) return;
    const r = await admin.resetPassword({ userId: user.id, newPassword: "" });
    d.user = { ...user, mustChangePassword: true };
    d.done(
      secretOnce(
        "temporary-password",
        "Temporary password",
        r.temporaryPassword,
        `Give it to ${user.username}: it is not shown again. ${r.sessionsRevoked} sessions were signed out.`,
      ),
    );
  };
  return h("button", { type: "button", onclick: () => d.act(reset) }, "Reset password");
}

function adminButton(d: Dialog): HTMLButtonElement {
  const user = d.user;
  const toggle = async () => {
    const r = await admin.setAdmin({ userId: user.id, admin: !user.admin });
    d.done(
      r.user?.admin
        ? `${user.username} is now an administrator.`
        : `${user.username} is no longer an administrator.`,
      r.user,
    );
  };
  return h(
    "button",
    { type: "button", onclick: () => d.act(toggle) },
    user.admin ? "Remove administrator role" : "Make administrator",
  );
}

/** Delete for good, once the username is typed again; `deleted` closes the dialog. */
function deleteForm(d: Dialog, deleted: (message: string) => void): HTMLFormElement {
  const user = d.user;
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
        deleted(`Deleted ${user.username} (${r.filesDeleted} files and folders)`);
        return undefined;
      },
    },
    h("p", { class: "muted" }, "Their files are purged and their sessions and download links end."),
    label,
    confirm,
  ).form;
}
