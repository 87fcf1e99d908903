// The browser app's entry: shows the sign-in screen or the drive, and switches when the session changes
// (sign in, sign out, a refresh token that stopped working, another tab signing out).
import { auth, type Session } from "./api.ts";
import { authView } from "./auth-view.ts";
import { driveView } from "./drive.ts";

const root = document.getElementById("app") as HTMLElement;
let leave: (() => void) | undefined;
let shownFor: string | undefined;

function show(session: Session | undefined, why?: string) {
  if (session && shownFor === session.userId) return;
  leave?.();
  leave = undefined;
  shownFor = session?.userId;
  if (session) {
    leave = driveView(root, session);
  } else {
    const view = new URLSearchParams(location.search).get("view");
    authView(root, { mode: view === "signup" ? "signup" : "signin", notice: why });
  }
  root.removeAttribute("aria-busy");
}

auth.onChange(show);
show(auth.current());
