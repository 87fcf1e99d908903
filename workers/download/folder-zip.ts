// Folder downloads as ZIP: the signed URL an owner mints (CreateFolderZipUrl), its route
// (GET|HEAD /download/v1/zip/<folder id>?expires=…&gen=…&sig=…), and folderZipResponse, the answer for a
// folder of an owner, which share links reuse ("download all as ZIP" of a shared folder, issue 18).
//
// The folder's tree is listed in full before the first byte (the Content-Length needs every entry's size),
// then each file's bytes are read from its blob store when the archive reaches it. What is listed is what
// is streamed: content is addressed by its SHA-256, so a file changed meanwhile still streams the listed
// content; content moved to another backend meanwhile is found again by its hash; content purged meanwhile
// ends the stream early (a cut-off download, never an archive with wrong bytes).
import { Code, ConnectError } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { ZIP_PATH } from "../../core/data-paths.ts";
import type { FolderTreeEntry, ListFolderTreeResponse } from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import { hasFileReads } from "../lib/blobstore/types.ts";
import { invalidArgument, permissionDenied } from "../lib/errors.ts";
import { type DownloadDeps, LINK_REFUSALS, linkAnswer, linkTtlOf, requireLiveShare } from "./download.ts";
import { checkLink, linkParams, linkQuery, zipClaim } from "./links.ts";
import { type EntryBytes, type ZipEntry, zipResponse } from "./zip.ts";
import { treePages, zipTooLarge } from "./zip-limit.ts";

export { ZIP_PATH };

/** A listed entry with where its bytes are. */
interface TreeFile extends ZipEntry {
  sha256: string;
  backend: string;
  location: string;
}

const entryOf = (e: FolderTreeEntry): TreeFile => ({
  path: e.path,
  kind: e.kind === "folder" ? "folder" : "file",
  size: Number(e.size),
  updatedAt: e.updatedAt ? Number(e.updatedAt.seconds) * 1000 + Math.floor(e.updatedAt.nanos / 1e6) : 0,
  crc32: e.crc32,
  sha256: e.sha256,
  backend: e.backend,
  location: e.location,
});

/** A folder's whole tree (ListFolderTree's pages), refused past deps.zipMaxEntries. */
async function listTree(
  deps: DownloadDeps,
  first: ListFolderTreeResponse,
): Promise<{ folder: ListFolderTreeResponse["folder"]; entries: TreeFile[] }> {
  const entries: TreeFile[] = [];
  for await (const page of treePages(deps.meta, first)) {
    for (const e of page.entries) entries.push(entryOf(e));
    if (entries.length > deps.zipMaxEntries) throw zipTooLarge(deps.zipMaxEntries);
  }
  return { folder: first.folder, entries };
}

/**
 * A file's bytes from its listed place; if they are not there, from where its content is now (the transfer
 * worker may have moved it to another backend since the listing).
 */
async function openEntry(deps: DownloadDeps, e: TreeFile): Promise<EntryBytes> {
  try {
    return await readFrom(deps, e.backend, e.location);
  } catch (err) {
    const now = await deps.meta.getBlob({ sha256: e.sha256 }).catch(() => undefined);
    const blob = now?.blob;
    if (!blob || (blob.backend === e.backend && blob.location === e.location)) throw err;
    return readFrom(deps, blob.backend, blob.location);
  }
}

/** A blob's bytes: a local file read into the archive's own buffer, any other blob as a stream. */
async function readFrom(deps: DownloadDeps, backend: string, location: string): Promise<EntryBytes> {
  const store = deps.storeFor(backend);
  return hasFileReads(store) ? { file: await store.openBlob(location) } : store.read(location);
}

/** The answer for a listed tree (first: its first page). */
async function answer(
  deps: DownloadDeps,
  method: string,
  first: ListFolderTreeResponse,
  rootName?: string,
): Promise<Response> {
  const { folder, entries } = await listTree(deps, first);
  return zipResponse(method, rootName ?? folder?.name ?? "", entries, (e) => openEntry(deps, e), {
    // Content whose CRC-32 was not stored yet (stored before migration 0027) gets it now, so that its next
    // ZIP skips summing it. A failure only means it is summed again next time.
    computed: (e, crc32) => void deps.meta.setBlobCrc32({ sha256: e.sha256, crc32 }).catch(() => undefined),
  });
}

/**
 * The hook for other callers (share links): a folder of `ownerId` as a ZIP named `<rootName>.zip` (default:
 * the folder's name), for a GET or HEAD. NotFound for a folder that is not the owner's active folder,
 * FailedPrecondition for a file's id, ResourceExhausted past ZIP_MAX_ENTRIES. The caller checks its own
 * credentials first (and counts the download).
 */
export async function folderZipResponse(
  deps: DownloadDeps,
  method: string,
  o: { ownerId: string; folderId: string; rootName?: string },
): Promise<Response> {
  if (!o.ownerId || !o.folderId) throw invalidArgument("an owner and a folder id are required");
  const first = await deps.meta.listFolderTree({ folderId: o.folderId, ownerId: o.ownerId, pageSize: 1000 });
  return answer(deps, method, first, o.rootName);
}

/**
 * GET|HEAD of a signed folder ZIP link (an owner's, or a share's with the share id signed in);
 * PermissionDenied with the reason when the link does not hold.
 */
export async function serveZipLink(deps: DownloadDeps, req: Request, folderId: string): Promise<Response> {
  const given = linkParams(new URL(req.url).searchParams);
  if (!given || !folderId) throw permissionDenied(LINK_REFUSALS.invalid);
  let first: ListFolderTreeResponse;
  try {
    first = await deps.meta.listFolderTree({ folderId, pageSize: 1000 });
  } catch (err) {
    // A link to a folder that is gone (or never was, or is a file) is simply not valid.
    const code = ConnectError.from(err).code;
    if (code === Code.NotFound || code === Code.FailedPrecondition)
      throw permissionDenied(LINK_REFUSALS.invalid);
    throw err;
  }
  const current = {
    fileId: folderId,
    sha256: zipClaim(first.folder?.ownerId ?? ""),
    generation: Number(first.linkGeneration),
  };
  const verdict = checkLink(deps.linkKey, current, given, deps.now());
  if (verdict !== "valid") throw permissionDenied(LINK_REFUSALS[verdict]);
  // A share's "download all as ZIP": only while the share answers and still holds the folder (each GET).
  if (given.shareId !== undefined) await requireLiveShare(deps, given.shareId, folderId);
  return answer(deps, req.method, first);
}

/** DownloadService.CreateFolderZipUrl: a signed link to a folder of the caller, as a ZIP. */
export async function createFolderZipUrl(
  deps: DownloadDeps,
  who: Identity,
  req: { folderId: string; ttlSeconds: number },
): Promise<ReturnType<typeof linkAnswer>> {
  const ttl = linkTtlOf(deps, req.ttlSeconds);
  if (!req.folderId) throw invalidArgument("folder_id is required");
  // Checks the folder is the caller's (NotFound otherwise; FailedPrecondition for a file) and reads the
  // generation of its links.
  const first = await deps.meta.listFolderTree({ folderId: req.folderId, ownerId: who.userId, pageSize: 1 });
  const expires = Math.ceil((deps.now() + ttl * 1000) / 1000);
  const query = linkQuery(deps.linkKey, {
    fileId: req.folderId,
    sha256: zipClaim(who.userId),
    expires,
    generation: Number(first.linkGeneration),
  });
  return linkAnswer(deps, `${ZIP_PATH}${encodeURIComponent(req.folderId)}?${query}`, expires);
}
