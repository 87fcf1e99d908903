// The account page's password change and account deletion: both need the current password, which the
// server checks (and counts toward the sign-in rate limit).
import { account, auth } from "./api.ts";
import { h } from "./dom.ts";
import { actionForm, codeField, passwordField, section } from "./page-parts.ts";

/** Makes `confirm` valid only when it repeats `value`'s text. */
function mustMatch(confirm: HTMLInputElement, value: () => string, message: string) {
  const check = () => confirm.setCustomValidity(confirm.value === value() ? "" : message);
  confirm.addEventListener("input", check);
  return check;
}

/** Change password; `changed` runs after a change (other sessions ended: the list is stale). */
export function passwordChange(changed: () => void): HTMLElement {
  const [currentLabel, current] = passwordField("current-password", "Current password");
  const [nextLabel, next] = passwordField(
    "new-password",
    "New password (at least 8 characters)",
    "new-password",
  );
  next.minLength = 8;
  const [confirmLabel, confirm] = passwordField("confirm-password", "Confirm new password", "new-password");
  const check = mustMatch(confirm, () => next.value, "The passwords do not match.");
  next.addEventListener("input", check);
  const { form } = actionForm(
    {
      label: "Change password",
      submit: "Change password",
      run: async () => {
        check();
        if (!form.reportValidity()) return undefined;
        const r = await account.changePassword({ currentPassword: current.value, newPassword: next.value });
        form.reset();
        changed();
        const n = r.sessionsRevoked;
        return `Password changed. ${n === 0 ? "No other session was signed in." : `${n} other ${n === 1 ? "session was" : "sessions were"} signed out.`}`;
      },
    },
    currentLabel,
    current,
    nextLabel,
    next,
    confirmLabel,
    confirm,
  );
  return section("password", "Password", form);
}

/**
 * Delete my account: the password, a code when two-factor sign-in is on (`twoFactor` toggles that field
 * as the two-factor section learns the state), and the username typed again.
 */
export function accountDeletion(username: string): { el: HTMLElement; twoFactor: (on: boolean) => void } {
  const [passwordLabel, password] = passwordField("delete-password", "Your password");
  const [codeLabel, code] = codeField("delete-code");
  const codeLine = h("div", { hidden: true }, codeLabel, code);
  code.required = false;
  const [confirmLabel, confirm] = passwordField(
    "delete-confirm",
    `Type your username (${username}) to confirm`,
    "off",
  );
  confirm.type = "text";
  const check = mustMatch(confirm, () => username, `Type ${username} to confirm.`);
  const { form } = actionForm(
    {
      label: "Delete my account",
      submit: "Delete my account",
      danger: true,
      run: async () => {
        check();
        if (!form.reportValidity()) return undefined;
        const r = await account.deleteAccount({ password: password.value, secondFactor: code.value.trim() });
        const n = Number(r.filesDeleted);
        await auth.signout(
          `Your account was deleted (${n} ${n === 1 ? "file or folder" : "files and folders"}).`,
        );
        return undefined;
      },
    },
    passwordLabel,
    password,
    codeLine,
    confirmLabel,
    confirm,
  );
  const el = section(
    "delete-account",
    "Delete account",
    h(
      "p",
      null,
      "This deletes your account, all your files and folders, your sessions, app passwords and download links. It cannot be undone.",
    ),
    form,
  );
  el.classList.add("danger-zone");
  return {
    el,
    twoFactor: (on) => {
      codeLine.hidden = !on;
      code.required = on;
    },
  };
}
