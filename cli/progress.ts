// Progress of transfers, one bar per file: on a terminal a block of bars redrawn in place (at most ten
// times a second), elsewhere (logs, pipes, CI) plain lines — status changes and every 10 %.

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export interface BarState {
  label: string;
  total: number;
  done: number;
  /** Bytes that were already there (resumed): they count as done but not towards the speed. */
  skipped: number;
  status: string;
  /** When bytes started to move (epoch ms). */
  startedAt?: number;
  finished: boolean;
}

/** Bytes per second since the transfer started, not counting skipped bytes. */
export function speedOf(s: BarState, now: number): number {
  if (s.startedAt === undefined) return 0;
  const secs = (now - s.startedAt) / 1000;
  return secs > 0 ? (s.done - s.skipped) / secs : 0;
}

export const percentOf = (done: number, total: number) =>
  total === 0 ? 100 : Math.floor((done / total) * 100);

/** `label` cut (from the left: the end of a name tells most) or padded to `width` characters. */
const fit = (label: string, width: number) =>
  label.length > width ? `…${label.slice(label.length - width + 1)}` : label.padEnd(width);

/** One terminal line: label, bar, percentage, bytes, speed and time left (or the status). */
export function renderLine(s: BarState, width: number, now: number, labelWidth = 24): string {
  const pct = percentOf(s.done, s.total);
  const speed = speedOf(s, now);
  const eta = speed > 0 ? (s.total - s.done) / speed : Number.POSITIVE_INFINITY;
  const tail =
    s.finished || s.startedAt === undefined
      ? ` ${s.status}`
      : ` ${String(pct).padStart(3)}% ${formatBytes(s.done)}/${formatBytes(s.total)} ${formatBytes(speed)}/s ETA ${formatDuration(eta)}`;
  const barWidth = Math.max(10, Math.min(30, width - labelWidth - 60));
  const filled = Math.round((barWidth * Math.min(pct, 100)) / 100);
  return `${fit(s.label, labelWidth)} [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]${tail}`.slice(
    0,
    width,
  );
}

/** The 10 % step a plain-text log reports when progress goes from `before` to `after` bytes, if any. */
export function milestone(before: number, after: number, total: number, step = 10): number | undefined {
  const a = Math.floor(percentOf(before, total) / step);
  const b = Math.floor(percentOf(after, total) / step);
  return b > a ? b * step : undefined;
}

/** What a single transfer reports: a Bar of its own, or a share of a folder's (tree-transfer.ts). */
export interface Meter {
  status(text: string): void;
  /** Bytes already on the other side (resume): done, without moving the speed. */
  skip(bytes: number): void;
  advance(bytes: number): void;
  finish(text: string): void;
}

export class Bar implements Meter {
  readonly state: BarState;

  constructor(
    private readonly board: Progress,
    label: string,
    total: number,
  ) {
    this.state = { label, total, done: 0, skipped: 0, status: "waiting", finished: false };
  }

  status(text: string): void {
    this.state.status = text;
    this.board.changed(this, text);
  }

  /** Bytes already on the other side (resume): done, without moving the speed. */
  skip(bytes: number): void {
    this.state.done += bytes;
    this.state.skipped += bytes;
  }

  advance(bytes: number): void {
    this.state.startedAt ??= Date.now();
    const before = this.state.done;
    this.state.done += bytes;
    this.board.advanced(this, before);
  }

  finish(text: string): void {
    this.state.finished = true;
    this.status(text);
  }
}

export class Progress {
  private readonly bars: Bar[] = [];
  private drawn = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  readonly live: boolean;

  constructor(private readonly out: Output) {
    this.live = out.isTTY === true && process.env.TERM !== "dumb";
  }

  add(label: string, total: number): Bar {
    const bar = new Bar(this, label, total);
    this.bars.push(bar);
    if (this.live) this.schedule();
    return bar;
  }

  changed(bar: Bar, text: string): void {
    if (this.live) this.schedule();
    else this.out.write(`${bar.state.label}: ${text}\n`);
  }

  advanced(bar: Bar, before: number): void {
    if (this.live) {
      this.schedule();
      return;
    }
    const s = bar.state;
    if (milestone(before, s.done, s.total) !== undefined && !s.finished) {
      const pct = percentOf(s.done, s.total);
      this.out.write(`${s.label}: ${pct}% (${formatBytes(s.done)} of ${formatBytes(s.total)})\n`);
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  private draw(): void {
    const width = Math.max(40, (this.out.columns || Number(process.env.COLUMNS) || 80) - 1);
    const labels = Math.max(...this.bars.map((b) => b.state.label.length));
    const labelWidth = Math.max(8, Math.min(labels, Math.floor(width * 0.3)));
    const now = Date.now();
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    const lines = this.bars.map((b) => `\r\x1b[2K${renderLine(b.state, width, now, labelWidth)}\n`);
    this.out.write(up + lines.join(""));
    this.drawn = this.bars.length;
  }

  /** Draws the final state (call before printing anything else). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live && this.bars.length > 0) this.draw();
  }
}
