// Sign in and sign up.
import { accounts, auth, explain } from "./api.ts";
import { h, mount } from "./dom.ts";

type Mode = "signin" | "signup";

export function authView(root: HTMLElement, opts: { mode?: Mode; notice?: string; username?: string } = {}) {
  const mode: Mode = opts.mode ?? "signin";
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite" }, opts.notice ?? "");
  const error = h("p", { class: "error", role: "alert" });
  const username = h("input", {
    id: "username",
    name: "username",
    autocomplete: "username",
    required: true,
    minlength: 3,
    maxlength: 64,
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*",
    title: "3–64 letters, digits, dots, underscores or hyphens",
    value: opts.username ?? "",
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    required: true,
    minlength: mode === "signup" ? 8 : 1,
    autocomplete: mode === "signup" ? "new-password" : "current-password",
  });
  const confirm = h("input", {
    id: "confirm",
    name: "confirm",
    type: "password",
    required: true,
    autocomplete: "new-password",
  });
  const checkMatch = () =>
    confirm.setCustomValidity(confirm.value === password.value ? "" : "The passwords do not match.");
  confirm.addEventListener("input", checkMatch);
  password.addEventListener("input", checkMatch);
  const submit = h(
    "button",
    { type: "submit", class: "primary" },
    mode === "signup" ? "Create account" : "Sign in",
  );

  const form = h(
    "form",
    {
      class: "card auth",
      "aria-labelledby": "auth-title",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (mode === "signup") checkMatch();
        if (!form.reportValidity()) return;
        error.textContent = "";
        submit.disabled = true;
        try {
          if (mode === "signup") {
            await accounts.signup({ username: username.value, password: password.value });
            authView(root, {
              mode: "signin",
              username: username.value,
              notice: "Your account is ready. Sign in with your new password.",
            });
            return;
          }
          await auth.signin(username.value, password.value);
        } catch (err) {
          error.textContent = explain(err);
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
          onclick: () => authView(root, { mode: mode === "signup" ? "signin" : "signup" }),
        },
        mode === "signup" ? "Sign in" : "Create an account",
      ),
    ),
  );
  mount(root, h("main", { id: "main", class: "center" }, form));
  (username.value ? password : username).focus();
}
