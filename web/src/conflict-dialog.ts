// The conflict dialog (conflicts.ts says what the answers mean): "Keep both", "Replace" (files only),
// "Skip", and "Apply to all" when more conflicts may follow in the batch.

import type { Choice, Conflict } from "./conflicts.ts";
import { modal } from "./dialogs.ts";
import { h } from "./dom.ts";

/** Asks once; Escape (or closing the dialog) skips. */
export async function askConflict(c: Conflict): Promise<{ choice: Choice; all: boolean }> {
  const all = h("input", { type: "checkbox", id: "conflict-all" });
  const answer = await modal<Choice>(
    "This name is taken",
    (close) => {
      const b = (label: string, choice: Choice, props: Record<string, string | boolean> = {}) =>
        h("button", { type: "button", "data-choice": choice, onclick: () => close(choice), ...props }, label);
      return [
        h(
          "p",
          { class: "conflict-name" },
          "An entry named ",
          h("strong", null, c.name),
          " already exists there.",
        ),
        h(
          "p",
          { class: "muted" },
          c.canReplace
            ? "Keep both (the new one gets a number), replace it (the current file stays as a version), or skip this one."
            : "Folders cannot be replaced: keep both (the new one gets a number) or skip this one.",
        ),
        c.more && h("label", { class: "check-line" }, all, " Apply to all"),
        h(
          "div",
          { class: "dialog-buttons" },
          b("Skip", "skip"),
          b("Keep both", "rename", { class: c.canReplace ? "" : "primary", autofocus: true }),
          c.canReplace && b("Replace", "replace", { class: "primary" }),
        ),
      ];
    },
    { className: "conflict" },
  );
  return { choice: answer ?? "skip", all: answer !== undefined && all.checked };
}
