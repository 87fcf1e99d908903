// The admin page's invite codes (for SIGNUP=invite): create one valid for a while with a note saying
// whom it is for (the code, and a signup link carrying it, shown this once), list them, revoke unused
// ones.
import type { Invite } from "../../proto/gen/filestore/admin/v1/admin_pb.ts";
import { admin } from "./api.ts";
import { confirmAction } from "./dialogs.ts";
import { h, mount } from "./dom.ts";
import { date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { actionForm, field, listTable, secretOnce, section, showError } from "./page-parts.ts";

const HOUR = 3600;
const TTLS: [number, string][] = [
  [HOUR, "1 hour"],
  [24 * HOUR, "1 day"],
  [7 * 24 * HOUR, "7 days"],
  [30 * 24 * HOUR, "30 days"],
  [90 * 24 * HOUR, "90 days"],
];

const isLive = (i: Invite, now: number) =>
  !i.usedByUsername && (!i.expiresAt || Number(i.expiresAt.seconds) * 1000 > now);

export function invitesSection(say: Notices, changed: () => void): HTMLElement {
  const list = h("div", { class: "table-wrap" });
  const created = h("div");
  const ttl = h(
    "select",
    { id: "invite-ttl" },
    TTLS.map(([s, label]) => h("option", { value: String(s), selected: s === 7 * 24 * HOUR }, label)),
  );
  const [noteLabel, note] = field("invite-note", "Note (whom it is for)", { maxlength: 200 });
  const all = h("input", { type: "checkbox", id: "invites-all", onchange: () => reload() });
  const { form } = actionForm(
    {
      label: "Create an invite",
      submit: "Create invite",
      run: async () => {
        const r = await admin.createInvite({ ttlSeconds: BigInt(ttl.value), note: note.value.trim() });
        const link = `${location.origin}/?view=signup&invite=${encodeURIComponent(r.code)}`;
        mount(
          created,
          secretOnce("new-invite-code", "Invite code", r.code, "It works once; it is not shown again."),
          secretOnce("new-invite-link", "Signup link", link, "The same code, as a link that fills it in."),
        );
        form.reset();
        reload();
        changed();
        return undefined;
      },
    },
    h("label", { for: "invite-ttl" }, "Valid for"),
    ttl,
    noteLabel,
    note,
  );
  const revoke = async (i: Invite) => {
    if (
      !(await confirmAction(
        "Revoke invite",
        `The code ${i.note ? `for “${i.note}” ` : ""}stops working.`,
        "Revoke",
      ))
    )
      return;
    try {
      await admin.revokeInvite({ id: i.id });
      say.say("Invite revoked");
      reload();
      changed();
    } catch (err) {
      say.fail(err);
    }
  };
  const row = (i: Invite, now: number) =>
    h(
      "tr",
      { class: "invite" },
      h("td", null, i.note || h("span", { class: "muted" }, "(no note)")),
      h("td", { class: "date" }, date(i.createdAt)),
      h("td", { class: "date" }, date(i.expiresAt)),
      h("td", null, i.createdBy),
      h(
        "td",
        null,
        i.usedByUsername ? `${i.usedByUsername}, ${date(i.usedAt)}` : isLive(i, now) ? "Unused" : "Expired",
      ),
      h(
        "td",
        { class: "buttons" },
        isLive(i, now) &&
          h(
            "button",
            {
              type: "button",
              "aria-label": `Revoke invite ${i.note || i.id}`,
              onclick: () => void revoke(i),
            },
            "Revoke",
          ),
      ),
    );
  const reload = () => {
    admin
      .listInvites({ includeInactive: all.checked })
      .then(({ invites }) => {
        const now = Date.now();
        mount(
          list,
          invites.length === 0
            ? h("p", { class: "muted" }, "No invites.")
            : listTable(
                "Invites",
                ["Note", "Created", "Expires", "By", "Used", ""],
                invites.map((i) => row(i, now)),
              ),
        );
      })
      .catch((err) => showError(list, err));
  };
  reload();
  return section(
    "invites",
    "Invite codes",
    h(
      "p",
      { class: "muted" },
      "When signup needs an invite (SIGNUP=invite), each code lets one person sign up.",
    ),
    form,
    created,
    h("label", { class: "check-line" }, all, "Show used and expired invites"),
    list,
  );
}
