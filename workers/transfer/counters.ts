// What the transfer worker did in this process since it started: plain monotonic counters, the shape a
// Prometheus exporter reads (filestore_transfer_<name>_total). Operators see them in the worker's log
// (a "transfer counts" line when they changed, and with every re-drive).

export interface TransferCounts {
  /** Jobs whose content was moved to S3 (verified and switched). */
  succeeded: number;
  /** Failed attempts that were scheduled to run again. */
  retried: number;
  /** Jobs that became dead letters. */
  deadLettered: number;
  /** Dead letters put back in the queue: by an operator (RetryDeadLetter) or when S3 answered again. */
  redriven: number;
}

export type TransferCounter = keyof TransferCounts;

export class TransferCounters {
  readonly #counts: TransferCounts = { succeeded: 0, retried: 0, deadLettered: 0, redriven: 0 };

  /** `onAdd`: told of every addition (the Prometheus counters, workers/lib/metrics/transfer.ts). */
  constructor(private readonly onAdd?: (counter: TransferCounter, n: number) => void) {}

  add(counter: TransferCounter, n = 1): void {
    this.#counts[counter] += n;
    this.onAdd?.(counter, n);
  }

  /** A copy: what a log line or an exporter reports. */
  snapshot(): TransferCounts {
    return { ...this.#counts };
  }
}

/** This process's counters (a worker may be given its own, as tests do). */
export const transferCounters = new TransferCounters();
