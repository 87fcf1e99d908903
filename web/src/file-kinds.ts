// What a file is, from its name: how the viewer shows it and which icon stands for it. The extension is
// all the UI has (the server types downloads the same way, workers/download/http.ts), and a wrong guess
// only changes the way the file is shown, never what runs: text is shown as text, SVG only as an image.
import { FileKind, type File as StoredFile } from "../../proto/gen/filestore/file/v1/file_pb.ts";

export type ViewKind = "folder" | "image" | "text" | "pdf" | "audio" | "video" | "other";

const byExtension: Record<string, ViewKind> = {};
const kinds: [ViewKind, string][] = [
  ["image", "jpg jpeg png gif webp avif svg"],
  ["pdf", "pdf"],
  ["audio", "mp3 ogg oga wav flac m4a opus"],
  ["video", "mp4 webm m4v ogv mov"],
  [
    "text",
    "txt md markdown csv tsv log json jsonl xml yaml yml toml ini conf cfg env html htm css js mjs cjs ts tsx jsx " +
      "py rb go rs java kt c h cc cpp hpp cs php sh bash zsh fish ps1 sql proto graphql lua pl r swift scala " +
      "dart vue svelte diff patch tex srt vtt gitignore dockerfile makefile",
  ],
];
for (const [kind, list] of kinds) for (const ext of list.split(" ")) byExtension[ext] = kind;

export function viewKind(f: Pick<StoredFile, "name" | "kind">): ViewKind {
  if (f.kind === FileKind.FOLDER) return "folder";
  const dot = f.name.lastIndexOf(".");
  const ext = (dot >= 0 ? f.name.slice(dot + 1) : f.name).toLowerCase();
  return byExtension[ext] ?? "other";
}

export const isFolder = (f: StoredFile): boolean => f.kind === FileKind.FOLDER;
