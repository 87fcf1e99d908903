// TransferService over an in-memory transport with the real interceptors: WatchTransfers streams are
// capped per operator, and every way a stream ends gives its place back.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { TransferService } from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { openSqliteQueue } from "../lib/queue/sqlite.ts";
import type { Queue } from "../lib/queue/types.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { transferModule } from "./service.ts";

const [local] = testBlobStores();

describe("TransferService.WatchTransfers", () => {
  let f: UploadFixture;
  let dir: string;
  let queue: Queue;
  let watches: StreamLimit;
  let client: ReturnType<typeof createClient<typeof TransferService>>;

  beforeEach(async () => {
    f = await openUploadFixture(local as NonNullable<typeof local>);
    dir = mkdtempSync(join(tmpdir(), "filestore-transfer-routes-"));
    queue = openSqliteQueue(join(dir, "queue.db"), "transfer", {
      visibilityMs: 60_000,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
    });
    watches = new StreamLimit(2);
    const mod = transferModule({
      meta: f.deps.meta,
      queue,
      now: Date.now,
      admins: ["op", "other-op"],
      canMove: false,
      kick: async () => {},
      pollMs: 20,
      watches,
    });
    // The test verifier takes the bearer token for the user's id and name.
    const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
    const interceptors = [
      errorInterceptor(createLogger("test")),
      authInterceptor({ verifier, internalSecret: f.secret }),
    ];
    client = createClient(
      TransferService,
      createRouterTransport((r) => mod.routes(r), { router: { interceptors } }),
    );
  });
  afterEach(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
    await f.close();
  });

  /** A stream as `who`; `ended` resolves with its error, undefined when we aborted it. */
  const open = (who: string) => {
    const stop = new AbortController();
    const ended = (async () => {
      try {
        for await (const _ of client.watchTransfers(
          {},
          { headers: { authorization: `Bearer ${who}` }, signal: stop.signal },
        ));
        return new ConnectError("the stream ended by itself");
      } catch (err) {
        return stop.signal.aborted ? undefined : ConnectError.from(err);
      }
    })();
    return { stop, ended };
  };
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await Bun.sleep(10);
    return check();
  };

  test("at most 2 open streams per operator; an aborted one makes room; nothing stays counted", async () => {
    const a = open("op");
    const b = open("op");
    expect(await until(() => watches.count("op") === 2)).toBe(true);
    const refused = await open("op").ended;
    expect([refused?.code, refused?.rawMessage]).toEqual([
      Code.ResourceExhausted,
      "too many open watches: close other tabs or clients (limit 2)",
    ]);
    const c = open("other-op"); // another operator has their own
    a.stop.abort();
    expect(await a.ended).toBeUndefined();
    expect(watches.count("op")).toBe(1);
    const d = open("op");
    expect(await until(() => watches.count("op") === 2)).toBe(true);
    // A caller who may not watch is refused before anything is counted.
    expect((await open("mallory").ended)?.code).toBe(Code.PermissionDenied);
    for (const s of [b, c, d]) s.stop.abort();
    await Promise.all([b, c, d].map((s) => s.ended));
    expect(watches.users()).toBe(0);
  });
});
