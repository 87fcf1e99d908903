// filestore.share.v1.ShareService on the file worker's router: thin bodies over owner.ts (signed-in owners)
// and public.ts (anyone with a link; core/call-policy.ts lists the public calls).
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { ShareService } from "../../../proto/gen/filestore/share/v1/share_pb.ts";
import { clientIpKey, requireIdentity } from "../../lib/context.ts";
import type { ShareDeps } from "./deps.ts";
import * as owner from "./owner.ts";
import * as visitor from "./public.ts";

const clientIp = (ctx: HandlerContext) => ctx.values.get(clientIpKey);

export function shareRoutes(router: ConnectRouter, deps: ShareDeps): void {
  router.service(ShareService, {
    createShare: (req, ctx) => owner.createShare(deps, requireIdentity(ctx), req),
    updateShare: (req, ctx) => owner.updateShare(deps, requireIdentity(ctx), req),
    listShares: (req, ctx) => owner.listShares(deps, requireIdentity(ctx), req),
    revokeShare: (req, ctx) => owner.revokeShare(deps, requireIdentity(ctx), req.id),
    openShare: (req, ctx) => visitor.openShare(deps, req, clientIp(ctx)),
    listShareItems: (req) => visitor.listShareItems(deps, req),
    createShareDownloadUrl: (req) => visitor.createShareDownloadUrl(deps, req),
    saveShareToDrive: (req, ctx) => visitor.saveShareToDrive(deps, requireIdentity(ctx), req),
  });
}
