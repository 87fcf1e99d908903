// Thumbnails of the page's images and videos. After each load one GetThumbnails call asks for the files
// not known yet (the server decides which get thumbnails); the signed URLs are kept by content (sha256)
// until shortly before they expire, so redraws and other files of the same content reuse them (and the
// browser's cache with them). Thumbnails are made in the background after an upload: files still
// PENDING are asked for again a few times, and their pictures swap in where the icons were.
import { Code } from "@connectrpc/connect";
import { ThumbnailSize, ThumbnailState } from "../../proto/gen/filestore/download/v1/download_pb.ts";
import type { File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { codeOf, downloads } from "./api.ts";
import { h } from "./dom.ts";
import type { DriveState } from "./drive-state.ts";
import { isFolder, viewKind } from "./file-kinds.ts";

/** Pauses before asking again for thumbnails still being made (about a minute in all). */
const RETRY_MS = [1500, 3000, 6000, 12_000, 30_000];
/** A URL is dropped this long before it expires, so that an <img> never gets one that just did. */
const EXPIRY_MARGIN_MS = 60_000;
/** Kept URLs beyond which the expired ones are swept. */
const SWEEP_AT = 2000;

/** Signed URLs by content, with the time they stop being used. */
const ready = new Map<string, { url: string; until: number }>();
/** Files (id and content) the server said will never get one: not asked for again. */
const never = new Set<string>();
/** The server has no thumbnails at all (an older one): icons only. */
let unavailable = false;

const noneKey = (f: StoredFile) => `${f.id}/${f.sha256}`;

/** The URL of the file's thumbnail (256 px) when one is known, or undefined to show its kind's icon. */
export function thumbnailFor(f: StoredFile): string | undefined {
  if (isFolder(f) || !f.sha256) return undefined;
  const t = ready.get(f.sha256);
  return t && t.until > Date.now() ? t.url : undefined;
}

/**
 * The entry's picture in a table row or a grid tile: its thumbnail as an <img> (back to the icon if the
 * image fails to load) or its kind's icon.
 */
export function pictureOf(f: StoredFile, where: "row" | "tile"): HTMLElement {
  const icon = () =>
    h("span", { class: `${where === "tile" ? "tile-icon " : ""}icon ${viewKind(f)}`, "aria-hidden": "true" });
  const url = thumbnailFor(f);
  if (!url) return icon();
  // Not draggable itself: dragging the picture drags its entry (drag-move.ts).
  const img = h("img", {
    class: `thumb ${where}-thumb`,
    src: url,
    alt: "",
    decoding: "async",
    loading: "lazy",
    draggable: "false",
  });
  img.addEventListener(
    "error",
    () => {
      // Gone since (content purged) or expired early: forget it and show the icon.
      ready.delete(f.sha256);
      img.replaceWith(icon());
    },
    { once: true },
  );
  return img;
}

/**
 * Asks for the thumbnails of the files on screen that have none known yet, paints the ones that are
 * ready in place, and asks again later while some are still being made (until a newer load takes over).
 */
export async function loadThumbnails(drive: DriveState, ticket = drive.loading, attempt = 0): Promise<void> {
  const wanted = drive.entries.filter(
    (f) => !isFolder(f) && f.sha256 && !thumbnailFor(f) && !never.has(noneKey(f)),
  );
  if (unavailable || wanted.length === 0) return;
  let answer: Awaited<ReturnType<typeof downloads.getThumbnails>>;
  try {
    answer = await downloads.getThumbnails({ fileIds: wanted.map((f) => f.id), size: ThumbnailSize.SMALL });
  } catch (err) {
    // Pictures are a nicety: the icons stay, and the next load asks again (unless there are none at all).
    if (codeOf(err) === Code.Unimplemented) unavailable = true;
    return;
  }
  const byId = new Map(wanted.map((f) => [f.id, f]));
  let pending = false;
  for (const t of answer.thumbnails) {
    const f = byId.get(t.fileId);
    if (!f) continue;
    if (t.state === ThumbnailState.READY && t.url) remember(f.sha256, t.url);
    else if (t.state === ThumbnailState.PENDING) pending = true;
    else never.add(noneKey(f));
  }
  paintThumbnails(drive);
  const pause = RETRY_MS[attempt];
  if (pending && pause !== undefined)
    setTimeout(() => {
      if (ticket === drive.loading) void loadThumbnails(drive, ticket, attempt + 1);
    }, pause);
}

function remember(sha256: string, url: string): void {
  const absolute = new URL(url, location.origin);
  const exp = Number(absolute.searchParams.get("exp"));
  // The server rounds expiries up to a period (an hour by default); without one, a few minutes is safe.
  const until = exp > 0 ? exp * 1000 - EXPIRY_MARGIN_MS : Date.now() + 5 * 60_000;
  if (ready.size >= SWEEP_AT) for (const [k, v] of ready) if (v.until <= Date.now()) ready.delete(k);
  ready.set(sha256, { url: absolute.href, until });
}

/** Swaps the icons of the entries on screen whose thumbnails are now known for the pictures. */
function paintThumbnails(drive: DriveState): void {
  for (const el of drive.el.content.querySelectorAll<HTMLElement>(".entry[data-id]")) {
    const f = drive.entries[Number(el.dataset.index)];
    if (!f || f.id !== el.dataset.id || !thumbnailFor(f)) continue;
    const icon = el.querySelector(".picture > .tile-icon, .open > .icon");
    if (icon) icon.replaceWith(pictureOf(f, icon.classList.contains("tile-icon") ? "tile" : "row"));
  }
}
