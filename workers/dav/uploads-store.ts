// Nextcloud chunked uploads (v2) in flight: a client's transfer id (the upload folder it made with MKCOL)
// to the upload session its chunks go into, kept by meta (DavTransferService, table dav_transfers) where
// every WebDAV replica sees them: a transfer begun on one replica is continued, and completed, on another
// or after a restart. A transfer lives a day from MKCOL, then as long as its upload session.
import { Code, ConnectError } from "@connectrpc/connect";
import type { DavTransfer } from "../../proto/gen/filestore/meta/v1/dav_transfers_pb.ts";
import type { MetaClient } from "../lib/meta-client.ts";

export interface Transfer {
  /** The upload session, once the first chunk fixed its part size. */
  sessionId?: string;
  /** The whole file's size (OC-Total-Length), once known. */
  total?: bigint;
  partSize?: number;
  partCount?: number;
}

/** What the first chunk's new session is: tied to the transfer unless another chunk tied one first. */
export interface NewSession {
  sessionId: string;
  total: bigint;
  partSize: number;
  partCount: number;
  expiresAtMs: number;
}

type TransferMeta = Pick<
  MetaClient,
  "createDavTransfer" | "getDavTransfer" | "setDavTransferSession" | "deleteDavTransfer"
>;

const transferOf = (t: DavTransfer | undefined): Transfer | undefined =>
  t && {
    sessionId: t.sessionId || undefined,
    total: t.total,
    partSize: t.sessionId ? Number(t.partSize) : undefined,
    partCount: t.sessionId ? t.partCount : undefined,
  };

/** undefined for NotFound (no such transfer), the error otherwise. */
async function orMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.NotFound) return undefined;
    throw err;
  }
}

export class TransferStore {
  /** First chunks creating a session on this replica: later chunks here wait for it rather than make another. */
  private readonly creating = new Map<string, Promise<Transfer | undefined>>();
  constructor(private readonly meta: TransferMeta) {}
  private key = (ownerId: string, id: string) => `${ownerId}\0${id}`;

  async get(ownerId: string, transferId: string): Promise<Transfer | undefined> {
    const r = await orMissing(this.meta.getDavTransfer({ ownerId, transferId }));
    return transferOf(r?.transfer);
  }

  /** Records a new transfer (MKCOL); false when the owner has one of that id. */
  async create(ownerId: string, transferId: string, total?: bigint): Promise<boolean> {
    try {
      await this.meta.createDavTransfer({ ownerId, transferId, total });
      return true;
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.AlreadyExists) return false;
      throw err;
    }
  }

  /**
   * The transfer with a session: `make` creates one (once per transfer on this replica at a time) and it
   * is tied to the transfer unless another replica tied one first — then the stored transfer is returned
   * and the caller aborts its own (its session id differs). undefined when the transfer went meanwhile.
   */
  withSession(ownerId: string, transferId: string, make: () => Promise<NewSession>) {
    const k = this.key(ownerId, transferId);
    let p = this.creating.get(k);
    if (!p) {
      p = make()
        .then(async (s) => {
          const req = { ownerId, transferId, ...s, partSize: BigInt(s.partSize) };
          const r = await orMissing(
            this.meta.setDavTransferSession({ ...req, expiresAtMs: BigInt(s.expiresAtMs) }),
          );
          return transferOf(r?.transfer);
        })
        .finally(() => this.creating.delete(k));
      this.creating.set(k, p);
    }
    return p;
  }

  /** Whether a first chunk on this replica is creating the transfer's session now. */
  pending(ownerId: string, transferId: string): boolean {
    return this.creating.has(this.key(ownerId, transferId));
  }

  /** Removes a transfer (completed or aborted); returns it, or undefined when there was none. */
  async delete(ownerId: string, transferId: string): Promise<Transfer | undefined> {
    const r = await orMissing(this.meta.deleteDavTransfer({ ownerId, transferId }));
    return transferOf(r?.transfer);
  }
}
