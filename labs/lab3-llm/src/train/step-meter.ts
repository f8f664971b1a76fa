/**
 * Throughput and memory of training steps, for the progress line and log.jsonl: tokens per second
 * (real tokens, not padding) over the time the steps themselves take (validation excluded), and the
 * process's peak resident memory so far, which is what decides whether a model fits a machine.
 */

/** The process's peak resident set size so far, in bytes (the OS's high-water mark). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export class StepMeter {
  private started = 0;
  private excluded = 0;
  private tokens = 0;
  /** Tokens and seconds of the steps so far. */
  private totalTokens = 0;
  private totalSeconds = 0;
  /** The last step's rate. */
  private lastRate = 0;

  /** A step starts with `tokens` real tokens. */
  start(tokens: number): void {
    this.started = performance.now();
    this.excluded = 0;
    this.tokens = tokens;
  }

  /** Time spent on something else within the step (validation, samples), not counted. */
  exclude(ms: number): void {
    this.excluded += ms;
  }

  /** The step is over. */
  end(): void {
    if (!this.started) return;
    const seconds = Math.max(1e-9, (performance.now() - this.started - this.excluded) / 1000);
    this.totalTokens += this.tokens;
    this.totalSeconds += seconds;
    this.lastRate = this.tokens / seconds;
    this.started = 0;
  }

  /** Mean tokens per second over all steps so far. */
  tokensPerSecond(): number {
    return this.totalSeconds > 0 ? this.totalTokens / this.totalSeconds : 0;
  }

  /** `812 tok/s  peak 1.42 GB` */
  text(): string {
    return `${this.lastRate.toFixed(0)} tok/s  peak ${(peakRssBytes() / 1e9).toFixed(2)} GB`;
  }

  /** The values logged with each step. */
  values(): Record<string, number> {
    return {
      tokens: this.tokens,
      tokens_per_s: Math.round(this.lastRate * 10) / 10,
      peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20),
    };
  }
}
