// What kind of thing an entry is, for search filters: folders, and files by their name's extension.
export type Category = "folder" | "image" | "video" | "audio" | "document" | "archive";

export const EXTENSIONS: Record<Exclude<Category, "folder">, readonly string[]> = {
  image: [
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "avif",
    "svg",
    "bmp",
    "tif",
    "tiff",
    "heic",
    "heif",
    "ico",
    "raw",
  ],
  video: ["mp4", "mkv", "mov", "avi", "webm", "m4v", "wmv", "flv", "mpg", "mpeg", "3gp", "ts"],
  audio: ["mp3", "flac", "wav", "ogg", "oga", "opus", "m4a", "aac", "wma", "aiff", "mid", "midi"],
  document: [
    "pdf",
    "txt",
    "md",
    "rtf",
    "doc",
    "docx",
    "odt",
    "xls",
    "xlsx",
    "ods",
    "csv",
    "ppt",
    "pptx",
    "odp",
    "epub",
    "html",
    "htm",
    "json",
    "xml",
    "tex",
  ],
  archive: ["zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst", "iso", "dmg"],
};

export const CATEGORIES: readonly Category[] = ["folder", "image", "video", "audio", "document", "archive"];
