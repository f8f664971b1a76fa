import { RunFolder, writeFileAtomic } from '@introdl/core';
import { loadModel } from '../model-store.js';
import { type DigitsDataset, loadDigits } from './data.js';
import { evaluateDigits } from './evaluate.js';
import { writeTestGrid } from './grid-from-model.js';

/** `introdl lab2 evaluate` for a Part 1 model: test loss and accuracy, and the prediction grid. */
export async function evaluateDigitCheckpoint(options: {
  checkpoint: string;
  dataDir?: string;
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
}) {
  const model = loadModel(options.checkpoint, ['fc', 'cnn']);
  try {
    const dataset = (model.config.dataset as DigitsDataset | undefined) ?? 'fashion-mnist';
    const test = await loadDigits({ dataset, split: 'test', dir: options.dataDir });
    const run = RunFolder.create({
      lab: 'lab2-vision',
      command: 'introdl lab2 evaluate',
      config: { checkpoint: model.checkpoint, model: model.kind, dataset },
      seed: options.seed,
      backend: options.backend,
      device: options.device,
      out: options.out,
    });
    const metrics = evaluateDigits(model.layers!, test);
    const grid = await writeTestGrid(model.layers!, test, run.output('predictions.png'), model.kind.toUpperCase());
    await writeFileAtomic(
      run.output('metrics.json'),
      `${JSON.stringify({ model: model.kind, dataset, ...metrics }, null, 2)}\n`,
    );
    run.finish('completed', { ...metrics });
    return { kind: model.kind, ...metrics, grid: grid.file, runDir: run.dir };
  } finally {
    model.dispose();
  }
}
