// `filestore find` (alias `search`): entries whose name contains a text, through SearchFiles (case- and
// accent-insensitive, the whole tree or below a folder), printed as full paths.
import { FileCategory, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { entryJson } from "./json-output.ts";
import { isFolder, pathsOf, resolveFolder } from "./remote.ts";
import { Session } from "./session.ts";
import { SORTS, sortOption } from "./tree-commands.ts";

const KINDS: Record<string, FileCategory> = {
  folder: FileCategory.FOLDER,
  image: FileCategory.IMAGE,
  video: FileCategory.VIDEO,
  audio: FileCategory.AUDIO,
  document: FileCategory.DOCUMENT,
  archive: FileCategory.ARCHIVE,
};

const find: Handler = async (env, args, options) => {
  const query = (args[0] as string).trim();
  if (!query) throw new UsageError("give a part of the name to look for", "find");
  const kind = options.kind;
  const category = typeof kind === "string" ? KINDS[kind] : FileCategory.UNSPECIFIED;
  if (category === undefined) throw new UsageError(`--kind is one of ${Object.keys(KINDS).join(", ")}`);
  const sort = sortOption(options);
  const files = new Session(env.server, env.store).client(FileService);
  const below = typeof options.in === "string" ? await resolveFolder(files, options.in) : undefined;
  const found = [];
  let pageToken = "";
  do {
    const page = await files.searchFiles({
      query,
      folderId: below?.id ?? "",
      category,
      sort,
      descending: options.reverse === true,
      pageSize: 1000,
      pageToken,
    });
    found.push(...page.files);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const paths = await pathsOf(files, found);
  if (options.json) {
    env.out(JSON.stringify(found.map((f, i) => ({ ...entryJson(f), path: paths[i] }))));
    return 0;
  }
  found.forEach((f, i) => {
    env.out(`${paths[i]}${isFolder(f) ? "/" : ""}`);
  });
  return 0;
};

const FIND_SPEC = {
  usage: "<text>",
  summary: "find files and folders whose name contains text (case- and accent-insensitive)",
  details: `Prints each entry's full path (folders end in /), in the whole tree or below --in. "cafe" finds
"Café.JPG". With --json, one JSON array of {id,name,kind,size,sha256,parentId,createdAt,updatedAt,path}.`,
  options: {
    in: { type: "string", value: "folder", description: "only below this folder (any depth)" },
    kind: { type: "string", value: Object.keys(KINDS).join("|"), description: "only entries of this kind" },
    sort: { type: "string", value: Object.keys(SORTS).join("|"), description: "order (default name)" },
    reverse: { type: "boolean", short: "r", description: "reverse the order" },
    json: { type: "boolean", description: "print the result as JSON (fields above)" },
  },
  minArgs: 1,
  maxArgs: 1,
  run: find,
} as const;

export const FIND: Command = { name: "find", ...FIND_SPEC };
export const SEARCH: Command = { name: "search", ...FIND_SPEC, summary: "the same as find" };
