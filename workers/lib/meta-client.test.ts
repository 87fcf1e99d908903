// The merged meta client: every method of every filestore.meta.v1 service, each calling its own service.
import { describe, expect, test } from "bun:test";
import { createConnectRouter, createRouterTransport } from "@connectrpc/connect";
import { metaModule } from "../meta/service.ts";
import { createMetaClient, type MetaClient, metaServices } from "./meta-client.ts";

describe("meta client", () => {
  test("the services share no method name, and the client has each of them", () => {
    const names = metaServices.flatMap((s) => s.methods.map((m) => m.localName));
    expect(new Set(names).size).toBe(names.length);
    const client = createMetaClient(createRouterTransport(() => {}));
    expect(Object.keys(client).sort()).toEqual([...names].sort());
    for (const name of names) expect(typeof client[name as keyof MetaClient]).toBe("function");
  });

  test("the meta worker serves every method of these services", () => {
    // No database is touched: the module only registers its handlers here.
    const mod = metaModule({} as Parameters<typeof metaModule>[0]);
    const router = createConnectRouter();
    mod.routes(router);
    const expected = metaServices.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`));
    expect(router.handlers.map((h) => h.requestPath).sort()).toEqual(expected.sort());
    expect(mod.services.map((s) => s.typeName)).toEqual(metaServices.map((s) => s.typeName));
  });

  test("each method reaches its own service", async () => {
    const seen: string[] = [];
    const transport = createRouterTransport((r) => {
      for (const s of metaServices)
        r.service(
          s,
          Object.fromEntries(
            s.methods.map((m) => [
              m.localName,
              () => {
                seen.push(`${s.typeName}/${m.name}`);
                return {};
              },
            ]),
          ),
        );
    });
    const meta = createMetaClient(transport);
    await meta.touchUser({ id: "u" });
    await meta.getBlob({ sha256: "a" });
    await meta.listTrash({ ownerId: "o" });
    await meta.deleteUploadSession({ id: "s" });
    await meta.countTransferJobs({});
    await meta.revokeDownloadLinks({});
    expect(seen).toEqual([
      "filestore.meta.v1.UserService/TouchUser",
      "filestore.meta.v1.ContentService/GetBlob",
      "filestore.meta.v1.TreeService/ListTrash",
      "filestore.meta.v1.UploadSessionService/DeleteUploadSession",
      "filestore.meta.v1.TransferJobService/CountTransferJobs",
      "filestore.meta.v1.DownloadLinkService/RevokeDownloadLinks",
    ]);
  });
});
