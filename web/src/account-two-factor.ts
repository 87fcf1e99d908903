// The account page's two-factor sign-in (TOTP): its state; turning it on (password → the secret as a
// QR code and in base32 → a code from the app → the 10 recovery codes, shown this once); turning it off
// (password + code); new recovery codes in place of the old ones (password + a current code).
import { renderSVG } from "uqr";
import { account } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import {
  actionForm,
  codeField,
  copyText,
  downloadText,
  field,
  passwordField,
  section,
  showError,
} from "./page-parts.ts";

/** What each step needs: where it is drawn, how to go back to the state, who to tell. */
interface Steps {
  body: HTMLElement;
  showStatus(): void;
  changed(on: boolean): void;
}

/** `changed`: told whether two-factor sign-in is on, whenever that is learnt. */
export function twoFactorSection(changed: (on: boolean) => void): HTMLElement {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const t: Steps = {
    body,
    changed,
    showStatus: () => {
      account
        .getTwoFactorStatus({})
        .then((s) => {
          changed(s.enabled);
          mount(body, s.enabled ? enabledView(t, s.recoveryCodesLeft) : disabledView(t));
        })
        .catch((err) => showError(body, err));
    },
  };
  t.showStatus();
  return section("two-factor", "Two-factor sign-in", body);
}

function disabledView(t: Steps): Child {
  const [label, password] = passwordField("totp-password", "Your password");
  const { form } = actionForm(
    {
      label: "Set up two-factor sign-in",
      submit: "Set up two-factor sign-in",
      run: async () => {
        const r = await account.beginTotpEnrollment({ password: password.value });
        mount(t.body, enrolView(t, r.otpauthUri, r.secret));
        return undefined;
      },
    },
    label,
    password,
  );
  return [
    h("p", { id: "totp-state" }, "Two-factor sign-in is off."),
    h(
      "p",
      { class: "muted" },
      "With it on, signing in also needs a code from an authenticator app on your phone.",
    ),
    form,
  ];
}

function enrolView(t: Steps, uri: string, secret: string): Child {
  const [label, code] = codeField("totp-code", "Code from your app");
  code.maxLength = 6;
  code.pattern = "\\d{6}";
  const { form } = actionForm(
    {
      label: "Confirm two-factor sign-in",
      submit: "Turn on",
      run: async () => {
        const r = await account.confirmTotpEnrollment({ code: code.value.trim() });
        t.changed(true);
        mount(t.body, recoveryView(t, r.recoveryCodes));
        return undefined;
      },
    },
    label,
    code,
  );
  const [secretLabel, secretInput] = field("totp-secret", "Or type this key into the app", {
    value: secret,
    readonly: true,
    class: "secret",
    spellcheck: "false",
  });
  return [
    h("p", null, "Scan this QR code with your authenticator app, then enter the 6-digit code it shows."),
    // An SVG image from a data: URL: the page's CSP allows those for images, and no markup is parsed.
    h("img", {
      class: "qr",
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(renderSVG(uri, { border: 2, pixelSize: 6 }))}`,
      alt: "QR code of the two-factor secret",
      width: 200,
      height: 200,
    }),
    secretLabel,
    secretInput,
    form,
    h("button", { type: "button", class: "link", onclick: () => t.showStatus() }, "Cancel"),
  ];
}

function recoveryView(t: Steps, codes: string[]): Child {
  const text = `filestore recovery codes (each works once)\n\n${codes.join("\n")}\n`;
  const said = h("span", { class: "muted", role: "status" });
  return [
    h("p", { id: "totp-state" }, "Two-factor sign-in is on."),
    h("h3", null, "Your recovery codes"),
    h(
      "p",
      null,
      "Each code signs you in once in place of a code from your app, should you lose your phone. Keep them somewhere safe: they are not shown again.",
    ),
    h(
      "ol",
      { class: "codes", "aria-label": "Recovery codes" },
      codes.map((c) => h("li", null, c)),
    ),
    h(
      "div",
      { class: "form-buttons" },
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            said.textContent = (await copyText(text)) ? "Copied." : "Select the codes and copy them by hand.";
          },
        },
        "Copy codes",
      ),
      h(
        "button",
        { type: "button", onclick: () => downloadText("filestore-recovery-codes.txt", text) },
        "Download codes",
      ),
      h("button", { type: "button", class: "primary", onclick: () => t.showStatus() }, "Done"),
      said,
    ),
  ];
}

/**
 * A form of the password and a code (fields `<id>-password`, `<id>-code`) whose submit, labelled `label`,
 * runs `act` with them.
 */
function passwordAndCodeForm(
  id: string,
  opts: { label: string; danger?: boolean; codeLabel?: string },
  act: (password: string, code: string) => Promise<void>,
): HTMLFormElement {
  const [passwordLabel, password] = passwordField(`${id}-password`, "Your password");
  const [codeLabel, code] = codeField(`${id}-code`, opts.codeLabel);
  const run = async () => {
    await act(password.value, code.value.trim());
    return undefined;
  };
  const form = actionForm(
    { label: opts.label, submit: opts.label, danger: opts.danger, run },
    passwordLabel,
    password,
    codeLabel,
    code,
  );
  return form.form;
}

function enabledView(t: Steps, left: number): Child {
  const off = { label: "Turn off two-factor sign-in", danger: true };
  const form = passwordAndCodeForm("totp-off", off, async (password, code) => {
    await account.disableTotp({ password, code });
    t.showStatus();
  });
  return [
    h("p", { id: "totp-state" }, "Two-factor sign-in is on."),
    h(
      "p",
      { class: left <= 2 ? "error" : "muted" },
      `${left} recovery ${left === 1 ? "code" : "codes"} left.`,
      left <= 2 ? " Get new ones below." : "",
    ),
    newCodesForm(t),
    form,
  ];
}

/** RegenerateRecoveryCodes: the password and a current code from the app; the new codes shown once. */
function newCodesForm(t: Steps): Child {
  const opts = { label: "Get new recovery codes", codeLabel: "Code from your authenticator app" };
  const form = passwordAndCodeForm("totp-codes", opts, async (password, code) => {
    const r = await account.regenerateRecoveryCodes({ password, code });
    mount(t.body, recoveryView(t, r.recoveryCodes));
  });
  return [
    h("h3", null, "New recovery codes"),
    h("p", { class: "muted" }, "The codes you have now stop working. Needs a current code from your app."),
    form,
  ];
}
