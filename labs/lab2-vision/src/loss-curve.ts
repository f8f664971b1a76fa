/**
 * Thousands of per-step losses make a noisy, heavy plot; the course smooths them with an
 * exponential moving average. This keeps at most `points` points, each the mean over its window.
 */
export function windowedLosses(
  losses: { step: number; loss: number }[],
  points = 100,
): { step: number; value: number }[] {
  const size = Math.max(1, Math.ceil(losses.length / points));
  const out: { step: number; value: number }[] = [];
  for (let i = 0; i < losses.length; i += size) {
    const window = losses.slice(i, i + size);
    out.push({ step: window[window.length - 1].step, value: window.reduce((a, l) => a + l.loss, 0) / window.length });
  }
  return out;
}
