// An upload's hold on its owner's quota while its body arrives on a data plane (single PUT, form, the
// UploadFile stream): the announced size is held before the first byte is read (so a body that cannot fit
// is refused at once, 507, nothing stored); a body of unknown length is held in steps as it arrives and
// cut off at the limit. The file takes the hold over (AddFileWithContent.held_bytes); a failed upload gives
// it back. Each step is one conditional update in meta (QuotaService.ReserveUploadBytes).
import type { BlobBody } from "../lib/blobstore/types.ts";
import type { MetaClient } from "../lib/meta-client.ts";

const MiB = 1024 * 1024;
/** Steps of a body of unknown length grow with it (fewer updates), from 8 MiB up to 256 MiB at a time. */
const MIN_STEP = 8 * MiB;
const MAX_STEP = 256 * MiB;

export class QuotaHold {
  /** Bytes held now. */
  held = 0;

  constructor(
    private readonly meta: Pick<MetaClient, "reserveUploadBytes" | "releaseUploadBytes">,
    private readonly ownerId: string,
  ) {}

  /** Holds `bytes` more; ResourceExhausted (QUOTA_EXCEEDED) when they do not fit. */
  async reserve(bytes: number): Promise<void> {
    if (bytes <= 0) return;
    await this.meta.reserveUploadBytes({ ownerId: this.ownerId, bytes: BigInt(bytes) });
    this.held += bytes;
  }

  /**
   * Passes a body of unknown length on, holding ahead of what arrived: a step at a time, and exactly what
   * is missing when a step does not fit (the upload then fails at the limit, not before it).
   */
  async *meter(body: BlobBody): AsyncGenerator<Uint8Array> {
    let received = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      received += chunk.byteLength;
      if (received > this.held) {
        const step = Math.min(MAX_STEP, Math.max(MIN_STEP, this.held));
        await this.reserve(Math.max(step, received - this.held)).catch(() =>
          this.reserve(received - this.held),
        );
      }
      yield chunk;
    }
  }

  /** Gives back what is held (the upload failed); errors are left to the recount, which drops dead holds. */
  async release(): Promise<void> {
    const bytes = this.held;
    this.held = 0;
    if (bytes > 0)
      await this.meta
        .releaseUploadBytes({ ownerId: this.ownerId, bytes: BigInt(bytes) })
        .catch(() => undefined);
  }
}
