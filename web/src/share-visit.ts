// An opened share link as its pages keep it, where a share page's URL points, and the page's heading
// (who shares what, its size and expiry).
import { ItemKind, type OpenShareResponse } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { h } from "./dom.ts";
import { bytes, date } from "./format.ts";

/** The link's id and the folder inside it a URL names ("" : the shared item itself). */
export function shareRouteOf(path: string): { id: string; folderId: string } | undefined {
  const m = /^\/s\/([A-Za-z0-9_-]{16,64})(?:\/f\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  let folderId = "";
  try {
    folderId = decodeURIComponent(m[2] ?? "");
  } catch {
    folderId = "";
  }
  return { id: m[1] as string, folderId };
}

/** An opened link, as the page keeps it. */
export interface OpenedShare {
  id: string;
  token: string;
  info: OpenShareResponse;
}

/** What is shared, by whom, until when. */
export function shareSummary(s: OpenedShare): HTMLElement {
  const i = s.info;
  const item = i.item;
  const facts = [
    `Shared by ${i.ownerDisplayName}`,
    item && item.kind === ItemKind.FILE && bytes(Number(item.size)),
    i.expiresAt ? `Expires ${date(i.expiresAt)}` : "No expiry",
    i.maxDownloads > 0n && `${i.downloadsLeft} of ${i.maxDownloads} downloads left`,
  ].filter(Boolean) as string[];
  return h(
    "div",
    { class: "share-head" },
    h("h1", { id: "share-title" }, item?.name ?? "Shared item"),
    h("p", { class: "muted", id: "share-facts" }, facts.join(" · ")),
  );
}
