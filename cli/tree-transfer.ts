// What folder uploads and downloads share: files moved a few at a time (--jobs), one progress line for
// the whole tree, a tally, and the summary (files, bytes, skipped, failed). One file failing does not stop
// the others (the command then exits 1), except the server becoming unreachable, which ends it.
import { describe } from "./errors.ts";
import { unreachable as isUnreachable } from "./network.ts";
import { Limiter } from "./pool.ts";
import { type Bar, formatBytes, type Meter, Progress } from "./progress.ts";

export interface TreeSummary {
  source: string;
  destination: string;
  /** Files transferred, and their bytes. */
  files: number;
  bytes: number;
  /** Left out: excluded, symbolic links, special files, and files already identical at the destination. */
  skipped: number;
  failed: number;
  failures: { path: string; error: string }[];
}

/** A file's share of the tree's progress line: its bytes count, its own statuses are not shown. */
const share = (bar: Bar): Meter => ({
  status: () => {},
  finish: () => {},
  skip: (n) => bar.skip(n),
  advance: (n) => bar.advance(n),
});

export class TreeRun {
  readonly summary: TreeSummary;
  private readonly progress = new Progress(process.stderr);
  private readonly bar: Bar;
  private readonly notes: string[] = [];
  private settled = 0;

  constructor(
    source: string,
    destination: string,
    private readonly count: number,
    totalBytes: number,
  ) {
    this.summary = { source, destination, files: 0, bytes: 0, skipped: 0, failed: 0, failures: [] };
    this.bar = this.progress.add(source, totalBytes);
  }

  /** An entry left out; `why` is said on stderr unless it is only an --exclude at work. */
  skip(path: string, why: string): void {
    this.summary.skipped++;
    if (why !== "excluded") this.notes.push(`skipped ${path}: ${why}`);
  }

  /** An entry that cannot be transferred at all. */
  fail(path: string, error: string): void {
    this.summary.failed++;
    this.summary.failures.push({ path, error });
  }

  /** Runs `work` for each file, `jobs` at a time; it answers "skipped" when the file needed no transfer. */
  async each<T extends { rel: string; size: number }>(
    items: T[],
    jobs: number,
    work: (item: T, meter: Meter) => Promise<"done" | "skipped">,
  ): Promise<void> {
    const slots = new Limiter(jobs);
    // The server gone (after the retries): no point in trying the other files, and one line says so.
    let unreachable: { err: unknown } | undefined;
    this.bar.status(`0/${this.count} files`);
    await Promise.all(
      items.map((item) =>
        slots.run(async () => {
          if (unreachable) return;
          try {
            if ((await work(item, share(this.bar))) === "skipped") {
              this.summary.skipped++;
              this.bar.skip(item.size);
            } else {
              this.summary.files++;
              this.summary.bytes += item.size;
            }
          } catch (err) {
            if (isUnreachable(err)) unreachable ??= { err };
            else this.fail(item.rel, describe(err));
          }
          this.settled++;
          const failed = this.summary.failed ? `, ${this.summary.failed} failed` : "";
          this.bar.status(`${this.settled}/${this.count} files${failed}`);
        }),
      ),
    );
    if (unreachable) {
      this.progress.stop();
      throw unreachable.err;
    }
  }

  /** Stops the progress line, says what was skipped and what failed (stderr), and the exit code. */
  finish(out: (line: string) => void, json: boolean, verb: string): number {
    this.bar.finish("done");
    this.progress.stop();
    for (const note of this.notes) process.stderr.write(`filestore: ${note}\n`);
    const s = this.summary;
    for (const f of s.failures) process.stderr.write(`filestore: ${f.path}: ${f.error}\n`);
    if (json) out(JSON.stringify(s));
    else {
      out(
        `${verb} ${s.source} → ${s.destination}: ${s.files} file${s.files === 1 ? "" : "s"} (${formatBytes(s.bytes)}), ${s.skipped} skipped, ${s.failed} failed`,
      );
    }
    return s.failed > 0 ? 1 : 0;
  }
}
