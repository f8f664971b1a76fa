import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readLog, useBackend } from '@introdl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { trainMusicModel } from '../src/train/train.js';
import { makeCorpus } from './fixtures.js';

/**
 * `introdl lab1 train --preset custom --steps 5 --units 256 --embedding-dim 64 --seed 1` on webgpu
 * (core's fused LSTM and Adam kernels; Mesa llvmpipe in CI) logs the losses of the same run on wasm.
 * The course corpus when INTRODL_DATA is set (CI), else a generated one.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'lab1-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function losses(backend: 'webgpu' | 'wasm', dataPath?: string): Promise<number[]> {
  await useBackend(backend);
  const out = path.join(dir, backend);
  await trainMusicModel({
    preset: 'custom',
    overrides: { steps: 5, units: 256, embeddingDim: 64 },
    seed: 1,
    out,
    dataPath,
    progress: 'silent',
    log: () => {},
  });
  return readLog(path.join(out, 'log.jsonl'))
    .filter((e) => typeof e.loss === 'number')
    .map((e) => e.loss as number);
}

describe.runIf(process.env.INTRODL_WEBGPU_TESTS !== '0')('Lab 1 training on webgpu', () => {
  it('logs the same losses as on wasm, within 1e-3', async () => {
    let dataPath: string | undefined;
    if (!process.env.INTRODL_DATA) {
      dataPath = path.join(dir, 'tunes.abc');
      writeFileSync(dataPath, makeCorpus(40));
    }
    const gpu = await losses('webgpu', dataPath);
    const cpu = await losses('wasm', dataPath);
    expect(gpu.length).toBe(5);
    expect(cpu.length).toBe(5);
    for (let i = 0; i < 5; i++) expect(Math.abs(gpu[i] - cpu[i]), `step ${i + 1}`).toBeLessThanOrEqual(1e-3);
    expect(gpu[4]).toBeLessThan(gpu[0]); // it trains
  });
});
