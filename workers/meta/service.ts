// The meta worker's ServiceModule: every service of filestore.meta.v1 (one per subject, each in its
// *-service.ts) on one router, over the one database meta owns.
import type { ConnectRouter } from "@connectrpc/connect";
import { AdminDataService } from "../../proto/gen/filestore/meta/v1/admin_pb.ts";
import { ContentService } from "../../proto/gen/filestore/meta/v1/content_pb.ts";
import { CredentialService } from "../../proto/gen/filestore/meta/v1/credentials_pb.ts";
import { DavLockService } from "../../proto/gen/filestore/meta/v1/dav_locks_pb.ts";
import { DavPropertyService } from "../../proto/gen/filestore/meta/v1/dav_pb.ts";
import { DavTransferService } from "../../proto/gen/filestore/meta/v1/dav_transfers_pb.ts";
import { DerivedService } from "../../proto/gen/filestore/meta/v1/derived_pb.ts";
import { IntegrityService } from "../../proto/gen/filestore/meta/v1/integrity_pb.ts";
import { DownloadLinkService } from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import { QuotaService } from "../../proto/gen/filestore/meta/v1/quota_pb.ts";
import { ShareDataService } from "../../proto/gen/filestore/meta/v1/shares_pb.ts";
import { TransferJobService } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { TreeService } from "../../proto/gen/filestore/meta/v1/tree_pb.ts";
import { UploadSessionService } from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { UserService } from "../../proto/gen/filestore/meta/v1/users_pb.ts";
import { metaServices } from "../lib/meta-client.ts";
import type { ServiceModule } from "../lib/server.ts";
import { adminDataService } from "./admin-data-service.ts";
import { contentService } from "./content-service.ts";
import { credentialService } from "./credential-service.ts";
import { davLockService } from "./dav-locks.ts";
import { davPropertyService } from "./dav-properties.ts";
import { davTransferService } from "./dav-transfers.ts";
import type { Db } from "./db/database.ts";
import { derivedService } from "./derived-service.ts";
import { downloadLinkService } from "./download-link-service.ts";
import * as files from "./files.ts";
import { instanceStats, STATS_CACHE_MS } from "./instance-stats.ts";
import { integrityService } from "./integrity-service.ts";
import { quotaService } from "./quota-service.ts";
import type { MetaDeps } from "./records.ts";
import { shareDataService } from "./share-data-service.ts";
import { noTotpSecretBox, totpSecretBox } from "./totp-secret-box.ts";
import { transferJobService } from "./transfer-job-service.ts";
import { treeService } from "./tree-service.ts";
import { uploadSessionService } from "./upload-session-service.ts";
import { userService } from "./user-service.ts";
import { DEFAULT_VERSIONS_KEEP } from "./versions.ts";

export interface MetaLimits {
  /** How deep folders may nest (MAX_FOLDER_DEPTH). */
  maxFolderDepth?: number;
  /** Versions a file keeps (VERSIONS_KEEP). */
  versionsKeep?: number;
  /** The quota of users without one of their own (DEFAULT_QUOTA_BYTES; absent or 0: unlimited). */
  defaultQuotaBytes?: number;
  /** How long instance statistics are cached (default STATS_CACHE_MS). */
  statsCacheMs?: number;
  /**
   * INTERNAL_SECRET: the key TOTP secrets are sealed under is derived from it. Without it every TOTP
   * enrolment or sign-in fails closed.
   */
  serverSecret?: string;
}

export function metaModule(db: Db, now: () => number = Date.now, limits: MetaLimits = {}): ServiceModule {
  const deps: MetaDeps = {
    db,
    now,
    maxFolderDepth: limits.maxFolderDepth ?? files.DEFAULT_MAX_FOLDER_DEPTH,
    versionsKeep: limits.versionsKeep ?? DEFAULT_VERSIONS_KEEP,
    quota: { defaultBytes: limits.defaultQuotaBytes ?? 0 },
    totpBox: limits.serverSecret ? totpSecretBox(limits.serverSecret) : noTotpSecretBox,
  };
  const stats = instanceStats(db, limits.statsCacheMs ?? STATS_CACHE_MS);
  return {
    services: [...metaServices],
    routes(router: ConnectRouter) {
      router.service(UserService, userService(deps));
      router.service(ContentService, contentService(deps));
      router.service(TreeService, treeService(deps));
      router.service(UploadSessionService, uploadSessionService(deps));
      router.service(TransferJobService, transferJobService(deps));
      router.service(DownloadLinkService, downloadLinkService(deps));
      router.service(DerivedService, derivedService(deps));
      router.service(CredentialService, credentialService(deps));
      router.service(QuotaService, quotaService(deps));
      router.service(AdminDataService, adminDataService(deps, stats));
      router.service(ShareDataService, shareDataService(deps));
      router.service(DavPropertyService, davPropertyService(deps));
      router.service(DavLockService, davLockService(deps));
      router.service(DavTransferService, davTransferService(deps));
      router.service(IntegrityService, integrityService(deps));
    },
  };
}
