import { type PlotFiles, readLog, writeLossPlot } from '@introdl/core';

/**
 * The training curve of a run from its log.jsonl (so a resumed run plots its whole history):
 * the mean training loss over each interval between validations, and the held-out loss.
 */
export async function writeRunLossPlot(logPath: string, base: string, title: string): Promise<PlotFiles | undefined> {
  const entries = readLog(logPath).filter((e) => typeof e.step === 'number' && typeof e.loss === 'number');
  if (entries.length === 0) return undefined;
  const train: { step: number; value: number }[] = [];
  const heldOut: { step: number; value: number }[] = [];
  let window: number[] = [];
  const every = Math.max(1, Math.round(entries.length / 50));
  entries.forEach((e, i) => {
    window.push(e.loss as number);
    const validated = typeof e.val_loss === 'number';
    if (validated) heldOut.push({ step: e.step as number, value: e.val_loss as number });
    if (validated || (i + 1) % every === 0 || i === entries.length - 1) {
      train.push({ step: e.step as number, value: window.reduce((a, b) => a + b, 0) / window.length });
      window = [];
    }
  });
  return writeLossPlot(
    {
      title,
      yLabel: 'cross-entropy per character (nats)',
      series: [
        { name: 'train', points: train },
        { name: 'held-out', points: heldOut },
      ],
    },
    base,
  );
}
