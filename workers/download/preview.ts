// Previews: which files a browser may show inline, and as what. Every answer keeps the sandboxing CSP and
// nosniff (download.ts), so even an inline answer is never a page of this origin; on top of that, kinds a
// browser would execute (HTML, XML, scripts) are only ever sent as text/plain, and everything not named
// here stays an attachment.
import { contentDisposition } from "./http.ts";

/** How the caller asked to see a file: `?inline=1` (its previewable type) or `?inline=text` (as text). */
export type PreviewMode = "inline" | "text";

const TEXT = "text/plain; charset=utf-8";

/** Media a browser renders without running anything from the file (SVG: scripts are sandboxed off). */
const MEDIA: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  wav: "audio/wav",
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
  mov: "video/quicktime",
  mkv: "video/x-matroska",
};

/** Text and code, always previewed as text/plain (HTML and XML included: their source, never a page). */
const TEXT_KINDS = new Set(
  (
    "txt text md markdown csv tsv log ini conf cfg toml yaml yml json jsonc xml html htm xhtml css scss less " +
    "js mjs cjs ts tsx jsx py rb go rs java kt kts c h cc cpp hpp cs php sh bash zsh fish ps1 bat sql swift " +
    "lua pl r scala dart vue svelte diff patch srt vtt tex gradle properties env dockerfile makefile"
  ).split(" "),
);

const extensionOf = (name: string) => {
  const dot = name.lastIndexOf(".");
  return (dot < 0 ? name : name.slice(dot + 1)).toLowerCase();
};

/**
 * The Content-Type of an inline answer for a file name, or undefined when the file stays an attachment.
 * `text` asks for any file's bytes as text/plain (the viewer's "show source": SVG, HTML, unknown names).
 */
export function previewTypeFor(name: string, mode: PreviewMode): string | undefined {
  if (mode === "text") return TEXT;
  const ext = extensionOf(name);
  return MEDIA[ext] ?? (TEXT_KINDS.has(ext) ? TEXT : undefined);
}

/**
 * Kinds that could carry script if a browser opened them as a document (SVG). A shared file's download
 * URL never answers them inline, even for a preview: an <img> shows them all the same (it ignores the
 * disposition), while opening the URL itself only saves the file (DESIGN "Sharing").
 */
export const attachmentOnlyWhenShared = (name: string) => /^svgz?$/.test(extensionOf(name));

/** `inline` with the same filename parameters as the attachment form (Save As keeps the name). */
export const inlineDisposition = (name: string) => contentDisposition(name).replace(/^attachment/, "inline");

/**
 * The preview mode a URL asks for (`inline=1|true` or `inline=text`), without parsing URLs that have no
 * `inline=` at all: this runs on every range request.
 */
export function previewModeOf(url: string): PreviewMode | undefined {
  const q = url.indexOf("?");
  if (q < 0 || !url.includes("inline=", q)) return undefined;
  const v = new URLSearchParams(url.slice(q + 1)).get("inline");
  if (v === "text") return "text";
  return v === "1" || v === "true" ? "inline" : undefined;
}
