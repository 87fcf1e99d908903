// Modal dialogs on <dialog>: focus moves in, Escape closes, focus returns to where it was.
import { FileKind } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { explain, files } from "./api.ts";
import { type Child, h, mount } from "./dom.ts";
import { rememberFocus } from "./focus-return.ts";

let nested = 0;

/** Shows a modal dialog; resolves with what `close` was given, undefined when dismissed (Escape). */
export function modal<T>(
  title: string,
  body: (close: (v: T | undefined) => void) => Child,
  opts: { wide?: boolean; className?: string } = {},
): Promise<T | undefined> {
  const giveFocusBack = rememberFocus();
  // A dialog opened from another one (a confirmation) needs a title id of its own.
  const titleId = document.getElementById("dialog-title") ? `dialog-title-${++nested}` : "dialog-title";
  return new Promise((resolve) => {
    let result: T | undefined;
    const dialog = h("dialog", {
      class: [opts.wide && "wide", opts.className].filter(Boolean).join(" ") || undefined,
      "aria-labelledby": titleId,
    });
    // The focus goes back as the dialog closes, before the next key: a key pressed right after Escape
    // (Delete on the row) must reach the row, also when the list was redrawn meanwhile (focus-return.ts),
    // which the browser's own return of the focus (to the replaced control) does not do.
    const close = (v: T | undefined) => {
      result = v;
      dialog.close();
      giveFocusBack();
    };
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(undefined);
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      giveFocusBack();
      resolve(result);
    });
    mount(dialog, h("h2", { id: titleId, class: "dialog-title" }, title), body(close));
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** Asks for a name; undefined when dismissed. */
export function askName(
  title: string,
  label: string,
  value = "",
  action = "Save",
): Promise<string | undefined> {
  return modal<string>(title, (close) => {
    const input = h("input", {
      id: "dialog-input",
      value,
      required: true,
      maxlength: 255,
      autocomplete: "off",
    });
    queueMicrotask(() => {
      input.focus();
      // Select the name without its extension, the part people usually change.
      const dot = value.lastIndexOf(".");
      input.setSelectionRange(0, dot > 0 ? dot : value.length);
    });
    return h(
      "form",
      {
        method: "dialog",
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (input.value.trim()) close(input.value);
        },
      },
      h("label", { for: "dialog-input" }, label),
      input,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", onclick: () => close(undefined) }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, action),
      ),
    );
  });
}

export function confirmAction(title: string, message: string, action: string): Promise<boolean> {
  return modal<boolean>(title, (close) => [
    h("p", null, message),
    h(
      "div",
      { class: "dialog-buttons" },
      h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: () => close(true), autofocus: true }, action),
    ),
  ]).then((v) => v === true);
}

/** Shows a link to copy by hand (when the clipboard is not available). */
export function showLink(url: string): Promise<void> {
  return modal<void>("Download link", (close) => {
    const input = h("input", { id: "dialog-input", value: url, readonly: true, "aria-label": "Link" });
    queueMicrotask(() => input.select());
    return [
      h("p", null, "Copy this link. Anyone who has it can download the file until it expires."),
      input,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "primary", onclick: () => close() }, "Done"),
      ),
    ];
  }).then(() => undefined);
}

/**
 * Lets the user browse folders and pick one; "" is the top level; undefined when dismissed. `skip`: folders
 * not offered (the ones being moved); `action`: the button's label.
 */
export function pickFolder(
  title: string,
  skip: ReadonlySet<string>,
  action = "Move here",
): Promise<string | undefined> {
  return modal<string>(
    title,
    (close) => {
      const list = h("ul", { class: "folders", "aria-label": "Folders" });
      const where = h("p", { class: "where" });
      const trail: { id: string; name: string }[] = [{ id: "", name: "My files" }];
      const show = async () => {
        const here = trail[trail.length - 1] as { id: string; name: string };
        where.textContent = trail.map((t) => t.name).join(" / ");
        mount(list, h("li", null, "Loading…"));
        try {
          const folders = [];
          for (let pageToken = ""; ; ) {
            const page = await files.listFiles({ parentId: here.id, pageSize: 500, pageToken });
            folders.push(...page.files.filter((f) => f.kind === FileKind.FOLDER && !skip.has(f.id)));
            if (!page.nextPageToken) break;
            pageToken = page.nextPageToken;
          }
          /** A list item that goes to another folder of the trail. */
          const go = (move: () => void, ...label: (Node | string)[]) =>
            h(
              "li",
              null,
              h(
                "button",
                {
                  type: "button",
                  class: "link",
                  onclick: () => {
                    move();
                    void show();
                  },
                },
                ...label,
              ),
            );
          mount(
            list,
            trail.length > 1 && go(() => trail.pop(), "↑ Up"),
            folders.map((f) =>
              go(
                () => trail.push({ id: f.id, name: f.name }),
                h("span", { class: "icon folder", "aria-hidden": "true" }),
                f.name,
              ),
            ),
            folders.length === 0 && h("li", { class: "muted" }, "No folders here."),
          );
        } catch (err) {
          mount(list, h("li", { class: "error", role: "alert" }, explain(err)));
        }
      };
      void show();
      return [
        where,
        list,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", onclick: () => close(undefined) }, "Cancel"),
          h(
            "button",
            { type: "button", class: "primary", onclick: () => close(trail[trail.length - 1]?.id ?? "") },
            action,
          ),
        ),
      ];
    },
    { wide: true },
  );
}
