// Nextcloud chunked uploads (v2) in flight: a client's transfer id (the upload folder it made with MKCOL)
// to the upload session its chunks go into. Kept in this process's memory, bounded and expiring with the
// session: one WebDAV worker per deployment serves them (a second replica, or a restart, does not see a
// transfer begun elsewhere; the client then gets 404 for the folder and starts over). A shared store
// (a meta table) would lift that; see docs/architecture.md.
import { ExpiringCache } from "../../core/cache.ts";

export interface Transfer {
  /** The upload session, once the first chunk fixed its part size. */
  sessionId?: string;
  /** While the first chunk creates the session: later chunks wait for it rather than make another. */
  creating?: Promise<string>;
  /** The whole file's size (OC-Total-Length), once known. */
  total?: bigint;
  partSize?: number;
  partCount?: number;
}

const DAY_MS = 86_400_000;

export class TransferStore {
  private readonly cache: ExpiringCache<string, Transfer>;
  constructor(
    maxTransfers = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new ExpiringCache(maxTransfers, now);
  }
  private key = (ownerId: string, id: string) => `${ownerId}\0${id}`;
  get(ownerId: string, id: string): Transfer | undefined {
    return this.cache.get(this.key(ownerId, id));
  }
  /** Records a transfer for a day (Nextcloud's own expiry of upload folders); returns it. */
  put(ownerId: string, id: string, t: Transfer = {}): Transfer {
    this.cache.set(this.key(ownerId, id), t, this.now() + DAY_MS);
    return t;
  }
  delete(ownerId: string, id: string): void {
    this.cache.delete(this.key(ownerId, id));
  }
}
