// The call table against every RPC of the protos: which the gateway forwards, which need no token, which
// only other services may call. The gateway and the workers each had their own copy of this table; both read
// this one now, so one expected answer per RPC pins what each of them did.
import { describe, expect, test } from "bun:test";
import type { DescService } from "@bufbuild/protobuf";
import { AccountService, AppPasswordAuthService } from "../proto/gen/filestore/account/v1/account_pb.ts";
import { AdminService } from "../proto/gen/filestore/admin/v1/admin_pb.ts";
import { DownloadService } from "../proto/gen/filestore/download/v1/download_pb.ts";
import { FileAdminService, FileService } from "../proto/gen/filestore/file/v1/file_pb.ts";
import { AdminDataService } from "../proto/gen/filestore/meta/v1/admin_pb.ts";
import { ContentService } from "../proto/gen/filestore/meta/v1/content_pb.ts";
import { CredentialService } from "../proto/gen/filestore/meta/v1/credentials_pb.ts";
import { DownloadLinkService } from "../proto/gen/filestore/meta/v1/links_pb.ts";
import { TransferJobService } from "../proto/gen/filestore/meta/v1/transfer_pb.ts";
import { TreeService } from "../proto/gen/filestore/meta/v1/tree_pb.ts";
import { UploadSessionService } from "../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { UserService } from "../proto/gen/filestore/meta/v1/users_pb.ts";
import { TransferService } from "../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { UploadService } from "../proto/gen/filestore/upload/v1/upload_pb.ts";
import { accessOf, isPublicCall, isPublicService, ownerOf, type ServiceOwner } from "./call-policy.ts";

const signedOut = ["Signup", "Signin", "Refresh", "Signout", "ListRevokedSessions", "GetSignupPolicy"];

/** Every service of filestore.meta.v1: internal, one per subject. */
const metaServices = [
  UserService,
  ContentService,
  TreeService,
  UploadSessionService,
  TransferJobService,
  DownloadLinkService,
  CredentialService,
  AdminDataService,
];

const forwarded: [DescService, ServiceOwner][] = [
  [AccountService, "account"],
  [AdminService, "account"],
  [FileService, "file"],
  [UploadService, "upload"],
  [DownloadService, "download"],
  [TransferService, "transfer"],
];

describe("call policy", () => {
  test("the gateway forwards the six public services to their workers, and no other", () => {
    for (const [svc, owner] of forwarded) expect(ownerOf(svc.typeName)).toBe(owner);
    for (const name of [
      ...metaServices.map((s) => s.typeName),
      FileAdminService.typeName,
      AppPasswordAuthService.typeName,
      "grpc.health.v1.Health",
      "constructor",
    ])
      expect(isPublicService(name)).toBe(false);
  });

  test("account calls of a signed-out user are public; every other call of a public service needs a user", () => {
    for (const [svc] of forwarded) {
      for (const m of svc.methods) {
        const open = svc === AccountService && signedOut.includes(m.name);
        expect([m.name, accessOf(svc.typeName, m.name)]).toEqual([m.name, open ? "public" : "user"]);
        expect([m.name, isPublicCall(`${svc.typeName}/${m.name}`)]).toEqual([m.name, open]);
      }
    }
    expect(accessOf(AccountService.typeName, "GetUserInfo")).toBe("user");
  });

  test("filestore.meta.v1's services, FileAdminService and AppPasswordAuthService are internal; health and reflection are public", () => {
    for (const svc of [...metaServices, FileAdminService, AppPasswordAuthService])
      for (const m of svc.methods) expect(accessOf(svc.typeName, m.name)).toBe("internal");
    expect(accessOf("grpc.health.v1.Health", "Check")).toBe("public");
    expect(accessOf("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo")).toBe("public");
  });
});
