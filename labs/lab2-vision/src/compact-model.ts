import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { allVariables, BadFileError, RunFolder, saveCheckpoint, tf, writeFileAtomic } from '@introdl/core';
import { detectorSettings, runDirOf } from './detect/detector-settings.js';
import { buildModel, loadModel } from './model-store.js';

/**
 * A trained face model in under a megabyte, to ship with tests and demos: every weight tensor of
 * more than 1,024 values as int8 with one scale per tensor (symmetric: w ≈ scale · q), the rest
 * (biases, BatchNorm statistics) as float32, plus the run's detector settings. The classifier's
 * 0.65 M parameters take 2.6 MB as float32 checkpoints and 0.66 MB here; `restoreCompactModel`
 * turns the file back into an ordinary run folder that every command (and the studio) can use.
 *
 * Layout: the 8 bytes `INTRODL8`, a little-endian uint32 header length, the JSON header, then the
 * tensors' bytes, each starting at a multiple of 4.
 */

const MAGIC = 'INTRODL8';
const FORMAT = 'introdl-lab2-compact/1';
const QUANTISE_ABOVE = 1024;

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'int8' | 'float32';
  /** int8 only: w = scale · q. */
  scale?: number;
  offset: number;
  bytes: number;
}

interface Header {
  format: string;
  model: 'classifier' | 'dbvae';
  step: number;
  config: Record<string, unknown>;
  detector: Record<string, unknown>;
  tensors: TensorEntry[];
}

/** Writes the model of a run folder (or checkpoint) as a compact file; returns its size in bytes. */
export async function writeCompactModel(checkpoint: string, file: string): Promise<number> {
  const model = loadModel(checkpoint, ['classifier', 'dbvae']);
  try {
    const tensors: TensorEntry[] = [];
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const [name, v] of allVariables(model.trainable)) {
      const values = (await v.data()) as Float32Array;
      let bytes: Uint8Array;
      let entry: Omit<TensorEntry, 'offset' | 'bytes'>;
      if (values.length > QUANTISE_ABOVE) {
        const max = values.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        const scale = max > 0 ? max / 127 : 1;
        const q = Int8Array.from(values, (x) => Math.max(-127, Math.min(127, Math.round(x / scale))));
        bytes = new Uint8Array(q.buffer);
        entry = { name, shape: v.shape, dtype: 'int8', scale };
      } else {
        bytes = new Uint8Array(Float32Array.from(values).buffer);
        entry = { name, shape: v.shape, dtype: 'float32' };
      }
      const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
      padded.set(bytes);
      tensors.push({ ...entry, offset, bytes: bytes.length });
      chunks.push(padded);
      offset += padded.length;
    }
    const settings = detectorSettings(model.checkpoint, model.step);
    const run = runDirOf(model.checkpoint);
    const detectorFile = run && path.join(run, 'outputs', 'detector.json');
    const detector =
      detectorFile && existsSync(detectorFile)
        ? (JSON.parse(readFileSync(detectorFile, 'utf8')) as Record<string, unknown>)
        : { threshold: settings.threshold, faceScale: settings.faceScale };
    const header: Header = {
      format: FORMAT,
      model: model.kind as 'classifier' | 'dbvae',
      step: model.step,
      // The training file's name, not where it was on the machine that trained.
      config: {
        ...model.config,
        ...(typeof model.config.facesFile === 'string' ? { facesFile: path.basename(model.config.facesFile) } : {}),
      },
      detector,
      tensors,
    };
    const json = Buffer.from(JSON.stringify(header));
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    const pad = Buffer.alloc((4 - ((12 + json.length) % 4)) % 4, 0x20);
    const out = Buffer.concat([head, json, pad, ...chunks]);
    await writeFileAtomic(file, out);
    return out.length;
  } finally {
    model.dispose();
  }
}

/** Reads a compact file back into a run folder `runDir` (a checkpoint and outputs/detector.json). */
export async function restoreCompactModel(file: string, runDir: string): Promise<string> {
  const buf = readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC)
    throw new BadFileError(file, `is not a compact Lab 2 model (it does not start with ${MAGIC})`);
  const length = buf.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + length));
  } catch {
    throw new BadFileError(file, 'has a damaged header');
  }
  if (header.format !== FORMAT) throw new BadFileError(file, `has format "${header.format}", expected ${FORMAT}`);
  const base = Math.ceil((12 + length) / 4) * 4;
  const model = buildModel(header.model, { latentDim: Number(header.config.latentDim ?? 100) });
  try {
    const variables = allVariables(model.trainable);
    for (const t of header.tensors) {
      const v = variables.get(t.name);
      if (!v || v.shape.join() !== t.shape.join())
        throw new BadFileError(file, `tensor ${t.name} [${t.shape}] does not fit a ${header.model}`);
      const start = base + t.offset;
      if (start + t.bytes > buf.length) throw new BadFileError(file, `is truncated (tensor ${t.name})`);
      const bytes = buf.subarray(start, start + t.bytes);
      const values =
        t.dtype === 'int8'
          ? Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length), (q) => q * t.scale!)
          : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      v.assign(tf.tensor(values, t.shape));
    }
    const run = RunFolder.create({
      lab: 'lab2-vision',
      command: `introdl lab2 train --model ${header.model} (restored from ${path.basename(file)})`,
      config: header.config,
      seed: Number((header.config as { seed?: number }).seed ?? 0),
      out: runDir,
    });
    await saveCheckpoint(run.checkpointsDir, { step: header.step, weights: variables, config: header.config });
    await writeFileAtomic(run.output('detector.json'), `${JSON.stringify(header.detector, null, 2)}\n`);
    run.finish('completed', { restoredFrom: path.basename(file) });
    return run.dir;
  } finally {
    model.dispose();
  }
}
