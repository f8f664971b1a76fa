import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../checkpoint/safetensors.js';
import { MiniBatches } from '../data/batches.js';
import { EarlyStopping } from '../foundations/early-stopping.js';
import { softmaxCrossEntropy } from '../foundations/losses.js';
import { Adam } from '../foundations/optimizers.js';
import { mlp } from '../foundations/sequential.js';
import { Rng } from '../rng.js';
import { RunFolder, readLog } from '../run/run-folder.js';
import { Progress } from './progress.js';
import { Trainer } from './trainer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.resolve(here, '../../test/fixtures/train-run.mjs');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'introdl-train-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function train(runDir: string, ...flags: string[]) {
  return spawnSync(process.execPath, [script, runDir, ...flags], { encoding: 'utf8', timeout: 120_000 });
}

describe('resume exactness', () => {
  it('50 steps, SIGKILL, resume, 50 more equals 100 straight steps to the last bit', () => {
    const straight = tmp();
    const first = train(straight);
    expect(first.status, first.stderr).toBe(0);

    const interrupted = tmp();
    const killed = train(interrupted, '--kill-at', '60');
    expect(killed.signal).toBe('SIGKILL');
    // killed after step 60: the checkpoint of step 50 exists, no final one, and the run says running
    expect(existsSync(path.join(interrupted, 'checkpoints', '50', 'state.json'))).toBe(true);
    expect(existsSync(path.join(interrupted, 'checkpoints', '100'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(interrupted, 'run.json'), 'utf8')).status).toBe('running');

    const resumed = train(interrupted, '--resume');
    expect(resumed.status, resumed.stderr).toBe(0);

    const a = readSafetensors(path.join(straight, 'checkpoints', '100', 'weights.safetensors')).tensors;
    const b = readSafetensors(path.join(interrupted, 'checkpoints', '100', 'weights.safetensors')).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a)
      expect(Buffer.from(b.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    const oa = readSafetensors(path.join(straight, 'checkpoints', '100', 'optimizer.safetensors')).tensors;
    const ob = readSafetensors(path.join(interrupted, 'checkpoints', '100', 'optimizer.safetensors')).tensors;
    for (const [name, t] of oa)
      expect(Buffer.from(ob.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);

    // the log holds each step once, with the same losses as the straight run
    const la = readLog(path.join(straight, 'log.jsonl'));
    const lb = readLog(path.join(interrupted, 'log.jsonl'));
    expect(lb.map((e) => e.step)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(lb.map((e) => e.loss)).toEqual(la.map((e) => e.loss));
  });
});

describe('Trainer', () => {
  const data = () => {
    const rng = new Rng(2);
    const n = 200;
    const x = new Float32Array(n * 4).map(() => rng.normal());
    const y = new Int32Array(n).map((_, i) => (x[i * 4] > 0 ? 1 : 0));
    return new MiniBatches(x, y, [4], 20, 1);
  };

  it('lowers the loss, logs every step and writes checkpoints into the run folder', async () => {
    const batches = data();
    const model = mlp([4, 8, 2], { seed: 1 });
    const run = RunFolder.create({ lab: 'test', command: 'test', config: {}, seed: 1, out: tmp() });
    const trainer = new Trainer({
      model,
      optimizer: new Adam(0.05),
      data: (step) => batches.batch(step),
      loss: (b: { x: tf.Tensor; y: tf.Tensor }) => softmaxCrossEntropy(b.y, model.apply(b.x)) as tf.Scalar,
      steps: 60,
      checkpointEvery: 20,
      run,
      progress: 'silent',
    });
    const result = await trainer.fit();
    expect(result.step).toBe(60);
    const first = result.losses.slice(0, 5).reduce((a, l) => a + l.loss, 0) / 5;
    const last = result.losses.slice(-5).reduce((a, l) => a + l.loss, 0) / 5;
    expect(last).toBeLessThan(first * 0.5);
    const log = readLog(run.logPath);
    expect(log).toHaveLength(60);
    expect(Object.keys(log[0])).toEqual(expect.arrayContaining(['step', 'loss', 'lr', 'elapsed']));
    for (const s of [20, 40, 60])
      expect(existsSync(path.join(run.checkpointsDir, String(s), 'weights.safetensors'))).toBe(true);
  });

  it('stops early and restores the best weights', async () => {
    const batches = data();
    const model = mlp([4, 8, 2], { seed: 1 });
    // A validation metric that improves twice, then gets worse: stop after `patience` bad checks.
    const scripted = [0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    let calls = 0;
    const trainer = new Trainer({
      model,
      optimizer: new Adam(0.05),
      data: (step) => batches.batch(step),
      loss: (b: { x: tf.Tensor; y: tf.Tensor }) => softmaxCrossEntropy(b.y, model.apply(b.x)) as tf.Scalar,
      steps: 70,
      validation: { every: 10, fn: () => ({ val_loss: scripted[calls++] }) },
      earlyStopping: new EarlyStopping({ patience: 2 }),
      progress: 'silent',
    });
    const result = await trainer.fit();
    expect(result.stoppedEarly).toBe(true);
    expect(result.step).toBe(40);
    expect(result.weightsFromStep).toBe(20);
  });

  it('refuses to resume from a checkpoint of another model', async () => {
    const batches = data();
    const run = RunFolder.create({ lab: 'test', command: 'test', config: {}, seed: 1, out: tmp() });
    const small = mlp([4, 8, 2], { seed: 1 });
    await new Trainer({
      model: small,
      optimizer: new Adam(0.05),
      data: (step) => batches.batch(step),
      loss: (b: { x: tf.Tensor; y: tf.Tensor }) => softmaxCrossEntropy(b.y, small.apply(b.x)) as tf.Scalar,
      steps: 5,
      run,
      progress: 'silent',
    }).fit();
    const big = mlp([4, 16, 2], { seed: 1 });
    const trainer = new Trainer({
      model: big,
      optimizer: new Adam(0.05),
      data: (step) => batches.batch(step),
      loss: (b: { x: tf.Tensor; y: tf.Tensor }) => softmaxCrossEntropy(b.y, big.apply(b.x)) as tf.Scalar,
      steps: 10,
      progress: 'silent',
    });
    expect(() => trainer.resumeFrom(run.dir)).toThrow(
      /another model: "dense\/kernel" has shape \[4,8\], this model expects \[4,16\]/,
    );
  });
});

describe('Progress', () => {
  it('shows step, loss, rate and time left; prints plain lines when not a terminal', () => {
    const lines: string[] = [];
    const p = new Progress({
      total: 100,
      every: 50,
      stream: { write: (s: string) => lines.push(s) > 0, isTTY: false },
    });
    for (let s = 1; s <= 100; s++) p.update(s, { loss: 1 / s });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/step 50\/100 \[=+>\s*\] loss 0\.0200 .*(step\/s|s\/step).*left/);
    expect(lines[1]).toMatch(/step 100\/100/);
  });
});
