// What the user is told, in toasts that go away by themselves: a confirmation (5 s, announced politely)
// or an error (10 s, announced at once, with a close button). Each replaces the other, so that an old
// error never sits next to a newer success.

import { explain } from "./api.ts";
import { h, mount } from "./dom.ts";

export interface Notices {
  say(message: string): void;
  /** Shows an error; `about` names what it concerns ("photo.jpg", "3 items"). */
  fail(err: unknown, about?: string): void;
}

export function notices(toast: HTMLElement, alert: HTMLElement): Notices {
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  let alertTimer: ReturnType<typeof setTimeout> | undefined;
  const clearAlert = () => {
    clearTimeout(alertTimer);
    alert.replaceChildren();
  };
  return {
    say(message) {
      clearAlert();
      toast.textContent = message;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => {
        toast.textContent = "";
      }, 5000);
    },
    fail(err, about) {
      clearTimeout(toastTimer);
      toast.textContent = "";
      mount(
        alert,
        h("span", { class: "message" }, about ? `${about}: ${explain(err)}` : explain(err)),
        h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: clearAlert }, "×"),
      );
      clearTimeout(alertTimer);
      alertTimer = setTimeout(clearAlert, 10_000);
    },
  };
}
