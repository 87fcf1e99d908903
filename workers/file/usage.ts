// Quotas on the file worker: GetUsage for the signed-in user, and the periodic recount that reconciles
// every user's usage counters with the file, version and upload-session tables (meta does the counting
// under each user's lock; here the pages are walked and every drift fixed is logged).
import type { Identity } from "../../core/access-token.ts";
import type { GetUsageResponse } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import type { Logger } from "../lib/log.ts";
import type { MetaClient } from "../lib/meta-client.ts";

export async function getUsage(
  deps: { meta: Pick<MetaClient, "getUsage"> },
  who: Identity,
): Promise<Omit<GetUsageResponse, "$typeName">> {
  const { usage } = await deps.meta.getUsage({ ownerId: who.userId });
  return {
    usedBytes: usage?.usedBytes ?? 0n,
    reservedBytes: usage?.reservedBytes ?? 0n,
    quotaBytes: usage?.quotaBytes ?? 0n,
    files: usage?.files ?? 0n,
    trashBytes: usage?.trashBytes ?? 0n,
    versionBytes: usage?.versionBytes ?? 0n,
  };
}

const PAGE = 200;

/** One recount pass over every user; returns how many users' counters were fixed (each one logged). */
export async function recountUsage(deps: {
  meta: Pick<MetaClient, "recountUsage">;
  log?: Logger;
}): Promise<number> {
  let after = "";
  let fixed = 0;
  for (;;) {
    const page = await deps.meta.recountUsage({ afterUserId: after, limit: PAGE });
    for (const d of page.drifts) {
      fixed++;
      deps.log?.warn("usage counters drifted; fixed", {
        userId: d.userId,
        usedBefore: String(d.usedBefore),
        usedAfter: String(d.usedAfter),
        reservedBefore: String(d.reservedBefore),
        reservedAfter: String(d.reservedAfter),
      });
    }
    if (page.checked < PAGE || !page.lastUserId) return fixed;
    after = page.lastUserId;
  }
}
