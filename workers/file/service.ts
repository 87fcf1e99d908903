// filestore.file.v1.FileService (signed-in users, each on their own entries), FileAdminService
// (internal: garbage collection on demand) and filestore.share.v1.ShareService (share links, shares/).
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { FileAdminService, FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { ShareService } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { requireIdentity } from "../lib/context.ts";
import type { ServiceModule } from "../lib/server.ts";
import type { StreamLimit } from "../lib/stream-limit.ts";
import { batchFiles, copyFile } from "./batch.ts";
import * as files from "./files.ts";
import type { FsckDeps } from "./fsck.ts";
import { checkIntegrityStream } from "./fsck-stream.ts";
import type { GcResult } from "./gc.ts";
import { searchFiles } from "./search.ts";
import type { ShareDeps } from "./shares/deps.ts";
import { shareRoutes } from "./shares/service.ts";
import { getUsage } from "./usage.ts";
import { versionRoutes } from "./versions.ts";
import { fileChanges } from "./watch.ts";

export interface FileModuleDeps extends files.FileDeps {
  /** The event bus WatchFiles reads (every file change is published there, by whichever process made it). */
  bus: EventBus;
  /** Open WatchFiles streams per user in this process (FILE_MAX_WATCHES_PER_USER). */
  watches: StreamLimit;
  collectGarbage: () => Promise<GcResult>;
  /** The consistency checker's dependencies (FileAdminService.CheckIntegrity); absent: Unimplemented. */
  fsck?: FsckDeps;
  /** ShareService's; without them (tests of FileService alone) the service is not served. */
  shares?: ShareDeps;
}

export function fileModule(deps: FileModuleDeps): ServiceModule {
  return {
    services: deps.shares ? [FileService, FileAdminService, ShareService] : [FileService, FileAdminService],
    routes(router: ConnectRouter) {
      router.service(FileService, {
        async listFiles(req, ctx) {
          return files.listFiles(deps, requireIdentity(ctx), req);
        },
        async getFile(req, ctx) {
          return { file: await files.getFile(deps, requireIdentity(ctx), req.id) };
        },
        async createFolder(req, ctx) {
          return {
            folder: await files.createFolder(
              deps,
              requireIdentity(ctx),
              req.parentId,
              req.name,
              req.onConflict,
            ),
          };
        },
        async renameFile(req, ctx) {
          return { file: await files.renameFile(deps, requireIdentity(ctx), req.id, req.name) };
        },
        async moveFile(req, ctx) {
          return {
            file: await files.moveFile(deps, requireIdentity(ctx), req.id, req.newParentId, req.onConflict),
          };
        },
        async deleteFile(req, ctx) {
          await files.deleteFile(deps, requireIdentity(ctx), req.id);
          return {};
        },
        async listTrash(req, ctx) {
          return files.listTrash(deps, requireIdentity(ctx), req);
        },
        async restoreFile(req, ctx) {
          return { file: await files.restoreFile(deps, requireIdentity(ctx), req.id, req.onConflict) };
        },
        async purgeFile(req, ctx) {
          await files.purgeFile(deps, requireIdentity(ctx), req.id);
          return {};
        },
        ...versionRoutes(deps),
        async searchFiles(req, ctx) {
          return searchFiles(deps, requireIdentity(ctx), req);
        },
        async emptyTrash(_req, ctx) {
          return { count: await files.emptyTrash(deps, requireIdentity(ctx)) };
        },
        async copyFile(req, ctx) {
          return { file: await copyFile(deps, requireIdentity(ctx), req) };
        },
        async batchFiles(req, ctx) {
          return { results: await batchFiles(deps, requireIdentity(ctx), req) };
        },
        async getUsage(_req, ctx) {
          return getUsage(deps, requireIdentity(ctx));
        },
        async *watchFiles(req, ctx) {
          const { userId } = requireIdentity(ctx);
          yield* deps.watches.run(userId, ctx.signal, () =>
            fileChanges(deps.bus, userId, req.afterEventId, ctx.signal),
          );
        },
      });
      router.service(FileAdminService, {
        async runGarbageCollection() {
          return deps.collectGarbage();
        },
        async *checkIntegrity(req, ctx) {
          if (!deps.fsck) throw new ConnectError("no consistency checker here", Code.Unimplemented);
          if (req.scrubBytesPerHour < 0n)
            throw new ConnectError("scrub_bytes_per_hour must not be negative", Code.InvalidArgument);
          const scrub = req.scrub
            ? { bytesPerHour: Number(req.scrubBytesPerHour) || deps.fsck.scrubBytesPerHour || 0 }
            : undefined;
          yield* checkIntegrityStream(deps.fsck, { repair: req.repair, scrub }, ctx.signal);
        },
      });
      if (deps.shares) shareRoutes(router, deps.shares);
    },
  };
}
