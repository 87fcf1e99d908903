// The owner's share links as table rows (the share dialog's list for one item, and the "My shares" page):
// the link to copy, its options and counts, Edit (share-options.ts) and Revoke.
import { type Share, ShareMode } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { shares } from "./api.ts";
import { confirmAction, modal } from "./dialogs.ts";
import { type Child, h } from "./dom.ts";
import { date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { copyText } from "./page-parts.ts";
import { shareOptionFields } from "./share-options.ts";

/** The full URL of a link. */
export const shareUrl = (s: Share) => `${location.origin}${s.path || `/s/${s.id}`}`;

/** What a link allows, in a few words. */
export function shareTerms(s: Share): string {
  return [
    s.mode === ShareMode.DROP ? "Upload only" : "View",
    s.hasPassword && "password",
    s.expiresAt ? `expires ${date(s.expiresAt)}` : "no expiry",
  ]
    .filter(Boolean)
    .join(", ");
}

export const downloadsOf = (s: Share) =>
  s.maxDownloads > 0n ? `${s.downloadCount} of ${s.maxDownloads}` : String(s.downloadCount);

export async function copyShareLink(say: Notices, s: Share): Promise<void> {
  if (await copyText(shareUrl(s))) say.say(`Copied the link to ${s.targetName}`);
  else
    await modal<void>("Share link", (close) => [
      h("input", { value: shareUrl(s), readonly: true, "aria-label": "Link", id: "share-link-text" }),
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "primary", onclick: () => close() }, "Done"),
      ),
    ]);
}

/** Edits a link's options; true when saved. */
export async function editShare(say: Notices, s: Share): Promise<boolean> {
  const saved = await modal<boolean>(`Edit the link to ${s.targetName}`, (close) => {
    const fields = shareOptionFields({ folder: false, current: s, prefix: "edit-share" });
    return h(
      "form",
      {
        onsubmit: fields.onSubmit(async (o) => {
          try {
            await shares.updateShare({
              id: s.id,
              password: o.password || undefined,
              clearPassword: o.clearPassword && !o.password,
              expiresAt: o.expiresAt,
              clearExpiry: !o.expiresAt,
              maxDownloads: o.maxDownloads,
              maxFileBytes: s.mode === ShareMode.DROP ? o.maxFileBytes : undefined,
            });
            close(true);
          } catch (err) {
            say.fail(err);
          }
        }),
      },
      fields.el,
      fields.error,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Save"),
      ),
    );
  });
  if (saved) say.say(`Saved the link to ${s.targetName}`);
  return saved === true;
}

export async function revokeShare(say: Notices, s: Share): Promise<boolean> {
  const sure = await confirmAction(
    "Revoke link",
    `Revoke the link to ${s.targetName}? Anyone using it is cut off at once.`,
    "Revoke",
  );
  if (!sure) return false;
  await shares.revokeShare({ id: s.id });
  say.say(`Revoked the link to ${s.targetName}`);
  return true;
}

/**
 * One link as a table row (columns: shareHeadings(layout)); `changed` runs after an edit or a revocation.
 * The page shows every count; the dialog, narrower, the link, its terms and downloads.
 */
export function shareRow(
  say: Notices,
  s: Share,
  changed: () => void,
  layout: "page" | "dialog",
): HTMLElement {
  const page = layout === "page";
  const act = (label: string, run: () => Promise<unknown>, danger = false): Child =>
    h(
      "button",
      {
        type: "button",
        class: danger ? "danger" : undefined,
        "aria-label": `${label} the link to ${s.targetName}`,
        onclick: () => void run().then(changed, (err) => say.fail(err)),
      },
      label,
    );
  return h(
    "tr",
    { class: "share-row", "data-share-id": s.id },
    page && h("td", null, s.targetName),
    h(
      "td",
      null,
      h(
        "a",
        { class: "share-link", href: shareUrl(s), target: "_blank", rel: "noopener" },
        s.path || `/s/${s.id}`,
      ),
    ),
    h("td", null, shareTerms(s)),
    page && h("td", null, String(s.viewCount)),
    h("td", null, downloadsOf(s)),
    page && h("td", null, s.lastAccessAt ? date(s.lastAccessAt) : "never"),
    h(
      "td",
      { class: "actions" },
      act("Copy", () => copyShareLink(say, s)),
      act("Edit", () => editShare(say, s)),
      act("Revoke", () => revokeShare(say, s), true),
    ),
  );
}

export const shareHeadings = (layout: "page" | "dialog") =>
  layout === "page"
    ? ["Item", "Link", "Allows", "Views", "Downloads", "Last access", ""]
    : ["Link", "Allows", "Downloads", ""];
