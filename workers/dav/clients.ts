// The services WebDAV is a client of: FileService for the tree, AccountService and the internal
// AppPasswordAuthService for Basic credentials, and the upload and download data planes for bytes. Each
// is a URL and a fetch (over the network in services mode, the in-process host in all-in-one mode), so
// WebDAV goes through exactly the paths (and checks) every other client does.
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AccountService, AppPasswordAuthService } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { ShareService } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { UploadService } from "../../proto/gen/filestore/upload/v1/upload_pb.ts";
import { internalCallerInterceptor } from "../lib/interceptors.ts";

export interface DavUpstream {
  url: string;
  fetch: (req: Request) => Promise<Response>;
}
export type DavUpstreams = Record<"account" | "file" | "upload" | "download", DavUpstream>;

export interface DavClients {
  files: Client<typeof FileService>;
  account: Client<typeof AccountService>;
  appAuth: Client<typeof AppPasswordAuthService>;
  /** Upload sessions (Nextcloud chunked uploads map onto them). */
  sessions: Client<typeof UploadService>;
  /** Share links as visitors see them (the file worker serves ShareService). */
  shares: Client<typeof ShareService>;
  upload: DavUpstream;
  download: DavUpstream;
}

function clientOf<S extends DescService>(service: S, up: DavUpstream, interceptors: Interceptor[] = []) {
  return createClient(
    service,
    createConnectTransport({
      baseUrl: up.url,
      useBinaryFormat: true,
      interceptors,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        up.fetch(new Request(input, init))) as typeof fetch,
    }),
  );
}

export function davClients(up: DavUpstreams, internalSecret: string): DavClients {
  return {
    files: clientOf(FileService, up.file),
    account: clientOf(AccountService, up.account),
    appAuth: clientOf(AppPasswordAuthService, up.account, [internalCallerInterceptor(internalSecret)]),
    sessions: clientOf(UploadService, up.upload),
    shares: clientOf(ShareService, up.file),
    upload: up.upload,
    download: up.download,
  };
}

/** Call options that act as the caller (its access token) and name the end client's address. */
export const asCaller = (token: string, clientIp: string) => ({
  headers: { authorization: `Bearer ${token}`, "x-forwarded-for": clientIp },
});
