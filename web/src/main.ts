// The browser app's entry: shows the sign-in screen, or for a signed-in user the page the URL's hash
// names (#/account, #/admin, #/shares, anything else the drive), and switches when the session or the
// hash changes (sign in, sign out, a refresh token that stopped working, another tab signing out). A
// share link (/s/<id>) gets its public page instead (share-page.ts).
import { accountView } from "./account-view.ts";
import { adminView } from "./admin-view.ts";
import { auth, type Session } from "./api.ts";
import { authView } from "./auth-view.ts";
import { driveView } from "./drive.ts";
import { sharePage } from "./share-page.ts";
import { sharesView } from "./shares-view.ts";

const root = document.getElementById("app") as HTMLElement;
/** Leaves the page on screen; `signingOut`: no one is signed in any more (the drive pauses uploads). */
let leave: ((signingOut: boolean) => void) | undefined;
let shownFor: string | undefined;

const pages = { drive: driveView, account: accountView, admin: adminView, shares: sharesView };
type PageName = keyof typeof pages;

function pageOfHash(): PageName {
  const hash = location.hash.replace(/^#\/?/, "");
  return hash === "account" || hash === "admin" || hash === "shares" ? hash : "drive";
}

function show(session: Session | undefined, why?: string) {
  // Signed out: "". The sign-in screen is drawn again only to say why (a late failing request of the
  // page just left must not wipe what the user is typing).
  const key = session ? `${session.userId} ${pageOfHash()}` : "";
  if (shownFor === key && (session || !why)) return;
  leave?.(!session || session.userId !== shownFor?.split(" ")[0]);
  leave = undefined;
  shownFor = key;
  if (session) {
    // A signup link's ?view=signup&invite=… has served: signing out later shows the sign-in screen.
    if (location.search) history.replaceState(null, "", location.pathname + location.hash);
    leave = pages[pageOfHash()](root, session);
  } else {
    const params = new URLSearchParams(location.search);
    authView(root, {
      mode: params.get("view") === "signup" ? "signup" : "signin",
      notice: why,
      invite: params.get("invite") ?? undefined,
    });
  }
  root.removeAttribute("aria-busy");
}

if (location.pathname.startsWith("/s/")) {
  // A share link's public page (no login; a signed-in visitor may save to their drive).
  sharePage(root);
} else {
  auth.onChange(show);
  // Registered before any page's own listener, so that leaving a page also drops its listener before
  // that one would run.
  addEventListener("hashchange", () => show(auth.current()));
  show(auth.current());
}
