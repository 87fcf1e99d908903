// The share row of `npm run bench:download` (issue 18): the bench file shared by a link (view mode, no
// password), opened as a visitor would (OpenShare, no login) and a download URL minted for it
// (CreateShareDownloadUrl, one counted download); its ranged GETs carry no access token, and the download
// worker re-checks the share in meta on each of them. Compared with the owner's own ranged path.
import { BenchError } from "./harness.ts";

const SHARE = "filestore.share.v1.ShareService";

async function call(base: string, method: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/${SHARE}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new BenchError(`${method} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The URL a visitor of a share of `fileId` downloads from (absolute, on `base`). */
export async function sharedFileUrl(base: string, token: string, fileId: string): Promise<string> {
  process.stdout.write("a share link of it for the share row ... ");
  const created = (await call(base, "CreateShare", { targetId: fileId }, token)) as {
    share?: { id?: string };
  };
  const id = created.share?.id;
  if (!id) throw new BenchError(`CreateShare answered ${JSON.stringify(created)}`);
  const opened = (await call(base, "OpenShare", { id })) as { shareToken?: string };
  if (!opened.shareToken) throw new BenchError(`OpenShare answered ${JSON.stringify(opened)}`);
  const minted = (await call(base, "CreateShareDownloadUrl", { shareToken: opened.shareToken, fileId })) as {
    url?: string;
  };
  if (!minted.url) throw new BenchError(`CreateShareDownloadUrl answered ${JSON.stringify(minted)}`);
  const url = new URL(minted.url, base);
  console.log(url.pathname);
  return `${base}${url.pathname}${url.search}`;
}
