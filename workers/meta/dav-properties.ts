// filestore.meta.v1.DavPropertyService: WebDAV dead properties of a user's entries (PROPPATCH), stored
// verbatim; a patch is applied in one transaction, so a PROPPATCH is all or nothing (RFC 4918 9.2).
import type { ServiceImpl } from "@connectrpc/connect";
import type { DavPropertyService } from "../../proto/gen/filestore/meta/v1/dav_pb.ts";
import { invalidArgument, notFound, resourceExhausted } from "../lib/errors.ts";
import { listDavEntries, propertiesOf } from "./dav-listing.ts";
import type { Db } from "./db/database.ts";
import { transact } from "./db/transact.ts";
import type { MetaDeps } from "./records.ts";
import { fileOp } from "./tree-service.ts";

export const MAX_DAV_VALUE_BYTES = 65_536;
export const MAX_DAV_PROPERTIES = 256;
const MAX_NAME = 255;
const MAX_IDS = 1000;

function checkName(ns: string, name: string) {
  if (!name) throw invalidArgument("a property needs a name");
  if ([...ns].length > MAX_NAME || [...name].length > MAX_NAME)
    throw invalidArgument(`a property's namespace and name are at most ${MAX_NAME} characters`);
}

async function requireEntry(tx: Db, ownerId: string, fileId: string) {
  if (fileId === "") return;
  const row = await tx
    .selectFrom("files")
    .select("id")
    .where("id", "=", fileId)
    .where("owner_id", "=", ownerId)
    .where("status", "=", "active")
    .executeTakeFirst();
  if (!row) throw notFound("no such file or folder");
}

const DAY_MS = 86_400_000;

export function davPropertyService({ db, now }: MetaDeps): ServiceImpl<typeof DavPropertyService> {
  return {
    async setModifiedTime(req) {
      if (!req.ownerId || !req.fileId) throw invalidArgument("owner_id and file_id are required");
      const at = Number(req.modifiedAtMs);
      if (at < 0 || at > now() + DAY_MS)
        throw invalidArgument("the modification time must be after 1970 and at most a day ahead");
      const r = await db
        .updateTable("files")
        .set({ updated_at: at })
        .where("id", "=", req.fileId)
        .where("owner_id", "=", req.ownerId)
        .where("status", "=", "active")
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw notFound("no such file or folder");
      return {};
    },
    async listDavProperties(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      if (req.fileIds.length > MAX_IDS) throw invalidArgument(`at most ${MAX_IDS} file_ids`);
      return { properties: await propertiesOf(db, req.ownerId, req.fileIds) };
    },
    async listDavEntries(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      return fileOp(() => listDavEntries(db, req));
    },
    async patchDavProperties(req) {
      if (!req.ownerId) throw invalidArgument("owner_id is required");
      for (const p of req.set) {
        checkName(p.namespace, p.name);
        if (Buffer.byteLength(p.value) > MAX_DAV_VALUE_BYTES)
          throw invalidArgument(`a property's value is at most ${MAX_DAV_VALUE_BYTES} bytes`);
      }
      for (const p of req.remove) checkName(p.namespace, p.name);
      await transact(db, async (tx) => {
        await requireEntry(tx, req.ownerId, req.fileId);
        const mine = (q: ReturnType<typeof tx.deleteFrom<"dav_properties">>) =>
          q.where("owner_id", "=", req.ownerId).where("file_id", "=", req.fileId);
        for (const p of [...req.remove, ...req.set])
          await mine(tx.deleteFrom("dav_properties"))
            .where("namespace", "=", p.namespace)
            .where("name", "=", p.name)
            .execute();
        if (req.set.length > 0)
          await tx
            .insertInto("dav_properties")
            .values(
              req.set.map((p) => ({
                owner_id: req.ownerId,
                file_id: req.fileId,
                namespace: p.namespace,
                name: p.name,
                value: p.value,
              })),
            )
            .execute();
        const { n } = await tx
          .selectFrom("dav_properties")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("owner_id", "=", req.ownerId)
          .where("file_id", "=", req.fileId)
          .executeTakeFirstOrThrow();
        if (Number(n) > MAX_DAV_PROPERTIES)
          throw resourceExhausted(`an entry holds at most ${MAX_DAV_PROPERTIES} properties`);
      });
      return {};
    },
  };
}
