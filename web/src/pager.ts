// Previous / next page of a list. The server pages by opaque tokens, so going back needs the tokens of
// the pages already seen (ListState.previous).
import { type Child, h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";

export function pager(drive: DriveState, next: string): Child {
  const { list } = drive;
  if (!next && list.previous.length === 0) return null;
  const go = (token: string, previous: string[]) => {
    list.token = token;
    list.previous = previous;
    // The buttons are redrawn away: focus the list's landmark so that the keyboard user stays in it.
    void drive.load().then(() => drive.el.main.focus());
  };
  return h(
    "div",
    { class: "pager" },
    h(
      "button",
      {
        type: "button",
        disabled: list.previous.length === 0,
        onclick: () => go(list.previous[list.previous.length - 1] ?? "", list.previous.slice(0, -1)),
      },
      "← Previous",
    ),
    h("span", { class: "muted" }, `Page ${list.previous.length + 1}`),
    h(
      "button",
      { type: "button", disabled: !next, onclick: () => go(next, [...list.previous, list.token]) },
      "Next →",
    ),
  );
}
