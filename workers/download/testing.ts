// Test helpers for downloads: the download module over the upload fixture (meta on SQLite, a real
// blob store), and what an RFC 6266 client reads from a Content-Disposition.

import type { AccessTokenVerifier, Identity } from "../../core/access-token.ts";
import { InvalidTokenError } from "../../core/access-token.ts";
import { ExpiringCache } from "../../core/cache.ts";
import type { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import type { TestBlobStore } from "../lib/blobstore/testing.ts";
import type { TestDatabase } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import type { DownloadDeps, Target } from "./download.ts";
import { linkKeyFrom, VerifiedLinks } from "./links.ts";
import { type DownloadModule, downloadModule } from "./service.ts";
import type { ThumbnailRow } from "./thumbnails.ts";

/** What an RFC 6266 client makes of a Content-Disposition: filename* when present, else filename. */
export function filenameOf(header: string): string | undefined {
  const star = /;\s*filename\*=UTF-8''([^;\s]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1] as string);
  const plain = /;\s*filename="((?:[^"\\]|\\.)*)"/.exec(header);
  return plain?.[1]?.replace(/\\(.)/g, "$1");
}

export interface DownloadFixture {
  upload: UploadFixture;
  deps: DownloadDeps;
  module: DownloadModule;
  clock: { now: number };
  /** A new user and the bearer token that names them. */
  user(name: string): Promise<{ who: Identity; token: string }>;
  /** Stores a file for `who` (a modern upload, then its SHA-1 backfill); returns its id and SHA-1. */
  put(
    who: Identity,
    name: string,
    bytes: Uint8Array<ArrayBuffer>,
    onConflict?: ConflictPolicy,
    parentId?: string,
  ): Promise<{ id: string; sha1: string }>;
  /** A GET (or another method) on the data plane. */
  /** A request through a real Bun.serve, as clients see it. */
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Response>;
  /** The worker's own answer, before Bun.serve writes it out. */
  direct(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function openDownloadFixture(
  backend: TestBlobStore,
  opts: {
    s3Redirect?: boolean;
    bunServeRanges?: boolean;
    videoThumbnails?: boolean;
    /** Meta's database (default: SQLite in memory). */
    database?: TestDatabase;
  } = {},
): Promise<DownloadFixture> {
  const clock = { now: Date.now() };
  const upload = await openUploadFixture(backend, clock, opts.database);
  const tokens = new Map<string, Identity>();
  const verifier: AccessTokenVerifier = {
    async verify(token) {
      const who = tokens.get(token);
      if (!who) throw new InvalidTokenError("invalid access token");
      return who;
    },
    // As the real verifier's cache: so that repeated requests take the data plane's no-wait path.
    cached: (token) => tokens.get(token),
  };
  const linkKey = linkKeyFrom("k".repeat(32));
  const storeFor = storeForAll(upload.opened.store);
  const deps: DownloadDeps = {
    meta: upload.deps.meta,
    storeFor,
    linkKey,
    linkTtlSeconds: 60,
    linkMaxTtlSeconds: 3600,
    publicUrl: "",
    s3Redirect: opts.s3Redirect ?? false,
    bunServeRanges: opts.bunServeRanges ?? true,
    lookups: new ExpiringCache<string, Target>(100, () => clock.now),
    lookupCacheMs: 1000,
    verifiedLinks: new VerifiedLinks(),
    now: () => clock.now,
    zipMaxEntries: 1000,
    thumbnails: {
      meta: upload.deps.meta,
      storeFor,
      linkKey,
      urlTtlSeconds: 3600,
      publicUrl: "",
      videos: opts.videoThumbnails ?? false,
      rows: new ExpiringCache<string, ThumbnailRow>(100, () => clock.now),
      now: () => clock.now,
    },
  };
  const module = downloadModule(deps, verifier, (err) => {
    throw err;
  });
  // Answers go through a real Bun.serve, as in every process: it sends file Blobs with sendfile(2) and
  // applies single ranges to them itself.
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => module.serve(req) });
  return {
    upload,
    deps,
    module,
    clock,
    async user(name) {
      const who = await upload.user(name);
      const token = `token-${who.userId}`;
      tokens.set(token, who);
      return { who, token };
    },
    async put(who, name, bytes, onConflict, parentId = "") {
      const target = { name, parentId, onConflict };
      const file = await storeUpload(upload.deps, who, target, new Blob([bytes]).stream());
      upload.sha1Backfill.schedule(file.blobSha256);
      await upload.sha1Backfill.idle();
      const sha1 = new Bun.CryptoHasher("sha1").update(bytes).digest("hex");
      return { id: file.id, sha1 };
    },
    get(path, headers = {}, method = "GET") {
      return fetch(`http://127.0.0.1:${server.port}${path}`, { method, headers, redirect: "manual" });
    },
    async direct(path, headers = {}) {
      return module.serve(new Request(`http://in-process${path}`, { headers }));
    },
    async close() {
      await server.stop(true);
      await upload.close();
    },
  };
}
