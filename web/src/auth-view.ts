// Sign in and sign up. Signup follows the server's policy (GetSignupPolicy: open; an invite code field;
// closed, said up front, the form closing once the server refuses — users named in ADMIN_USERS may
// still sign up, which is how a closed server gets its first administrator). Signin asks for more when the server's reason says so: a two-factor code
// (SECOND_FACTOR_REQUIRED) or a new password after an administrator's reset (PASSWORD_CHANGE_REQUIRED);
// both are sent again with the username and password. A disabled account is told so plainly.
import { Reason, reasonOf } from "../../core/reasons.ts";
import { SignupPolicy } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { accounts, auth, explain } from "./api.ts";
import { h, mount } from "./dom.ts";

type Mode = "signin" | "signup";

const input = (id: string, props: Record<string, string | number | boolean>) =>
  h("input", { id, name: id, ...props });

/** The username and password (twice to sign up). */
function ownFields(mode: Mode, name = "") {
  const username = input("username", {
    autocomplete: "username",
    required: true,
    minlength: 3,
    maxlength: 64,
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*",
    title: "3–64 letters, digits, dots, underscores or hyphens",
    value: name,
  });
  const password = input("password", {
    type: "password",
    required: true,
    minlength: mode === "signup" ? 8 : 1,
    autocomplete: mode === "signup" ? "new-password" : "current-password",
  });
  const confirm = input("confirm", { type: "password", required: true, autocomplete: "new-password" });
  return { username, password, confirm };
}

/** The lines shown only when the server asks for them: an invite code, a second factor, a new password. */
function askedFields(inviteCode = "") {
  const invite = input("invite-code", { autocomplete: "off", spellcheck: "false", value: inviteCode });
  const inviteLine = h("div", { hidden: true }, h("label", { for: "invite-code" }, "Invite code"), invite);
  const code = input("second-factor", {
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: 32,
    spellcheck: "false",
  });
  const codeLine = h(
    "div",
    { hidden: true },
    h("label", { for: "second-factor" }, "Code from your authenticator app (or a recovery code)"),
    code,
  );
  const fresh = input("new-password", { type: "password", minlength: 8, autocomplete: "new-password" });
  const freshConfirm = input("confirm-new-password", { type: "password", autocomplete: "new-password" });
  const freshLines = h(
    "div",
    { hidden: true },
    h("label", { for: "new-password" }, "New password (at least 8 characters)"),
    fresh,
    h("label", { for: "confirm-new-password" }, "Confirm new password"),
    freshConfirm,
  );
  return { invite, inviteLine, code, codeLine, fresh, freshConfirm, freshLines };
}

const CLOSED = "Signup is closed on this server. Ask an administrator to create an account for you.";

export function authView(
  root: HTMLElement,
  opts: { mode?: Mode; notice?: string; username?: string; invite?: string } = {},
) {
  const mode: Mode = opts.mode ?? "signin";
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite" }, opts.notice ?? "");
  const error = h("p", { class: "error", role: "alert" });
  const { username, password, confirm } = ownFields(mode, opts.username);
  const { invite, inviteLine, code, codeLine, fresh, freshConfirm, freshLines } = askedFields(opts.invite);
  const checkMatch = () => {
    confirm.setCustomValidity(confirm.value === password.value ? "" : "The passwords do not match.");
    freshConfirm.setCustomValidity(freshConfirm.value === fresh.value ? "" : "The passwords do not match.");
  };
  for (const el of [password, confirm, fresh, freshConfirm]) el.addEventListener("input", checkMatch);
  /** Shows one of the lines the server asked for, required from now on. */
  const ask = (line: HTMLElement, fields: HTMLInputElement[], message: string) => {
    line.hidden = false;
    for (const f of fields) f.required = true;
    status.textContent = message;
    (fields.find((f) => !f.value) ?? fields[0])?.focus();
  };
  const submit = h(
    "button",
    { type: "submit", class: "primary" },
    mode === "signup" ? "Create account" : "Sign in",
  );

  const signup = async () => {
    await accounts.signup({
      username: username.value,
      password: password.value,
      inviteCode: invite.value.trim(),
    });
    authView(root, {
      mode: "signin",
      username: username.value,
      notice: "Your account is ready. Sign in with your new password.",
    });
  };
  const signin = () =>
    auth.signin(username.value, password.value, {
      secondFactor: codeLine.hidden ? "" : code.value.trim(),
      newPassword: freshLines.hidden ? "" : fresh.value,
    });
  /** What a refused attempt means for the form; true when handled. */
  const follow = (err: unknown): boolean => {
    switch (reasonOf(err)) {
      case Reason.SECOND_FACTOR_REQUIRED:
        if (!codeLine.hidden && code.value) return false; // a wrong code: the server's message says so
        ask(codeLine, [code], "Enter the code from your authenticator app.");
        return true;
      case Reason.PASSWORD_CHANGE_REQUIRED:
        ask(
          freshLines,
          [fresh, freshConfirm],
          "An administrator set your password. Choose a new one to continue.",
        );
        return true;
      case Reason.ACCOUNT_DISABLED:
        error.textContent = "This account has been disabled by an administrator.";
        return true;
      case Reason.INVITE_REQUIRED:
        ask(inviteLine, [invite], "Signing up needs an invite code from an administrator.");
        error.textContent = invite.value ? explain(err) : "";
        return true;
      case Reason.SIGNUP_CLOSED:
        closeSignup();
        return true;
      default:
        return false;
    }
  };

  const form = h(
    "form",
    {
      class: "card auth",
      "aria-labelledby": "auth-title",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        checkMatch();
        if (!form.reportValidity()) return;
        error.textContent = "";
        submit.disabled = true;
        try {
          await (mode === "signup" ? signup() : signin());
        } catch (err) {
          if (!follow(err)) error.textContent = explain(err);
          submit.disabled = false;
        }
      },
    },
    h("h1", { id: "auth-title" }, mode === "signup" ? "Create your account" : "Sign in to filestore"),
    status,
    h("label", { for: "username" }, "Username"),
    username,
    h("label", { for: "password" }, mode === "signup" ? "Password (at least 8 characters)" : "Password"),
    password,
    mode === "signup" && [h("label", { for: "confirm" }, "Confirm password"), confirm],
    inviteLine,
    codeLine,
    freshLines,
    error,
    submit,
    h(
      "p",
      { class: "switch" },
      mode === "signup" ? "Already have an account? " : "New here? ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () =>
            authView(root, { mode: mode === "signup" ? "signin" : "signup", invite: opts.invite }),
        },
        mode === "signup" ? "Sign in" : "Create an account",
      ),
    ),
  );
  function closeSignup() {
    status.textContent = CLOSED;
    for (const el of form.querySelectorAll("input")) el.disabled = true;
    submit.disabled = true;
    submit.hidden = true;
  }
  if (mode === "signup") {
    accounts
      .getSignupPolicy({})
      .then(({ policy }) => {
        // Shown, not required: users named in ADMIN_USERS sign up without one (the server decides).
        if (policy === SignupPolicy.INVITE) {
          inviteLine.hidden = false;
          status.textContent ||= "Signing up needs an invite code from an administrator.";
        } else if (policy === SignupPolicy.CLOSED) {
          // Said, but the form stays: a user named in ADMIN_USERS may still sign up (bootstrapping).
          status.textContent = CLOSED;
        }
      })
      // An older server without the call: the form as it is, and Signup's answer says the rest.
      .catch(() => undefined);
  }
  mount(root, h("main", { id: "main", class: "center" }, form));
  (username.value ? password : username).focus();
}
