// The account page's sign-in sessions (one per refresh-token family): where and when each was used,
// this device marked, revoke one, or sign out everywhere else.
import type { Session } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { account } from "./api.ts";
import { confirmAction } from "./dialogs.ts";
import { h, mount } from "./dom.ts";
import { date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { listTable, section, showError } from "./page-parts.ts";
import { describeAgent } from "./user-agent.ts";

export function sessionsSection(say: Notices): { el: HTMLElement; reload: () => void } {
  const body = h("div", { class: "table-wrap" }, h("p", { class: "muted" }, "Loading…"));
  const others = h(
    "button",
    {
      type: "button",
      id: "signout-others",
      onclick: async () => {
        if (
          !(await confirmAction(
            "Sign out everywhere else",
            "Every other device will have to sign in again.",
            "Sign out",
          ))
        )
          return;
        try {
          const r = await account.signOutEverywhere({ keepCurrent: true });
          say.say(
            `Signed out ${r.sessionsRevoked} other ${r.sessionsRevoked === 1 ? "session" : "sessions"}`,
          );
          reload();
        } catch (err) {
          say.fail(err);
        }
      },
    },
    "Sign out everywhere else",
  );
  const revoke = async (s: Session, device: string) => {
    if (
      !(await confirmAction("Revoke session", `Sign out ${device}? It will have to sign in again.`, "Revoke"))
    )
      return;
    try {
      await account.revokeSession({ sessionId: s.id });
      say.say(`Signed out ${device}`);
      reload();
    } catch (err) {
      say.fail(err);
    }
  };
  const row = (s: Session) => {
    const device = describeAgent(s.userAgent);
    return h(
      "tr",
      { class: s.current ? "session current" : "session" },
      h(
        "td",
        { title: s.userAgent || undefined },
        device,
        s.current && h("span", { class: "tag" }, "This device"),
      ),
      h("td", { class: "date" }, date(s.createdAt)),
      h("td", { class: "date" }, date(s.lastUsedAt)),
      h("td", null, s.clientAddress || "—"),
      h(
        "td",
        { class: "buttons" },
        !s.current &&
          h(
            "button",
            {
              type: "button",
              "aria-label": `Revoke ${device}, last used ${date(s.lastUsedAt)}`,
              onclick: () => void revoke(s, device),
            },
            "Revoke",
          ),
      ),
    );
  };
  const reload = () => {
    account
      .listSessions({})
      .then(({ sessions }) => {
        others.disabled = !sessions.some((s) => !s.current);
        mount(
          body,
          listTable("Sessions", ["Device", "Signed in", "Last used", "Address", ""], sessions.map(row)),
        );
      })
      .catch((err) => showError(body, err));
  };
  reload();
  const el = section(
    "sessions",
    "Where you are signed in",
    body,
    h("div", { class: "form-buttons" }, others),
  );
  return { el, reload };
}
