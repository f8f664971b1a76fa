import path from 'node:path';
import { BadFlagError, type CommandContext, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../src/commands.js';
import { writeFaceFile } from '../src/faces/write-face-file.js';
import { syntheticFaceSet, tempDir, writeDigitFixture, writePngChannels } from './fixtures.js';

/** Runs `introdl lab2 <name>` in process, capturing what it prints. */
async function run(name: string, options: Record<string, unknown>, args: string[] = []) {
  const spec = commands.commands.find((c) => c.name === name)!;
  const printed: string[] = [];
  const context: CommandContext = {
    seed: 1,
    debug: false,
    log: () => {},
    print: (m) => printed.push(m),
    out: options.out as string | undefined,
  };
  const code = await spec.run({ args, options, context });
  return { code, out: printed.join('\n') };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('introdl lab2 commands', () => {
  it('has the seven commands', () => {
    expect(commands.name).toBe('lab2');
    expect(commands.commands.map((c) => c.name)).toEqual([
      'data',
      'train',
      'evaluate',
      'predict',
      'build-dataset',
      'detect',
      'export',
    ]);
  });

  it('data, train, evaluate and predict on a small IDX set, and data --faces on a face file', async () => {
    const dir = tempDir();
    const data = writeDigitFixture(path.join(dir, 'idx'));
    const stats = await run('data', { data, dataset: 'fashion-mnist', json: true });
    expect(JSON.parse(stats.out).digits.splits[0]).toMatchObject({ split: 'train', images: 200 });

    const out = path.join(dir, 'fc');
    const trained = await run('train', {
      model: 'fc',
      data,
      dataset: 'fashion-mnist',
      epochs: '2',
      batchSize: '20',
      out,
      latentDim: '100',
      klWeight: '0.0005',
      sampleEvery: '100',
    });
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/test accuracy [01]\.\d{4}/);

    const evaluated = await run('evaluate', {
      checkpoint: [out],
      data,
      bootstrap: '2000',
      out: path.join(dir, 'eval'),
    });
    expect(evaluated.out).toMatch(/fc: test accuracy/);

    const predicted = await run('predict', { checkpoint: out, index: ['1', '2'], data, json: true });
    const list = JSON.parse(predicted.out);
    expect(list.map((p: { image: string }) => p.image)).toEqual(['test[1]', 'test[2]']);

    const shirt = path.join(dir, 'shirt.png');
    writePngChannels(shirt, 56, 40, 3, (x, y) => [(x * 4) % 256, (y * 6) % 256, 90]);
    const fromFile = await run('predict', { checkpoint: out, json: true }, [shirt]);
    const [one] = JSON.parse(fromFile.out);
    expect(one.image).toBe(shirt);
    expect(one.probabilities).toHaveLength(10);
    expect(one.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);

    const { bgr, labels } = syntheticFaceSet(3, 2);
    const faces = await writeFaceFile(path.join(dir, 'f.h5'), bgr, labels, { seed: 2 });
    const faceStats = await run('data', { faces, dataset: 'fashion-mnist' });
    expect(faceStats.out).toContain('5 images, 3 faces, 2 non-faces');
  });

  it('bad flags give clear errors', async () => {
    await expect(run('train', {})).rejects.toThrow(BadFlagError);
    await expect(run('train', { model: 'classifier' })).rejects.toThrow(/needs --faces FILE\.h5/);
    await expect(run('train', { model: 'fc', epochs: 'two' })).rejects.toThrow(/--epochs must be an integer/);
    await expect(run('predict', { checkpoint: tempDir(), index: ['x'] })).rejects.toThrow(
      /--index must be whole numbers/,
    );
    await expect(run('evaluate', {})).rejects.toThrow(/--checkpoint is required/);
  });
});
