import type { tf } from '@introdl/core';
import type { DigitsData } from './data.js';
import { predictProbabilities } from './evaluate.js';
import { type GridItem, writePredictionGrid } from './grid.js';

/** The prediction grid of the first `count` test images (the course shows a 5×4 grid). */
export async function writeTestGrid(
  model: tf.LayersModel,
  test: DigitsData,
  file: string,
  title: string,
  count = 20,
): Promise<{ file: string; wrong: number }> {
  const n = Math.min(count, test.n);
  const pixels = test.height * test.width;
  const probs = predictProbabilities(model, test.images.subarray(0, n * pixels), n);
  const items: GridItem[] = probs.map((p, i) => {
    const predicted = p.indexOf(Math.max(...p));
    return {
      pixels: test.images.subarray(i * pixels, (i + 1) * pixels),
      width: test.width,
      height: test.height,
      predicted,
      probability: p[predicted],
      truth: test.labels[i],
    };
  });
  return writePredictionGrid(items, test.classes, file, {
    title: `${title}: first ${n} ${test.dataset} test images, predicted (true)`,
  });
}
