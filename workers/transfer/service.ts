// filestore.transfer.v1.TransferService: the queue's figures and its jobs page by page, job status, dead
// letters, retries, "migrate everything", and a feed of job changes. For operators only: the caller must
// be a signed-in user named in ADMIN_USERS (PermissionDenied otherwise; nobody when the list is empty).
// The job rows in the database are the source of truth; the queue's own dead-letter list is kept in step
// on retries.
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { TransferService } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { requireIdentity } from "../lib/context.ts";
import { permissionDenied } from "../lib/errors.ts";
import type { ServiceModule } from "../lib/server.ts";
import {
  deadLetters,
  getJob,
  listJobs,
  migrateAll,
  retryDeadLetter,
  sha256Of,
  stats,
  type TransferServiceDeps,
} from "./operations.ts";
import { jobChanges } from "./watch.ts";

function requireOperator(ctx: HandlerContext, admins: string[]): void {
  const who = requireIdentity(ctx);
  if (!admins.includes(who.username.toLowerCase()))
    throw permissionDenied("TransferService is for operators: an administrator must list you in ADMIN_USERS");
}

export function transferModule(deps: TransferServiceDeps): ServiceModule {
  return {
    services: [TransferService],
    routes(router: ConnectRouter) {
      router.service(TransferService, {
        async getTransferJob(req, ctx) {
          requireOperator(ctx, deps.admins);
          return getJob(deps, req.blobSha256);
        },
        async listDeadLetters(req, ctx) {
          requireOperator(ctx, deps.admins);
          return deadLetters(deps, req.pageSize, req.pageToken);
        },
        async retryDeadLetter(req, ctx) {
          requireOperator(ctx, deps.admins);
          return retryDeadLetter(deps, req.blobSha256);
        },
        async *migrateAll(_req, ctx) {
          requireOperator(ctx, deps.admins);
          yield* migrateAll(deps, ctx.signal);
        },
        async getTransferStats(_req, ctx) {
          requireOperator(ctx, deps.admins);
          return stats(deps);
        },
        async listTransferJobs(req, ctx) {
          requireOperator(ctx, deps.admins);
          return listJobs(deps, req);
        },
        async *watchTransfers(req, ctx) {
          requireOperator(ctx, deps.admins);
          const only = req.blobSha256 ? sha256Of(req.blobSha256) : "";
          yield* deps.watches.run(requireIdentity(ctx).userId, ctx.signal, () =>
            jobChanges(deps, only, req.afterEventId, ctx.signal),
          );
        },
      });
    },
  };
}
