/**
 * Progress for long work: on a terminal, one line redrawn in place with a bar, the loss, the rate
 * and the time left; otherwise (CI, a pipe, a log file) a plain line every `every` steps.
 */

export interface ProgressOptions {
  total: number;
  label?: string;
  /** Where to write; default process.stderr. */
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  /** Plain mode: print a line every this many steps (default total/20). */
  every?: number;
  /** Force plain or TTY mode. */
  mode?: 'tty' | 'plain' | 'silent';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

/** A progress display; call {@link Progress.update} after each step and {@link Progress.done} at the end. */
export class Progress {
  private readonly start = performance.now();
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly mode: 'tty' | 'plain' | 'silent';
  private readonly every: number;
  private lastDraw = 0;
  private firstStep: number | null = null;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode ?? (this.stream.isTTY ? 'tty' : 'plain');
    this.every = options.every ?? Math.max(1, Math.round(options.total / 20));
  }

  /** The line shown for `step` with the given values (exported for tests). */
  line(step: number, values: Record<string, number>, suffix?: string): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const done = step - (this.firstStep ?? 0);
    const rate = elapsed > 0 ? done / elapsed : 0;
    const left = rate > 0 ? (this.options.total - step) / rate : Number.POSITIVE_INFINITY;
    const width = 20;
    const filled = Math.round((width * step) / Math.max(1, this.options.total));
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}`.padEnd(width);
    const shown = Object.entries(values)
      .map(
        ([k, v]) =>
          `${k} ${Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4)}`,
      )
      .join('  ');
    const label = this.options.label ? `${this.options.label} ` : '';
    return `${label}step ${step}/${this.options.total} [${bar}] ${shown}  ${rate >= 1 ? `${rate.toFixed(1)} step/s` : `${(1 / Math.max(rate, 1e-9)).toFixed(2)} s/step`}${suffix ? `  ${suffix}` : ''}  elapsed ${formatDuration(elapsed)}  left ${formatDuration(left)}`;
  }

  /** Shows `step` with its values, and `suffix` (free text) after the rate. */
  update(step: number, values: Record<string, number>, suffix?: string): void {
    if (this.firstStep === null) this.firstStep = step - 1;
    if (this.mode === 'silent') return;
    if (this.mode === 'tty') {
      const now = performance.now();
      if (now - this.lastDraw < 100 && step < this.options.total) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${this.line(step, values, suffix)}`);
    } else if (step % this.every === 0 || step === this.options.total) {
      this.stream.write(`${this.line(step, values, suffix)}\n`);
    }
  }

  /** Prints a message without breaking the progress line. */
  note(message: string): void {
    if (this.mode === 'silent') return;
    this.stream.write(this.mode === 'tty' ? `\r\x1b[2K${message}\n` : `${message}\n`);
  }

  done(): void {
    if (this.mode === 'tty') this.stream.write('\n');
  }
}
