import { formatDuration } from '@introdl/core';

/** Where download progress goes: a terminal gets one redrawn bar, anything else a line now and then. */
export interface ByteProgressOptions {
  stream?: { write(s: string): boolean; isTTY?: boolean };
  mode?: 'tty' | 'plain' | 'silent';
}

/** Bytes as "12.3 MB". */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/**
 * A progress bar over the bytes of all the files of one model: the file being fetched, done/total,
 * rate and time left. Bytes already present (cached, or resumed) count as done but not in the rate.
 */
export class ByteProgress {
  private readonly stream: NonNullable<ByteProgressOptions['stream']>;
  private readonly mode: 'tty' | 'plain' | 'silent';
  private done = 0;
  private fetched = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastPlain = 0;
  private label = '';

  constructor(
    private readonly total: number,
    options: ByteProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode ?? (this.stream.isTTY ? 'tty' : 'plain');
  }

  /** Starts a file; `present` bytes of it are already on disk. */
  file(name: string, present = 0): void {
    this.label = name;
    this.done += present;
    this.draw(true);
  }

  /** `n` more bytes arrived. */
  add(n: number): void {
    this.done += n;
    this.fetched += n;
    this.draw(false);
  }

  /** Takes back bytes counted for a download that is being restarted. */
  retract(n: number): void {
    this.done -= n;
  }

  line(): string {
    const seconds = (performance.now() - this.start) / 1000;
    const rate = seconds > 0 ? this.fetched / seconds : 0;
    const left = rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
    const width = 20;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(width * frac);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}`.padEnd(width);
    return `downloading ${this.label} [${bar}] ${humanBytes(this.done)}/${humanBytes(this.total)}  ${humanBytes(rate)}/s  left ${formatDuration(left)}`;
  }

  private draw(force: boolean): void {
    if (this.mode === 'silent') return;
    const now = performance.now();
    if (this.mode === 'tty') {
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${this.line()}`);
    } else if (force || now - this.lastPlain > 10_000) {
      this.lastPlain = now;
      this.stream.write(`${this.line()}\n`);
    }
  }

  finish(): void {
    if (this.mode === 'tty') this.stream.write(`\r\x1b[2K${this.line()}\n`);
    else if (this.mode === 'plain') this.stream.write(`${this.line()}\n`);
  }
}
