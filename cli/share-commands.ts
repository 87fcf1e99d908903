// `filestore share PATH` (make a share link) and `filestore shares [ls|rm ID]` (list or revoke yours), over
// ShareService. The link printed is the gateway's /s/<id> page.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { type Share, ShareMode, ShareService } from "../proto/gen/filestore/share/v1/share_pb.ts";
import { intOption, UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { passwordFromStdin } from "./prompt.ts";
import { resolve } from "./remote.ts";
import { Session } from "./session.ts";

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "12h", "30m", "2w" → milliseconds; UsageError otherwise. */
export function durationMs(text: string): number {
  const m = /^([1-9][0-9]{0,5})([mhdw])$/.exec(text.trim());
  if (!m) throw new UsageError("--expires takes a number and a unit: 30m, 12h, 7d or 2w");
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

const when = (s: Share["expiresAt"]) => (s ? new Date(Number(s.seconds) * 1000).toISOString() : "never");

/** One line of `shares ls`: id, downloads (of the limit), views, expiry, the target's name. */
export function shareLine(s: Share): string {
  const downloads = s.maxDownloads > 0n ? `${s.downloadCount}/${s.maxDownloads}` : `${s.downloadCount}`;
  const lock = s.hasPassword ? " (password)" : "";
  return `${s.id}  ${downloads.padStart(7)} dl  ${String(s.viewCount).padStart(5)} views  expires ${when(s.expiresAt)}  ${s.targetName}${lock}`;
}

const share: Handler = async (env, args, options) => {
  const session = new Session(env.server, env.store);
  const target = await resolve(session.client(FileService), args[0] as string);
  const password = options["password-stdin"] ? await passwordFromStdin() : "";
  const expires = typeof options.expires === "string" ? Date.now() + durationMs(options.expires) : undefined;
  const maxDownloads = intOption(options, "max-downloads", 0, 1, 1_000_000_000);
  const { share: s } = await session.client(ShareService).createShare({
    targetId: target.id,
    password,
    expiresAt: expires === undefined ? undefined : timestampFromMs(expires),
    maxDownloads: BigInt(maxDownloads),
    mode: options.drop ? ShareMode.DROP : ShareMode.VIEW,
  });
  if (!s) throw new Error("the server returned no share");
  env.out(session.url(s.path).href);
  process.stderr.write(`expires ${when(s.expiresAt)}${s.hasPassword ? ", password protected" : ""}\n`);
  return 0;
};

const shares: Handler = async (env, args) => {
  const client = new Session(env.server, env.store).client(ShareService);
  const [verb = "ls", id] = args;
  if (verb === "rm") {
    if (!id) throw new UsageError("shares rm needs the link's id");
    await client.revokeShare({ id: id.replace(/^.*\/s\//, "") });
    return 0;
  }
  if (verb !== "ls" || id) throw new UsageError("use: filestore shares [ls | rm ID]");
  let pageToken = "";
  do {
    const page = await client.listShares({ pageSize: 200, pageToken });
    for (const s of page.shares) env.out(shareLine(s));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return 0;
};

export const SHARE: Command = {
  name: "share",
  usage: "<path>",
  summary: "make a share link for a file or folder (prints its URL)",
  details:
    'Anyone with the URL can open it without an account. With a password:\n  echo "$PW" | filestore share /docs --password-stdin --expires 7d --max-downloads 10',
  options: {
    "password-stdin": { type: "boolean", description: "read the link's password from stdin's first line" },
    expires: {
      type: "string",
      value: "30m|12h|7d|2w",
      description: "expiry (default: the server's maximum, if any)",
    },
    "max-downloads": { type: "string", value: "n", description: "downloads allowed (default unlimited)" },
    drop: {
      type: "boolean",
      description: "an upload-only folder link: anyone with it may upload, and sees nothing",
    },
  },
  minArgs: 1,
  maxArgs: 1,
  run: share,
};

export const SHARES: Command = {
  name: "shares",
  usage: "[ls | rm <id>]",
  summary: "list your share links (id, downloads, views, expiry), or revoke one",
  options: {},
  minArgs: 0,
  maxArgs: 2,
  run: shares,
};
