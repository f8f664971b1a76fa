import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadFileError, MissingFileError } from '../errors.js';
import { mlp } from '../foundations/sequential.js';
import { listCheckpoints, loadCheckpoint, resolveCheckpoint, restoreWeights, saveCheckpoint } from './checkpoint.js';
import { encodeSafetensors, halfToFloat, readSafetensors, SafetensorsFile, writeSafetensors } from './safetensors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'introdl-ckpt-'));

describe('safetensors', () => {
  it('round-trips float32, int32 and uint8 tensors with metadata', () => {
    const file = path.join(tmp(), 'a.safetensors');
    const tensors = new Map([
      ['w', { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.5]) }],
      ['ids', { dtype: 'int32' as const, shape: [2], data: new Int32Array([7, -8]) }],
      ['mask', { dtype: 'uint8' as const, shape: [3], data: new Uint8Array([1, 0, 1]) }],
    ]);
    writeSafetensors(file, tensors, { format: 'pt' });
    const back = readSafetensors(file);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(Array.from(back.tensors.get('w')!.data)).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect(back.tensors.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(back.tensors.get('ids')!.data)).toEqual([7, -8]);
    expect(Array.from(back.tensors.get('mask')!.data)).toEqual([1, 0, 1]);
    // the data section starts 8-byte aligned, as the format recommends
    const headerLen = Number(readFileSync(file).readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
  });

  it('decodes F16 and BF16 to float32', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
    });
    const buf = Buffer.alloc(8 + header.length + 6);
    buf.writeBigUInt64LE(BigInt(header.length), 0);
    buf.write(header, 8);
    const d = 8 + header.length;
    buf.writeUInt16LE(0x3c00, d);
    buf.writeUInt16LE(0xc000, d + 2);
    buf.writeUInt16LE(0x4049, d + 4); // bf16 of 3.140625
    const file = path.join(tmp(), 'half.safetensors');
    writeFileSync(file, buf);
    const t = readSafetensors(file).tensors;
    expect(Array.from(t.get('h')!.data)).toEqual([1, -2]);
    expect(t.get('b')!.data[0]).toBeCloseTo(3.140625, 6);
  });

  it('reports a truncated file, a lying header and garbage, naming the file', () => {
    const dir = tmp();
    const good = encodeSafetensors(
      new Map([['w', { dtype: 'float32' as const, shape: [4], data: new Float32Array(4) }]]),
    );
    const truncated = path.join(dir, 'truncated.safetensors');
    writeFileSync(truncated, good.subarray(0, good.length - 3));
    expect(() => SafetensorsFile.open(truncated)).toThrow(BadFileError);
    expect(() => SafetensorsFile.open(truncated)).toThrow(/truncated\.safetensors: truncated/);

    const lying = path.join(dir, 'lying.safetensors');
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } });
    const buf = Buffer.alloc(8 + header.length + 16);
    buf.writeBigUInt64LE(BigInt(header.length), 0);
    buf.write(header, 8);
    writeFileSync(lying, buf);
    expect(() => SafetensorsFile.open(lying)).toThrow(/header lies about tensor "w"/);

    const garbage = path.join(dir, 'garbage.safetensors');
    writeFileSync(garbage, 'hello, this is not a tensor file at all');
    expect(() => SafetensorsFile.open(garbage)).toThrow(/garbage\.safetensors/);
    expect(() => SafetensorsFile.open(path.join(dir, 'none.safetensors'))).toThrow(MissingFileError);
  });
});

describe('checkpoints', () => {
  it('save and load weights, optimizer state, RNG state, step and config', async () => {
    const dir = tmp();
    const model = mlp([3, 4, 2], { seed: 1 });
    const m = tf.ones([3, 4]);
    const where = await saveCheckpoint(dir, {
      step: 50,
      weights: model.variables(),
      optimizer: {
        name: 'adam',
        config: { learningRate: 0.1 },
        state: { tensors: new Map([['m/dense/kernel', m]]), scalars: { step: 50 } },
      },
      rng: [1, 2, 3, 4],
      config: { hidden: 4 },
    });
    expect(where).toBe(path.join(dir, '50'));
    expect(readdirSync(dir)).toEqual(['50']); // no temporary folder left behind
    const loaded = loadCheckpoint(where);
    expect(loaded.step).toBe(50);
    expect(loaded.rng).toEqual([1, 2, 3, 4]);
    expect(loaded.config).toEqual({ hidden: 4 });
    expect(loaded.optimizer!.state.scalars.step).toBe(50);
    expect(Array.from(loaded.optimizer!.state.tensors.get('m/dense/kernel')!.dataSync())).toEqual(Array(12).fill(1));
    const other = mlp([3, 4, 2], { seed: 2 });
    restoreWeights(where, loaded.weights, other.variables());
    expect(Array.from(other.variables().get('dense/kernel')!.dataSync())).toEqual(
      Array.from(model.variables().get('dense/kernel')!.dataSync()),
    );
  });

  it('finds the latest checkpoint of a run folder', async () => {
    const run = tmp();
    const model = mlp([2, 2], { seed: 1 });
    for (const step of [100, 20, 300])
      await saveCheckpoint(path.join(run, 'checkpoints'), { step, weights: model.variables() });
    expect(listCheckpoints(path.join(run, 'checkpoints')).map((c) => c.step)).toEqual([20, 100, 300]);
    expect(resolveCheckpoint(run)).toBe(path.join(run, 'checkpoints', '300'));
  });

  it('refuses a checkpoint of another model, naming the variable', async () => {
    const dir = tmp();
    const where = await saveCheckpoint(dir, { step: 1, weights: mlp([3, 4, 2]).variables() });
    const loaded = loadCheckpoint(where);
    expect(() => restoreWeights(where, loaded.weights, mlp([3, 5, 2]).variables())).toThrow(
      /another model: "dense\/kernel" has shape \[3,4\], this model expects \[3,5\]/,
    );
    expect(() => restoreWeights(where, loaded.weights, mlp([3, 4, 4, 2]).variables())).toThrow(/another model/);
  });

  it('refuses a truncated checkpoint with an error naming the file', async () => {
    const dir = tmp();
    const where = await saveCheckpoint(dir, { step: 1, weights: mlp([30, 40, 2]).variables() });
    const weights = path.join(where, 'weights.safetensors');
    truncateSync(weights, 1000);
    expect(() => loadCheckpoint(where)).toThrow(BadFileError);
    expect(() => loadCheckpoint(where)).toThrow(/weights\.safetensors: truncated/);
  });

  it('says what is wrong with a folder that is not a checkpoint', () => {
    const dir = tmp();
    expect(() => resolveCheckpoint(dir)).toThrow(/holds no checkpoint/);
    expect(() => resolveCheckpoint(path.join(dir, 'nope'))).toThrow(/no such file/);
  });
});
