// Progress of a long stage, as a user reads it:
//   on a terminal, one line rewritten in place (count, rate, ETA, detail);
//   otherwise (a log file, CI), a plain line every `everySeconds`;
//   and always a last line with the stage's wall time.
// Writes to stderr, so stdout stays the command's result.

export interface ProgressLineOptions {
  /** What is counted ("steps", "documents"). */
  unit: string;
  /** The count at which the stage is done, when known. */
  total?: number;
  /** Seconds between plain lines when not on a terminal (default 15; TTTNN_PROGRESS_SECONDS overrides). */
  everySeconds?: number;
  stream?: NodeJS.WriteStream;
}

export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly everyMs: number;
  private readonly started = performance.now();
  /** The count when this run started (a resumed stage's rate counts only this run's work). */
  private first: number | undefined;
  private lastWrite = -Infinity;
  private shown = false;
  total: number | undefined;

  constructor(
    private readonly label: string,
    private readonly options: ProgressLineOptions,
  ) {
    this.stream = options.stream ?? process.stderr;
    this.live = this.stream.isTTY === true;
    const env = Number(process.env['TTTNN_PROGRESS_SECONDS']);
    this.everyMs = 1000 * (Number.isFinite(env) && env >= 0 ? env : (options.everySeconds ?? 15));
    this.total = options.total;
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The line for `done` units: "label 120/400 steps, 3.1 steps/s, ETA 1m30s, detail". */
  format(done: number, detail = ''): string {
    this.first ??= done;
    const rate = (done - this.first) / Math.max(this.seconds, 1e-9);
    const parts = [`${this.label} ${done}${this.total === undefined ? '' : `/${this.total}`} ${this.options.unit}`];
    if (done > this.first) parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)} ${this.options.unit}/s`);
    if (this.total !== undefined && done > this.first) parts.push(`ETA ${formatDuration((this.total - done) / rate)}`);
    if (detail) parts.push(detail);
    return parts.join(', ');
  }

  /** Reports `done` units (of `total`, when it is known only now); throttled (4 per second on a terminal, every `everySeconds` otherwise). */
  update(done: number, detail = '', total = this.total): void {
    this.total = total;
    const line = this.format(done, detail);
    const now = performance.now();
    if (now - this.lastWrite < (this.live ? 250 : this.everyMs)) return;
    this.lastWrite = now;
    if (this.live) {
      this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, (this.stream.columns ?? 120) - 1))}`);
      this.shown = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** A permanent line (the live line is cleared first and redrawn by the next update). */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  /** Ends the stage: clears the live line and prints `summary` with the wall time. */
  finish(summary: string): void {
    this.clear();
    this.stream.write(`${this.label}: ${summary} (${formatDuration(this.seconds)})\n`);
  }

  private clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
    if (this.live) this.lastWrite = -Infinity;
  }
}

/** 75 -> "1m15s", 3700 -> "1h01m", 9.4 -> "9.4s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
