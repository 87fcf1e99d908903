// The meta client: one object with the methods of every filestore.meta.v1 service, so that callers keep
// writing `meta.getUser(...)` whichever subject's service answers. connect-es clients are plain objects
// with one own property per method (makeAnyClient), and the services share no method name
// (meta-client.test.ts checks it), so merging them loses nothing.
import { type Client, createClient, type Transport } from "@connectrpc/connect";
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

/** Every service of filestore.meta.v1 (all internal: callers present the internal secret). */
export const metaServices = [
  UserService,
  ContentService,
  TreeService,
  UploadSessionService,
  TransferJobService,
  DownloadLinkService,
  DerivedService,
  CredentialService,
  QuotaService,
  AdminDataService,
  ShareDataService,
  DavPropertyService,
  DavLockService,
  DavTransferService,
  IntegrityService,
] as const;

export type MetaClient = Client<typeof UserService> &
  Client<typeof ContentService> &
  Client<typeof TreeService> &
  Client<typeof UploadSessionService> &
  Client<typeof TransferJobService> &
  Client<typeof DownloadLinkService> &
  Client<typeof DerivedService> &
  Client<typeof CredentialService> &
  Client<typeof QuotaService> &
  Client<typeof AdminDataService> &
  Client<typeof ShareDataService> &
  Client<typeof DavPropertyService> &
  Client<typeof DavLockService> &
  Client<typeof DavTransferService> &
  Client<typeof IntegrityService>;

/** The meta client over a transport (HTTP to the meta worker, or in memory in one process). */
export function createMetaClient(transport: Transport): MetaClient {
  return Object.assign({}, ...metaServices.map((s) => createClient(s, transport))) as MetaClient;
}
