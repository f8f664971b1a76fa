import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BadFileError, MissingFileError } from '../errors.js';
import type { OptimizerState } from '../foundations/optimizers.js';
import { tempPathFor, writeFileAtomicSync } from '../fs/atomic.js';
import type { RngState } from '../rng.js';
import { type RawTensor, readSafetensors, writeSafetensors } from './safetensors.js';

/**
 * Checkpoints: one folder per step, `checkpoints/<step>/`, holding the weights, the optimizer
 * state, the RNG state, the step and the run's config, so a run resumes exactly where it stopped.
 * The folder is built under a temporary name and renamed into place, so a crash never leaves a
 * half-written checkpoint where a resume would find it.
 */

export const CHECKPOINT_FORMAT = 'introdl-checkpoint/1';

/** Everything a checkpoint holds, as live tensors. */
export interface CheckpointData {
  step: number;
  weights: Map<string, tf.Tensor>;
  optimizer?: { name: string; config: Record<string, number | string>; state: OptimizerState };
  rng?: RngState;
  /** The run's configuration (model sizes, hyper-parameters). */
  config?: Record<string, unknown>;
  /** Callback state (early stopping): JSON and tensors. */
  extra?: { json: Record<string, unknown>; tensors: Map<string, tf.Tensor> };
}

/** What `state.json` holds. */
interface StateFile {
  format: string;
  step: number;
  rng?: RngState;
  optimizer?: { name: string; config: Record<string, number | string>; scalars: Record<string, number> };
  config?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  weights: Record<string, number[]>;
  savedAt: string;
}

async function toRaw(tensors: Map<string, tf.Tensor>): Promise<Map<string, RawTensor>> {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const data = (await t.data()) as Float32Array | Int32Array;
    raw.set(name, { dtype, shape: t.shape, data });
  }
  return raw;
}

