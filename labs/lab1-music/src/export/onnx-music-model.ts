import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BadFileError,
  BadFlagError,
  createOnnxSession,
  floatTensor,
  int64Tensor,
  MissingFileError,
  type OnnxSession,
  type OnnxTensor,
} from '@introdl/core';
import { Vocabulary, vectorize } from '../data/vocab.js';
import type { Generated, GenerateOptions } from '../model/generate.js';
import { sampleIndex } from '../model/sample.js';
import { MANIFEST, type MusicExportManifest } from './export-music.js';

/**
 * A folder written by `introdl lab1 export`, run in onnxruntime-node: the start string through the
 * sequence model once, then one character at a time through the step model with the carried state,
 * drawing each character exactly as the tfjs generator does (same sampling, same seeded Rng).
 */
export class OnnxMusicModel {
  private constructor(
    readonly dir: string,
    readonly manifest: MusicExportManifest,
    readonly vocab: Vocabulary,
    private readonly sequence: OnnxSession,
    private readonly stepModel: OnnxSession,
  ) {}

  static async load(dir: string): Promise<OnnxMusicModel> {
    const file = path.join(dir, MANIFEST);
    if (!existsSync(file))
      throw new MissingFileError(file, '--runtime onnx needs a folder written by `introdl lab1 export --format onnx`');
    let manifest: MusicExportManifest;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new BadFileError(file, `is not valid JSON (${(err as Error).message})`);
    }
    if (manifest.lab !== 'lab1-music' || typeof manifest.vocab !== 'string')
      throw new BadFileError(file, 'is not a Lab 1 export (lab and vocab fields)');
    const sequence = await createOnnxSession(path.join(dir, manifest.sequence_model));
    const stepModel = await createOnnxSession(path.join(dir, manifest.step_model));
    return new OnnxMusicModel(dir, manifest, Vocabulary.fromString(manifest.vocab), sequence, stepModel);
  }

  /** Logits [T·V] of a sequence from a zero state, and the state after it. */
  async run(ids: ArrayLike<number>): Promise<{ logits: Float32Array; h: OnnxTensor; c: OnnxTensor }> {
    const U = this.manifest.model.units;
    const out = await this.sequence.run({
      ids: await int64Tensor(ids, [1, ids.length]),
      h: await floatTensor(new Float32Array(U), [1, U]),
      c: await floatTensor(new Float32Array(U), [1, U]),
    });
    return { logits: out.logits.data as Float32Array, h: out.h_next, c: out.c_next };
  }

  /** One step: the next character's logits and the new state. */
  async step(
    id: number,
    h: OnnxTensor,
    c: OnnxTensor,
  ): Promise<{ logits: Float32Array; h: OnnxTensor; c: OnnxTensor }> {
    const out = await this.stepModel.run({ ids: await int64Tensor([id], [1]), h, c });
    return { logits: out.logits.data as Float32Array, h: out.h_next, c: out.c_next };
  }

  /** {@link generateText} of model/generate.ts on ONNX Runtime. */
  async generateText(options: GenerateOptions): Promise<Generated> {
    if (options.start.length === 0) throw new BadFlagError('--start must have at least one character');
    if (!Number.isInteger(options.length) || options.length < 0)
      throw new BadFlagError(`--length must be a whole number ≥ 0, got ${options.length}`);
    const temperature = options.temperature ?? 1;
    const ids = vectorize(options.start, this.vocab);
    const V = this.manifest.model.vocabSize;
    const t0 = performance.now();
    const chars: string[] = [];
    let { logits, h, c } = await this.run(ids);
    logits = logits.subarray((ids.length - 1) * V, ids.length * V);
    for (let i = 0; i < options.length; i++) {
      const next = sampleIndex(logits, temperature, options.rng);
      const char = this.vocab.chars[next];
      chars.push(char);
      options.onChar?.(char);
      if (options.stop?.(options.start + chars.join(''))) break;
      ({ logits, h, c } = await this.step(next, h, c));
    }
    return { text: options.start + chars.join(''), generated: chars.length, seconds: (performance.now() - t0) / 1000 };
  }

  dispose(): void {
    void this.sequence.release();
    void this.stepModel.release();
  }
}
