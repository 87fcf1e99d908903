// The direct in-process transport answers as the encoding router transport does: the same messages, the
// server's interceptors on the headers the client's set (the internal secret), fresh server context values,
// errors as the wire carries them (code, message, reason; no cause), and the methods it was not told about
// going through the fallback.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createContextKey, type Interceptor } from "@connectrpc/connect";
import { Reason, reasonError, reasonOf } from "../../core/reasons.ts";
import {
  DownloadLinkService,
  GetDownloadTargetResponseSchema,
} from "../../proto/gen/filestore/meta/v1/links_pb.ts";
import { memoryTransport } from "./clients.ts";
import { authInterceptor, errorInterceptor } from "./interceptors.ts";
import { createLogger } from "./log.ts";
import type { ServiceModule } from "./server.ts";

const SECRET = "s".repeat(32);
const GET = `/${DownloadLinkService.typeName}/GetDownloadTarget`;
const seen = createContextKey<string>("");

/** DownloadLinkService answering from the request, failing with a reason for file "gone". */
function module(calls: { message: unknown; value: string }[]): ServiceModule {
  return {
    services: [DownloadLinkService],
    routes(router) {
      router.service(DownloadLinkService, {
        async getDownloadTarget(req, ctx) {
          calls.push({ message: req, value: ctx.values.get(seen) });
          if (req.fileId === "gone")
            throw reasonError("no such shared file", Code.NotFound, Reason.SHARE_NOT_FOUND);
          if (req.fileId === "boom") throw new Error("a secret detail");
          return { file: { id: req.fileId, name: `n-${req.shareId}` }, linkGeneration: 7n };
        },
        async revokeDownloadLinks(req) {
          calls.push({ message: req, value: "" });
          return { linkGeneration: 1n };
        },
        async listFolderTree() {
          return {};
        },
      });
    },
  };
}

function clients(serverSecret = SECRET) {
  const calls: { message: unknown; value: string }[] = [];
  // A server interceptor that records a context value a client might have set (it must not see it).
  const interceptors: Interceptor[] = [
    errorInterceptor(createLogger("test")),
    authInterceptor({
      verifier: { verify: async () => ({ userId: "u", username: "u", exp: 0 }) },
      internalSecret: serverSecret,
    }),
  ];
  const m = module(calls);
  const encoded = createClient(DownloadLinkService, memoryTransport(m, interceptors, SECRET));
  const direct = createClient(DownloadLinkService, memoryTransport(m, interceptors, SECRET, [GET]));
  return { calls, encoded, direct };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage, reason: reasonOf(e), cause: e.cause };
  }
  throw new Error("expected a failure");
}

describe("directTransport", () => {
  test("answers as the encoding transport does", async () => {
    const { encoded, direct } = clients();
    const req = { fileId: "f1", shareId: "s1" };
    const [a, b] = [await encoded.getDownloadTarget(req), await direct.getDownloadTarget(req)];
    expect(b).toEqual(a);
    expect(b.file?.name).toBe("n-s1");
    expect(b.linkGeneration).toBe(7n);
    expect(b).toEqual(create(GetDownloadTargetResponseSchema, a));
  });

  test("the server's interceptors check the header the client's set", async () => {
    const { encoded, direct } = clients("x".repeat(32));
    const want = await failure(encoded.getDownloadTarget({ fileId: "f1" }));
    expect(want.code).toBe(Code.PermissionDenied);
    expect(await failure(direct.getDownloadTarget({ fileId: "f1" }))).toEqual(want);
  });

  test("errors as the wire carries them: code, message and reason, never the cause", async () => {
    const { encoded, direct } = clients();
    const gone = await failure(direct.getDownloadTarget({ fileId: "gone" }));
    expect(gone).toEqual(await failure(encoded.getDownloadTarget({ fileId: "gone" })));
    expect(gone.reason).toBe(Reason.SHARE_NOT_FOUND);
    expect(gone.cause).toBeUndefined();
    const boom = await failure(direct.getDownloadTarget({ fileId: "boom" }));
    expect(boom.code).toBe(Code.Internal);
    expect(boom.message).not.toContain("secret detail");
    expect(boom.code).toBe((await failure(encoded.getDownloadTarget({ fileId: "boom" }))).code);
  });

  test("the server gets its own context values; other methods take the fallback", async () => {
    const { calls, direct } = clients();
    const values = (await import("@connectrpc/connect")).createContextValues();
    values.set(seen, "client's");
    const req = { fileId: "f2" };
    await direct.getDownloadTarget(req, { contextValues: values });
    expect(calls.at(-1)?.value).toBe("");
    await direct.revokeDownloadLinks({ ownerId: "o", fileId: "f2" });
    expect(calls.at(-1)?.message).toMatchObject({ ownerId: "o", fileId: "f2" });
  });

  test("a method the module does not serve is refused when the transport is made", () => {
    expect(() =>
      memoryTransport(module([]), [], SECRET, ["/filestore.meta.v1.DownloadLinkService/Nope"]),
    ).toThrow(/no unary method/);
  });
});
