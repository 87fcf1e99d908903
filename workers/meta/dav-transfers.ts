// filestore.meta.v1.DavTransferService: the Nextcloud chunked uploads (v2) in flight, in the database where
// every WebDAV replica sees them (workers/dav/chunked.ts). A row is created by MKCOL, tied to its upload
// session by the first chunk (compare-and-set: the first of two racing replicas wins, the other aborts its
// session), read by every chunk and by MOVE, deleted at completion or abort. It lives a day from MKCOL,
// then as long as its session; expired rows are ignored by every read and swept when one is created.
import type { ServiceImpl } from "@connectrpc/connect";
import type { DavTransferService } from "../../proto/gen/filestore/meta/v1/dav_transfers_pb.ts";
import { alreadyExists, invalidArgument, notFound, resourceExhausted } from "../lib/errors.ts";
import { isUniqueViolation } from "./db/database.ts";
import type { DavTransfersTable } from "./db/schema.ts";
import type { MetaDeps } from "./records.ts";

/** How long an upload folder without chunks lives (Nextcloud's own expiry of upload folders). */
export const TRANSFER_MS = 86_400_000;
/** Unexpired transfers one user may have open. */
export const MAX_TRANSFERS_PER_USER = 1000;
const MAX_ID_BYTES = 200;

const transferOf = (r: DavTransfersTable) => ({
  transferId: r.transfer_id,
  sessionId: r.session_id,
  total: r.total === null ? undefined : BigInt(r.total),
  partSize: BigInt(r.part_size),
  partCount: Number(r.part_count),
  expiresAtMs: BigInt(r.expires_at),
});

function checkKey(req: { ownerId: string; transferId: string }) {
  if (!req.ownerId || !req.transferId) throw invalidArgument("owner_id and transfer_id are required");
  if (Buffer.byteLength(req.transferId) > MAX_ID_BYTES)
    throw invalidArgument(`a transfer id is at most ${MAX_ID_BYTES} bytes`);
}

export function davTransferService({ db, now }: MetaDeps): ServiceImpl<typeof DavTransferService> {
  /** The owner's unexpired transfer of that id, or NotFound. */
  const find = async (req: { ownerId: string; transferId: string }) => {
    checkKey(req);
    const row = await db
      .selectFrom("dav_transfers")
      .selectAll()
      .where("owner_id", "=", req.ownerId)
      .where("transfer_id", "=", req.transferId)
      .where("expires_at", ">", now())
      .executeTakeFirst();
    if (!row) throw notFound("no such transfer (completed, aborted, expired, or not yours)");
    return row;
  };
  return {
    async createDavTransfer(req) {
      checkKey(req);
      if (req.total !== undefined && req.total < 0n) throw invalidArgument("total may not be negative");
      const at = now();
      await db.deleteFrom("dav_transfers").where("expires_at", "<=", at).execute();
      const open = await db
        .selectFrom("dav_transfers")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("owner_id", "=", req.ownerId)
        .executeTakeFirstOrThrow();
      if (Number(open.n) >= MAX_TRANSFERS_PER_USER)
        throw resourceExhausted(`a user has at most ${MAX_TRANSFERS_PER_USER} chunked uploads open`);
      const row: DavTransfersTable = {
        owner_id: req.ownerId,
        transfer_id: req.transferId,
        session_id: "",
        total: req.total === undefined ? null : Number(req.total),
        part_size: 0,
        part_count: 0,
        expires_at: at + TRANSFER_MS,
        created_at: at,
      };
      try {
        await db.insertInto("dav_transfers").values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists("a transfer of that id exists");
        throw err; // an unknown owner (foreign key) among them: internal callers pass real users
      }
      return { transfer: transferOf(row) };
    },
    async getDavTransfer(req) {
      return { transfer: transferOf(await find(req)) };
    },
    async setDavTransferSession(req) {
      checkKey(req);
      if (!req.sessionId) throw invalidArgument("session_id is required");
      if (req.total < 0n || req.partSize <= 0n || req.partCount <= 0)
        throw invalidArgument("total, part_size and part_count describe the session");
      // Only a transfer without a session takes one: of two first chunks on two replicas, one wins.
      await db
        .updateTable("dav_transfers")
        .set({
          session_id: req.sessionId,
          total: Number(req.total),
          part_size: Number(req.partSize),
          part_count: req.partCount,
          expires_at: Number(req.expiresAtMs),
        })
        .where("owner_id", "=", req.ownerId)
        .where("transfer_id", "=", req.transferId)
        .where("session_id", "=", "")
        .where("expires_at", ">", now())
        .execute();
      return { transfer: transferOf(await find(req)) };
    },
    async deleteDavTransfer(req) {
      const row = await find(req);
      await db
        .deleteFrom("dav_transfers")
        .where("owner_id", "=", row.owner_id)
        .where("transfer_id", "=", row.transfer_id)
        .execute();
      return { transfer: transferOf(row) };
    },
  };
}
