import { BadFlagError, Rng, tf } from '@introdl/core';
import { KVCache } from './kv-cache.js';
import type { LlamaModel } from './llama.js';
import { type SamplingOptions, sampleToken } from './sampling.js';

/** Options of {@link generate}. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to produce. */
  maxNewTokens: number;
  /** Generation ends after any of these ids is produced (it is included in the output). */
  stopTokens?: readonly number[];
  /** Seeds sampling; ignored when greedy. Default 0. */
  seed?: number;
  rng?: Rng;
  /** Called with each new token as soon as it is chosen; return false to stop. */
  onToken?: (id: number, index: number) => boolean | undefined;
}

/** What {@link generate} produced. */
export interface GenerateResult {
  /** The new tokens (the prompt not included). */
  tokens: number[];
  stoppedBy: 'stop-token' | 'max-tokens' | 'context' | 'callback';
  /** Seconds spent on the prompt (prefill) and on the new tokens. */
  promptSeconds: number;
  generateSeconds: number;
}

/**
 * The sampling loop, whatever runs the model: it yields the ids to run next (the prompt, cut to the
 * context, then each new token) and takes back the logits of that step's last position. Stops at
 * `maxNewTokens`, a stop token, the callback's false, or when the context is full.
 */
export function* samplingLoop(
  prompt: readonly number[],
  options: GenerateOptions,
  contextLength: number,
): Generator<readonly number[], GenerateResult, ArrayLike<number>> {
  if (prompt.length === 0) throw new BadFlagError('the prompt has no tokens (a BOS token is usually needed)');
  if (!(options.maxNewTokens >= 0)) throw new BadFlagError('max new tokens must be ≥ 0');
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const stops = new Set(options.stopTokens ?? []);
  const tokens: number[] = [];
  let stoppedBy: GenerateResult['stoppedBy'] = 'max-tokens';
  const t0 = performance.now();
  let t1 = t0;
  let input: readonly number[] = prompt.slice(Math.max(0, prompt.length - contextLength));
  let positions = 0;
  while (tokens.length < options.maxNewTokens) {
    const values = yield input;
    positions += input.length;
    if (tokens.length === 0) t1 = performance.now();
    const next = sampleToken(values, options, rng);
    tokens.push(next);
    if (options.onToken?.(next, tokens.length - 1) === false) {
      stoppedBy = 'callback';
      break;
    }
    if (stops.has(next)) {
      stoppedBy = 'stop-token';
      break;
    }
    if (positions >= contextLength) {
      stoppedBy = 'context';
      break;
    }
    input = [next];
  }
  const t2 = performance.now();
  return { tokens, stoppedBy, promptSeconds: (t1 - t0) / 1000, generateSeconds: (t2 - t1) / 1000 };
}

/**
 * The generation loop as a generator: it yields each step's logits tensor and expects its values
 * back, so one loop serves both the async driver (`data()`, right for GPUs) and the sync one.
 */
export function* generationSteps(
  model: LlamaModel,
  prompt: readonly number[],
  options: GenerateOptions,
): Generator<tf.Tensor, GenerateResult, ArrayLike<number>> {
  const loop = samplingLoop(prompt, options, model.config.maxPositions);
  let it = loop.next(); // checks the prompt and options before the cache is made
  const cache = new KVCache(model.config.numLayers);
  try {
    while (!it.done) {
      const input = it.value;
      const logits = tf.tidy(() =>
        model.forward(tf.tensor2d([...input], [1, input.length], 'int32'), { cache, lastPositionOnly: true }),
      );
      const values = yield logits;
      logits.dispose();
      it = loop.next(values);
    }
  } finally {
    cache.dispose();
  }
  return it.value;
}

/**
 * Autoregressive generation with a KV cache: the prompt is run once, then each new token costs one
 * position. Greedy when temperature is 0, otherwise sampling with optional top-k / top-p.
 */
export async function generate(
  model: LlamaModel,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const steps = generationSteps(model, prompt, options);
  let it = steps.next();
  while (!it.done) it = steps.next(await it.value.data());
  return it.value;
}

/** {@link generate} reading logits synchronously (for use inside a training step callback). */
export function generateSync(model: LlamaModel, prompt: readonly number[], options: GenerateOptions): GenerateResult {
  const steps = generationSteps(model, prompt, options);
  let it = steps.next();
  while (!it.done) it = steps.next(it.value.dataSync());
  return it.value;
}
