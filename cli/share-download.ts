// `filestore download <share URL> [dest]`: a public share link (…/s/<id>), no sign-in. A file comes down to
// dest (or ./<name>); a folder to dest/ (or ./<name>/) with its subfolders. Each file consumes one download
// of the link (CreateShareDownloadUrl), and its bytes come from the minted URL.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { Reason, reasonOf } from "../core/reasons.ts";
import { ItemKind, type ShareItem, ShareService } from "../proto/gen/filestore/share/v1/share_pb.ts";
import type { OptionValues } from "./args.ts";
import type { Env } from "./commands.ts";
import { safeLocalName } from "./local-tree.ts";
import { askPassword, passwordFromStdin } from "./prompt.ts";
import { connectTransport } from "./session.ts";

/** A share page's URL: the server's base and the link's id. */
export function shareUrlParts(text: string): { base: string; id: string } | undefined {
  const m = /^(https?:\/\/[^?#]*?)\/s\/([A-Za-z0-9_-]{22,64})\/?$/.exec(text.trim());
  return m ? { base: m[1] as string, id: m[2] as string } : undefined;
}

type Shares = ReturnType<typeof createClient<typeof ShareService>>;

async function open(shares: Shares, id: string, options: OptionValues) {
  const given = options["password-stdin"] ? await passwordFromStdin() : undefined;
  try {
    return await shares.openShare({ id, password: given ?? "" });
  } catch (err) {
    // A password link answers like an unknown one: ask once when a terminal is there to ask on.
    if (given !== undefined || reasonOf(err) !== Reason.SHARE_NOT_FOUND || !process.stdin.isTTY) throw err;
    return shares.openShare({ id, password: await askPassword("Password of the link: ") });
  }
}

async function fetchTo(shares: Shares, base: string, token: string, item: ShareItem, dest: string) {
  const { url } = await shares.createShareDownloadUrl({ shareToken: token, fileId: item.id });
  const res = await fetch(new URL(url, `${base}/`));
  if (!res.ok) throw new Error(`${item.name}: the server answered HTTP ${res.status}`);
  const written = await Bun.write(dest, res);
  if (BigInt(written) !== item.size) throw new Error(`${item.name}: got ${written} bytes of ${item.size}`);
}

/** Every file below a shared folder, depth first, into `dir`. */
async function fetchFolder(
  shares: Shares,
  base: string,
  token: string,
  folderId: string,
  dir: string,
  env: Env,
) {
  await mkdir(dir, { recursive: true });
  let pageToken = "";
  do {
    const page = await shares.listShareItems({ shareToken: token, folderId, pageSize: 500, pageToken });
    for (const item of page.items) {
      const path = join(dir, safeLocalName(item.name));
      if (item.kind === ItemKind.FOLDER) await fetchFolder(shares, base, token, item.id, path, env);
      else {
        await fetchTo(shares, base, token, item, path);
        env.out(path);
      }
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
}

export async function downloadShare(
  env: Env,
  link: { base: string; id: string },
  dest: string | undefined,
  options: OptionValues,
) {
  const shares = createClient(ShareService, connectTransport(link.base));
  const opened = await open(shares, link.id, options);
  const item = opened.item;
  if (!item) throw new Error("the server described no item");
  const name = safeLocalName(item.name);
  const target = dest === undefined ? name : dest.endsWith("/") ? join(dest, name) : dest;
  if (item.kind === ItemKind.FOLDER) await fetchFolder(shares, link.base, opened.shareToken, "", target, env);
  else {
    await fetchTo(shares, link.base, opened.shareToken, item, target);
    env.out(target);
  }
  return 0;
}
