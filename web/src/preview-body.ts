// What a preview shows for a file, given a URL that answers it inline (the drive's viewer and the public
// share page): images (SVG too) only ever in <img>, where SVG cannot script; text fetched (its first MiB,
// with Range) and set as a text node, never parsed as HTML; PDF in the browser's viewer in a frame; audio
// and video in their elements, which fetch ranges themselves.
import { type Child, h } from "./dom.ts";
import type { ViewKind } from "./file-kinds.ts";
import { bytes } from "./format.ts";

/** How much of a text file is shown. */
export const TEXT_PREVIEW_BYTES = 1024 * 1024;

/** The preview of a previewable kind (not "other" or "folder"). */
export function previewBody(
  kind: Exclude<ViewKind, "other" | "folder">,
  url: string,
  name: string,
  size: number,
): Child | Promise<Child> {
  switch (kind) {
    case "image":
      return h("img", { class: "viewer-image", src: url, alt: name });
    case "video":
      return h("video", { class: "viewer-media", src: url, controls: true, preload: "metadata" });
    case "audio":
      return h("audio", { class: "viewer-audio", src: url, controls: true, preload: "metadata" });
    case "pdf":
      return h("iframe", { class: "viewer-frame", src: url, title: name });
    case "text":
      return textOf(url, size);
  }
}

/** The file's first MiB as text: a text node in a <pre>, whatever the file's type says (HTML too). */
async function textOf(url: string, size: number): Promise<Child> {
  const res = await fetch(url, { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } });
  if (!res.ok) throw new Error(`The server answered ${res.status}.`);
  const data = new Uint8Array(await res.arrayBuffer()).subarray(0, TEXT_PREVIEW_BYTES);
  const text = new TextDecoder("utf-8").decode(data);
  return [
    size > TEXT_PREVIEW_BYTES &&
      h("p", { class: "muted" }, `Showing the first ${bytes(TEXT_PREVIEW_BYTES)} of ${bytes(size)}.`),
    h("pre", { class: "viewer-text", tabindex: 0 }, text),
  ];
}
