// What the user is told: a confirmation in the toast (gone after 5 s, announced politely) or an error in
// the alert (kept until the next message, announced at once). Each replaces the other so that an old
// error never sits next to a newer success.
import { explain } from "./api.ts";

export interface Notices {
  say(message: string): void;
  fail(err: unknown): void;
}

export function notices(toast: HTMLElement, alert: HTMLElement): Notices {
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  return {
    say(message) {
      alert.textContent = "";
      toast.textContent = message;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => {
        toast.textContent = "";
      }, 5000);
    },
    fail(err) {
      toast.textContent = "";
      alert.textContent = explain(err);
    },
  };
}
