// What the account and admin pages are made of: titled sections, labelled fields, forms that show
// their own error (the server's message) and result, and secrets shown once with a copy button.
import { explain } from "./api.ts";
import { type Child, h, mount, type Props } from "./dom.ts";

/** A card with a heading that names it for assistive technology. */
export function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return h(
    "section",
    { class: "card panel", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    ...children,
  );
}

/** A label and its input. */
export function field(id: string, label: string, props: Props = {}): [HTMLLabelElement, HTMLInputElement] {
  return [h("label", { for: id }, label), h("input", { id, name: id, autocomplete: "off", ...props })];
}

export const passwordField = (id: string, label: string, autocomplete = "current-password") =>
  field(id, label, { type: "password", required: true, autocomplete });

export const codeField = (id: string, label = "Code from your authenticator app (or a recovery code)") =>
  field(id, label, {
    required: true,
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: 32,
    spellcheck: "false",
  });

export interface ActionForm {
  form: HTMLFormElement;
  /** Where the form says what happened (role=status). */
  status: HTMLElement;
  error: HTMLElement;
}

/**
 * A form whose submit runs `run` once at a time: the button is disabled meanwhile, a failure shows the
 * server's message under the fields, and the text `run` returns (if any) shows as its result.
 */
export function actionForm(
  opts: { label: string; submit: string; danger?: boolean; run: () => Promise<string | undefined> },
  ...fields: Child[]
): ActionForm {
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: opts.danger ? "danger" : "primary" }, opts.submit);
  const form = h(
    "form",
    {
      class: "action-form",
      "aria-label": opts.label,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!form.reportValidity()) return;
        error.textContent = "";
        status.textContent = "";
        button.disabled = true;
        try {
          status.textContent = (await opts.run()) ?? "";
        } catch (err) {
          error.textContent = explain(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    ...fields,
    error,
    h("div", { class: "form-buttons" }, button),
    status,
  );
  return { form, status, error };
}

/** Copies `text`; false when the clipboard is not available (insecure origin, no permission). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Offers `text` as a file download named `name`. */
export function downloadText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A secret shown this once: a read-only field (selected on focus, so that it can be copied by hand
 * too) with a Copy button and a warning that it will not be shown again.
 */
export function secretOnce(id: string, label: string, value: string, note: string): HTMLElement {
  const input = h("input", {
    id,
    value,
    readonly: true,
    class: "secret",
    spellcheck: "false",
    onfocus: () => input.select(),
  });
  const said = h("span", { class: "muted", role: "status" });
  return h(
    "div",
    { class: "once" },
    h("label", { for: id }, label),
    h(
      "div",
      { class: "secret-line" },
      input,
      h(
        "button",
        {
          type: "button",
          "aria-label": `Copy ${label.toLowerCase()}`,
          onclick: async () => {
            said.textContent = (await copyText(value)) ? "Copied." : "Select the text and copy it by hand.";
            if (said.textContent !== "Copied.") input.select();
          },
        },
        "Copy",
      ),
    ),
    h("p", { class: "muted small" }, note, " ", said),
  );
}

/** Replaces `el`'s children with a line saying `err`, as the server put it. */
export function showError(el: Element, err: unknown): void {
  mount(el, h("p", { class: "error", role: "alert" }, explain(err)));
}

/**
 * Paging by the server's opaque tokens for a list outside the drive: `load` fetches a page, `show` draws
 * it with the pager (null when everything fits on one page). Going back needs the tokens seen before;
 * an answer overtaken by a newer request is dropped.
 */
export function tokenPager<R extends { nextPageToken: string }>(
  load: (token: string) => Promise<R>,
  show: (page: R, pager: Child) => void,
  fail: (err: unknown) => void,
  labels = { previous: "← Previous", next: "Next →" },
): { first: () => void; again: () => void } {
  let previous: string[] = [];
  let token = "";
  let latest = 0;
  const go = (to: string, before: string[]) => {
    token = to;
    previous = before;
    again();
  };
  const bar = (next: string): Child =>
    !next && previous.length === 0
      ? null
      : h(
          "div",
          { class: "pager" },
          h(
            "button",
            {
              type: "button",
              disabled: previous.length === 0,
              onclick: () => go(previous[previous.length - 1] ?? "", previous.slice(0, -1)),
            },
            labels.previous,
          ),
          h("span", { class: "muted" }, `Page ${previous.length + 1}`),
          h(
            "button",
            { type: "button", disabled: !next, onclick: () => go(next, [...previous, token]) },
            labels.next,
          ),
        );
  const again = () => {
    const mine = ++latest;
    load(token).then(
      (page) => mine === latest && show(page, bar(page.nextPageToken)),
      (err) => mine === latest && fail(err),
    );
  };
  return { first: () => go("", []), again };
}

/** A list as a table: its accessible name, the column headings ("" names an actions column for screen readers only), the rows. */
export function listTable(
  label: string,
  headings: string[],
  rows: Child,
  className = "list",
): HTMLTableElement {
  return h(
    "table",
    { class: className, "aria-label": label },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        headings.map((t) => h("th", null, t || h("span", { class: "visually-hidden" }, "Actions"))),
      ),
    ),
    h("tbody", null, rows),
  );
}