function fromRaw(raw: Map<string, RawTensor>): Map<string, tf.Tensor> {
  return new Map(
    [...raw].map(([name, r]) => [name, tf.tensor(r.data, r.shape, r.dtype === 'uint8' ? 'int32' : r.dtype)]),
  );
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

/** Writes `checkpoints/<step>/` under `checkpointsDir` atomically and returns its path. */
export async function saveCheckpoint(checkpointsDir: string, data: CheckpointData): Promise<string> {
  mkdirSync(checkpointsDir, { recursive: true });
  const target = path.join(checkpointsDir, String(data.step));
  const tmp = tempPathFor(target);
  mkdirSync(tmp);
  try {
    writeSafetensors(path.join(tmp, 'weights.safetensors'), await toRaw(data.weights));
    if (data.optimizer)
      writeSafetensors(path.join(tmp, 'optimizer.safetensors'), await toRaw(data.optimizer.state.tensors));
    if (data.extra?.tensors.size)
      writeSafetensors(path.join(tmp, 'extra.safetensors'), await toRaw(data.extra.tensors));
    const state: StateFile = {
      format: CHECKPOINT_FORMAT,
      step: data.step,
      rng: data.rng,
      optimizer: data.optimizer && {
        name: data.optimizer.name,
        config: data.optimizer.config,
        scalars: data.optimizer.state.scalars,
      },
      config: data.config,
      extra: data.extra?.json,
      weights: Object.fromEntries([...data.weights].map(([n, t]) => [n, t.shape])),
      savedAt: new Date().toISOString(),
    };
    // state.json is written last: a folder without it is not a checkpoint.
    writeFileAtomicSync(path.join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    fsyncDir(checkpointsDir);
    return target;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The checkpoint folders under `checkpointsDir`, by step, oldest first (temporary folders ignored). */
export function listCheckpoints(checkpointsDir: string): { step: number; dir: string }[] {
  if (!existsSync(checkpointsDir)) return [];
  return readdirSync(checkpointsDir)
    .filter((n) => /^\d+$/.test(n) && existsSync(path.join(checkpointsDir, n, 'state.json')))
    .map((n) => ({ step: Number(n), dir: path.join(checkpointsDir, n) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Resolves what `--checkpoint` names: a checkpoint folder, a run folder (its latest checkpoint),
 * or a run's `checkpoints/` folder.
 */
export function resolveCheckpoint(p: string): string {
  if (!existsSync(p)) throw new MissingFileError(p, 'Pass a run folder or one of its checkpoints/<step> folders.');
  if (!statSync(p).isDirectory())
    throw new BadFileError(p, 'is a file; a checkpoint is a folder (runs/<lab>/<name>/checkpoints/<step>)');
  if (existsSync(path.join(p, 'state.json'))) return p;
  for (const dir of [path.join(p, 'checkpoints'), p]) {
    const all = listCheckpoints(dir);
    if (all.length) return all[all.length - 1].dir;
  }
  throw new BadFileError(p, 'holds no checkpoint (no state.json here or under checkpoints/<step>/)');
}

/** Loads a checkpoint folder (or the latest of a run folder). Throws {@link BadFileError} for any defect. */
export function loadCheckpoint(p: string): CheckpointData {
  const dir = resolveCheckpoint(p);
  const statePath = path.join(dir, 'state.json');
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch {
    throw new BadFileError(statePath, 'is not valid JSON; the checkpoint is corrupt');
  }
  if (state.format !== CHECKPOINT_FORMAT)
    throw new BadFileError(statePath, `unknown checkpoint format "${state.format}" (expected ${CHECKPOINT_FORMAT})`);
  const weightsFile = path.join(dir, 'weights.safetensors');
  const weights = fromRaw(readSafetensors(weightsFile).tensors);
  for (const [name, shape] of Object.entries(state.weights)) {
    const t = weights.get(name);
    if (!t || t.shape.join() !== shape.join())
      throw new BadFileError(weightsFile, `does not match state.json for "${name}"`);
  }
  const data: CheckpointData = { step: state.step, weights, rng: state.rng, config: state.config };
  if (state.optimizer) {
    const optFile = path.join(dir, 'optimizer.safetensors');
    const tensors = existsSync(optFile) ? fromRaw(readSafetensors(optFile).tensors) : new Map<string, tf.Tensor>();
    data.optimizer = {
      name: state.optimizer.name,
      config: state.optimizer.config,
      state: { tensors, scalars: state.optimizer.scalars },
    };
  }
  if (state.extra) {
    const extraFile = path.join(dir, 'extra.safetensors');
    data.extra = {
      json: state.extra,
      tensors: existsSync(extraFile) ? fromRaw(readSafetensors(extraFile).tensors) : new Map(),
    };
  }
  return data;
}

/**
 * Copies checkpoint weights into a model's variables, after checking that the names and shapes
 * agree exactly: a checkpoint of another model is an error that says which variable differs.
 */
export function restoreWeights(
  checkpointDir: string,
  weights: Map<string, tf.Tensor>,
  variables: Map<string, tf.Variable>,
): void {
  const where = path.join(checkpointDir, 'weights.safetensors');
  for (const [name, v] of variables) {
    const t = weights.get(name);
    if (!t)
      throw new BadFileError(
        where,
        `is from another model: it has no variable "${name}" (it has ${[...weights.keys()].slice(0, 5).join(', ')}${weights.size > 5 ? ', …' : ''})`,
      );
    if (t.shape.join() !== v.shape.join()) {
      throw new BadFileError(
        where,
        `is from another model: "${name}" has shape [${t.shape}], this model expects [${v.shape}]`,
      );
    }
  }
  const extra = [...weights.keys()].filter((n) => !variables.has(n));
  if (extra.length)
    throw new BadFileError(where, `is from another model: unexpected variables ${extra.slice(0, 5).join(', ')}`);
  for (const [name, v] of variables) v.assign(weights.get(name)!);
}

export function disposeCheckpoint(data: CheckpointData): void {
  for (const t of data.weights.values()) t.dispose();
  for (const t of data.optimizer?.state.tensors.values() ?? []) t.dispose();
  for (const t of data.extra?.tensors.values() ?? []) t.dispose();
}
