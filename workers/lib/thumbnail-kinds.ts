// What gets thumbnails, shared by the worker that makes them (file) and the one that serves them
// (download): the sizes, as DerivedService kinds, and which file names are images or videos.

/** The sizes made: the bounding box in px, and its DerivedService kind. */
export const THUMBNAIL_SIZES = [
  { kind: "thumb-256", px: 256 },
  { kind: "thumb-1024", px: 1024 },
] as const;

const IMAGE = new Set(["jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "tif", "tiff", "svg"]);
const VIDEO = new Set(["mp4", "m4v", "mov", "webm", "mkv", "avi", "ogv", "mpg", "mpeg", "wmv", "3gp"]);

export type SourceKind = "image" | "video";

/** What kind of source a file name says its content is, or undefined: no thumbnail for it. */
export function sourceKindOf(name: string): SourceKind | undefined {
  const dot = name.lastIndexOf(".");
  const ext = dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  return IMAGE.has(ext) ? "image" : VIDEO.has(ext) ? "video" : undefined;
}

/** The ffmpeg binary for video frames: THUMBNAIL_FFMPEG (a name or path; "off": none), else ffmpeg on PATH. */
export function ffmpegFrom(env: Record<string, string | undefined>): string | undefined {
  if (env.THUMBNAIL_FFMPEG === "off") return undefined;
  return Bun.which(env.THUMBNAIL_FFMPEG || "ffmpeg") ?? undefined;
}
