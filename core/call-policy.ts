// Who may call which RPC: the one table the gateway (which services it forwards, which calls need no
// token) and every worker's auth interceptor (public, user or internal) both read.

/** Public: no credentials. User: a signed-in user's access token. Internal: the internal secret. */
export type Access = "public" | "user" | "internal";

/**
 * The services the gateway forwards, each to the worker that owns it. Services not listed (those of
 * filestore.meta.v1, FileAdminService, health, reflection) are never routed from outside.
 */
export const publicServices = {
  "filestore.account.v1.AccountService": "account",
  // Administrators only: the account worker checks the role in the database on every call.
  "filestore.admin.v1.AdminService": "account",
  "filestore.file.v1.FileService": "file",
  "filestore.upload.v1.UploadService": "upload",
  "filestore.download.v1.DownloadService": "download",
  "filestore.transfer.v1.TransferService": "transfer",
  // Share links (issue 18): the file worker owns the tree the links point into.
  "filestore.share.v1.ShareService": "file",
} as const;

export type ServiceOwner = (typeof publicServices)[keyof typeof publicServices];

/** Calls ("package.Service/Method") that need no access token. */
const publicCalls = new Set([
  "filestore.account.v1.AccountService/Signup",
  "filestore.account.v1.AccountService/Signin",
  "filestore.account.v1.AccountService/Refresh",
  "filestore.account.v1.AccountService/Signout",
  // Random session ids only, like the JWKS; what the gateway itself polls.
  "filestore.account.v1.AccountService/ListRevokedSessions",
  // Which signup form to show (open, invite code, closed).
  "filestore.account.v1.AccountService/GetSignupPolicy",
  // Anyone with a share link: the password (if any) and the share token in the request are the proof.
  "filestore.share.v1.ShareService/OpenShare",
  "filestore.share.v1.ShareService/ListShareItems",
  "filestore.share.v1.ShareService/CreateShareDownloadUrl",
]);

/** Services only other services may call, with the internal secret. */
const internalServices = new Set([
  "filestore.file.v1.FileAdminService",
  // Checks app passwords for the services that take HTTP Basic (WebDAV); never from outside.
  "filestore.account.v1.AppPasswordAuthService",
]);

/** Packages whose every service is internal: filestore.meta.v1 (the database's owner, a service per subject). */
const internalPackages = ["filestore.meta.v1."];

/** The worker that owns a service ("package.Service") the gateway forwards, else undefined. */
export const ownerOf = (service: string): ServiceOwner | undefined =>
  Object.hasOwn(publicServices, service) ? publicServices[service as keyof typeof publicServices] : undefined;

/** True when the gateway forwards calls of this service ("package.Service") to a worker. */
export const isPublicService = (service: string): boolean => ownerOf(service) !== undefined;

/** True for calls ("package.Service/Method") that need no access token. */
export const isPublicCall = (call: string): boolean => publicCalls.has(call);

/** Who may call a method. Anything not listed needs a signed-in user. */
export function accessOf(service: string, method: string): Access {
  if (service.startsWith("grpc.health.") || service.startsWith("grpc.reflection.")) return "public";
  if (internalServices.has(service) || internalPackages.some((p) => service.startsWith(p))) return "internal";
  if (isPublicCall(`${service}/${method}`)) return "public";
  return "user";
}
