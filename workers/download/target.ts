// A file to send as the download worker keeps it: meta's answer plus the headers of every answer with its
// content (built once per lookup and shared through the lookup cache), and its preview variants.
import { Code, ConnectError } from "@connectrpc/connect";
import type { MetaClient } from "../lib/meta-client.ts";
import { contentDisposition, contentTypeFor, etagOf } from "./http.ts";
import { inlineDisposition, type PreviewMode, previewTypeFor } from "./preview.ts";

/** A file to send, as the database describes it. */
export interface Target {
  fileId: string;
  name: string;
  sha256: string;
  size: number;
  backend: string;
  location: string;
  linkGeneration: number;
  /** Content-Type and Content-Disposition from the name (computed once per lookup). */
  contentType: string;
  disposition: string;
  /** The ETag, and the headers of every answer with the content (built once per lookup). */
  etag: string;
  headers: Headers;
  /** The same without Accept-Ranges, for a range that Bun.serve applies: it adds that header itself. */
  rangedHeaders: Headers;
  /** The headers of an answer that nginx sends (DOWNLOAD_ACCEL), built on first use. */
  accelHeaders?: Headers;
  /** A share's download of a kind that could script (preview.ts): never inline, whatever is asked. */
  attachmentOnly?: boolean;
  /** The same file answered inline (asPreview), built on first use. */
  previews?: Partial<Record<PreviewMode, Target>>;
}

/** A target from meta's answer (`previous` when that answer is the same as the one it was built from). */
export function targetOf(
  { file, blob, linkGeneration }: Awaited<ReturnType<MetaClient["getDownloadTarget"]>>,
  previous?: Target,
): Target {
  if (!file || !blob) throw new ConnectError("meta returned no file", Code.Internal);
  if (
    previous?.fileId === file.id &&
    previous.name === file.name &&
    previous.sha256 === blob.sha256 &&
    previous.size === Number(blob.size) &&
    previous.backend === blob.backend &&
    previous.location === blob.location &&
    previous.linkGeneration === Number(linkGeneration)
  )
    return previous;
  const contentType = contentTypeFor(file.name);
  const disposition = contentDisposition(file.name);
  const etag = etagOf(blob.sha256);
  return {
    fileId: file.id,
    name: file.name,
    sha256: blob.sha256,
    size: Number(blob.size),
    backend: blob.backend,
    location: blob.location,
    linkGeneration: Number(linkGeneration),
    ...answerHeaders(contentType, disposition, etag),
  };
}

/** The headers of every answer with the content, for a type and disposition. */
function answerHeaders(contentType: string, disposition: string, etag: string) {
  const fixed = {
    etag,
    "cache-control": "private, no-cache",
    "content-type": contentType,
    "content-disposition": disposition,
    // The content is the user's: never sniffed into something executable, never a page of this origin.
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  return {
    contentType,
    disposition,
    etag,
    headers: new Headers({ "accept-ranges": "bytes", ...fixed }),
    rangedHeaders: new Headers(fixed),
  };
}

/**
 * The file as a preview asks for it (preview.ts): inline with its previewable type, or unchanged (an
 * attachment) when its kind is not previewable or no preview was asked for. Kept on the target, which the
 * lookup cache shares between requests.
 */
export function asPreview(t: Target, mode: PreviewMode | undefined): Target {
  if (!mode || (mode === "inline" && t.attachmentOnly)) return t;
  const hit = t.previews?.[mode];
  if (hit) return hit;
  const type = previewTypeFor(t.name, mode);
  const preview = type
    ? {
        ...t,
        ...answerHeaders(type, inlineDisposition(t.name), t.etag),
        previews: undefined,
        accelHeaders: undefined,
      }
    : t;
  t.previews = { ...t.previews, [mode]: preview };
  return preview;
}
