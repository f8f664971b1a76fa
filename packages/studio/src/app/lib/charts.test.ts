import { describe, expect, it } from 'vitest';
import { lossPoints } from '../pages/runs.js';
import { binCounts, ticks } from './charts.js';

describe('chart helpers', () => {
  it('picks round ticks that cover the range', () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(1, 800)).toEqual([200, 400, 600, 800]);
    expect(ticks(3, 3)).toEqual([3]);
  });

  it('counts values into equal bins, the top edge in the last bin, out-of-range values nowhere', () => {
    expect(binCounts([0, 0.1, 0.5, 0.99, 1, 1.5, Number.NaN], 2, 0, 1)).toEqual([2, 3]);
  });

  it('plots loss and every *loss* number of a log line, flat or under metrics', () => {
    expect(
      lossPoints({ step: 3, loss: 2.5, lr: 0.01, val_loss: 2.7, metrics: { valLoss: 2.6, accuracy: 0.5 } }),
    ).toEqual({
      loss: 2.5,
      val_loss: 2.7,
      valLoss: 2.6,
    });
  });
});
