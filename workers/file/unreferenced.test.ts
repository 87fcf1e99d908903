// "Blob unreferenced" events: when a purge drops the last reference to some content (PurgeFile,
// EmptyTrash through FileService, the trash retention of the GC pass), the file worker publishes it on
// topic "blobs" — once per content, and never for content another file still refers to. On both
// databases and both buses (memory always; Redis Streams when TEST_REDIS_URL is set — CI insists).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import type { Identity } from "../../core/access-token.ts";
import { FileService } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { storeForAll } from "../lib/blobstore/index.ts";
import { testBlobStores } from "../lib/blobstore/testing.ts";
import { testBuses } from "../lib/bus/testing.ts";
import type { EventBus } from "../lib/bus/types.ts";
import { authInterceptor, errorInterceptor } from "../lib/interceptors.ts";
import { createLogger } from "../lib/log.ts";
import { StreamLimit } from "../lib/stream-limit.ts";
import { testDatabases } from "../meta/db/testing.ts";
import { openUploadFixture, type UploadFixture } from "../upload/testing.ts";
import { storeUpload } from "../upload/upload.ts";
import { collectGarbage, purgeExpiredTrash } from "./gc.ts";
import { fileModule } from "./service.ts";
import { publishChanges, publishUnreferenced } from "./watch.ts";

const [local] = testBlobStores();
const buses = testBuses("unreferenced");

const DAY = 86_400_000;

for (const database of testDatabases())
  for (const [kind, openBus] of buses)
    describe(`blob-unreferenced events on ${database.dialect}, ${kind} bus`, () => {
      const clock = { now: 10 * DAY };
      let f: UploadFixture;
      let bus: EventBus;
      let alice: Identity;
      let files: ReturnType<typeof createClient<typeof FileService>>;
      let seen: string[];
      let stop: AbortController;
      let following: Promise<void>;

      beforeEach(async () => {
        f = await openUploadFixture(local as NonNullable<typeof local>, clock, database);
        alice = await f.user("alice");
        bus = openBus();
        const mod = fileModule({
          meta: f.deps.meta,
          bus,
          watches: new StreamLimit(3),
          onChange: publishChanges(bus),
          onUnreferenced: publishUnreferenced(bus),
          collectGarbage: () =>
            collectGarbage({ meta: f.deps.meta, storeFor: storeForAll(f.opened.store), graceMs: 0 }),
        });
        const verifier = { verify: async (token: string) => ({ userId: token, username: token, exp: 0 }) };
        const interceptors = [
          errorInterceptor(createLogger("test")),
          authInterceptor({ verifier, internalSecret: f.secret }),
        ];
        files = createClient(
          FileService,
          createRouterTransport((r) => mod.routes(r), { router: { interceptors } }),
        );
        // What topic "blobs" carries from now on.
        seen = [];
        stop = new AbortController();
        const deliveries = bus.subscribe("blobs", "", stop.signal);
        await bus.ready("blobs");
        following = (async () => {
          for await (const d of deliveries) seen.push(d.reload ? "RELOAD" : JSON.parse(d.body).sha256);
        })();
      });
      afterEach(async () => {
        stop.abort();
        await following;
        await bus.close();
        await f.close();
      });

      const headers = () => ({ headers: { authorization: `Bearer ${alice.userId}` } });
      const upload = async (name: string, text: string) =>
        storeUpload(f.deps, alice, { name, parentId: "" }, new Blob([text]).stream());
      const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");
      const until = async (n: number) => {
        for (let i = 0; i < 1000 && seen.length < n; i++) await Bun.sleep(10);
        return seen;
      };

      test("PurgeFile and EmptyTrash: the content whose last reference went, once each, nothing else", async () => {
        const a = await upload("a.txt", "shared");
        const b = await upload("b.txt", "shared"); // the same content: a second reference
        const c = await upload("c.txt", "own");
        for (const x of [a, b, c]) await files.deleteFile({ id: x?.id }, headers());
        await files.purgeFile({ id: a?.id }, headers()); // b still refers to "shared"
        await files.emptyTrash({}, headers());
        expect((await until(2)).toSorted()).toEqual([sha256("shared"), sha256("own")].toSorted());
        // A marker through the same bus: everything published before it has arrived, and nothing more.
        await bus.publish("blobs", JSON.stringify({ sha256: "marker" }));
        expect((await until(3)).at(-1)).toBe("marker");
        expect(seen).toHaveLength(3);
      });

      test("the trash retention of the GC pass publishes what its purge released", async () => {
        const old = await upload("old.txt", "old content");
        await files.deleteFile({ id: old?.id }, headers());
        clock.now += 31 * DAY;
        const purged = await purgeExpiredTrash({
          meta: f.deps.meta,
          storeFor: storeForAll(f.opened.store),
          graceMs: 0,
          trashRetentionMs: 30 * DAY,
          onUnreferenced: publishUnreferenced(bus),
        });
        expect(purged).toBe(1);
        expect(await until(1)).toEqual([sha256("old content")]);
      });
    });
