import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BadFileError,
  BadFlagError,
  createOnnxSession,
  floatTensor,
  MissingFileError,
  type OnnxSession,
} from '@introdl/core';
import { type Lab2ExportManifest, MANIFEST } from './export-model.js';

/**
 * A folder written by `introdl lab2 export`, run in onnxruntime-node: the face models give P(face)
 * for [n, 64, 64, 3] RGB windows, Part 1's models class probabilities for [n, 28, 28, 1] images —
 * what the tfjs models give for the same input.
 */
export class OnnxLab2Model {
  private constructor(
    readonly dir: string,
    readonly manifest: Lab2ExportManifest,
    private readonly session: OnnxSession,
  ) {}

  /** The kind of model (classifier, dbvae, fc, cnn). */
  get kind(): Lab2ExportManifest['kind'] {
    return this.manifest.kind;
  }

  /** Opens an exported folder. */
  static async load(dir: string): Promise<OnnxLab2Model> {
    const file = path.join(dir, MANIFEST);
    if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(file))
      throw new MissingFileError(file, '--runtime onnx needs a folder written by `introdl lab2 export --format onnx`');
    let manifest: Lab2ExportManifest;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new BadFileError(file, `is not valid JSON (${(err as Error).message})`);
    }
    if (manifest.lab !== 'lab2-vision' || typeof manifest.model !== 'string')
      throw new BadFileError(file, 'is not a Lab 2 export (lab and model fields)');
    return new OnnxLab2Model(dir, manifest, await createOnnxSession(path.join(dir, manifest.model)));
  }

  private async run(data: Float32Array, n: number, output: string): Promise<Float32Array> {
    const [, ...shape] = this.manifest.input.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n * size)
      throw new BadFlagError(`expected ${n} inputs of shape [${shape.join(', ')}], got ${data.length} values`);
    const out = await this.session.run({ images: await floatTensor(data, [n, ...shape]) });
    return out[output].data as Float32Array;
  }

  /** P(face) for n windows, [n, 64, 64, 3] RGB in [0, 1]. */
  async faceProbabilities(data: Float32Array, n: number): Promise<Float32Array> {
    if (this.manifest.input.channels !== 'RGB')
      throw new BadFlagError(`${this.dir} holds a ${this.kind} model, not a face model`);
    return this.run(data, n, 'probability');
  }

  /** Class probabilities [n][10] for n grey images [n, 28, 28, 1] in [0, 1]. */
  async classProbabilities(data: Float32Array, n: number): Promise<number[][]> {
    const p = await this.run(data, n, 'probabilities');
    return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * 10, (i + 1) * 10)));
  }

  dispose(): void {
    void this.session.release();
  }
}
