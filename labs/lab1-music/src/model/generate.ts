import { BadFlagError, type LstmState, type Rng, tf } from '@introdl/core';
import { type Vocabulary, vectorize } from '../data/vocab.js';
import type { MusicModel } from './music-model.js';
import { sampleIndex } from './sample.js';

/** Options of {@link generateText}. */
export interface GenerateOptions {
  /** The text the model continues (the course uses "X", the start of a header). */
  start: string;
  /** How many characters to generate after `start`. */
  length: number;
  temperature?: number;
  rng: Rng;
  /** Called with each generated character as soon as it is drawn (to stream it to a terminal). */
  onChar?: (char: string) => void;
  /** Checked after each character with the text so far; generation ends early when it returns true. */
  stop?: (text: string) => boolean;
}

/** What {@link generateText} returns. */
export interface Generated {
  /** `start` followed by the generated characters. */
  text: string;
  /** Characters generated (not counting `start`). */
  generated: number;
  seconds: number;
}

/**
 * Exercise 2.8 of the course (`generate_text`), stateful: the start string goes through the model
 * once, then each new character is drawn from the scores of the *last* time step and fed back in
 * alone with the carried LSTM state; the prefix is never run again. (The course's PyTorch solution
 * samples from every step of the start string, which is only right for a one-character start.)
 *
 * Each step is one matmul: the embedding table is projected through the LSTM's input kernel once,
 * so a character's input share of the gates is a row lookup.
 *
 * @throws BadFlagError when `start` is empty or has characters outside the vocabulary.
 */
export function generateText(model: MusicModel, vocab: Vocabulary, options: GenerateOptions): Generated {
  if (options.start.length === 0) throw new BadFlagError('--start must have at least one character');
  if (!Number.isInteger(options.length) || options.length < 0) {
    throw new BadFlagError(`--length must be a whole number ≥ 0, got ${options.length}`);
  }
  const temperature = options.temperature ?? 1;
  const ids = vectorize(options.start, vocab);
  const t0 = performance.now();
  const chars: string[] = [];

  // The start string, all at once; keep the scores of its last step and the state after it.
  const input = tf.tensor2d(ids, [1, ids.length], 'int32');
  const first = model.run(input);
  input.dispose();
  let state: LstmState = first.state;
  let logits = tf.tidy(() => first.logits.slice([0, ids.length - 1, 0], [1, 1, -1]).reshape([1, -1]) as tf.Tensor2D);
  first.logits.dispose();
  const projected = tf.tidy(() => model.lstm.projectInputs(model.embedding.embeddings as tf.Tensor as tf.Tensor2D));
  try {
    // @exercise lab1.part2.6 "Generate text one character at a time"
    // Hint: sample an index from the last step's logits, append its character, then feed only that
    // index back in with the carried state (lstm.stepProjected on its row of the projected table).
    for (let i = 0; i < options.length; i++) {
      const next = sampleIndex(logits.dataSync(), temperature, options.rng);
      const char = vocab.chars[next];
      chars.push(char);
      options.onChar?.(char);
      if (options.stop?.(options.start + chars.join(''))) break;
      const zx = tf.tidy(() => tf.gather(projected, [next]) as tf.Tensor2D);
      const nextState = model.lstm.stepProjected(zx, state);
      tf.dispose([zx, state.h, state.c, logits]);
      state = nextState;
      logits = tf.tidy(() => model.dense.apply(state.h) as tf.Tensor2D);
    }
    // @end
  } finally {
    tf.dispose([projected, state.h, state.c, logits]);
  }
  return { text: options.start + chars.join(''), generated: chars.length, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A stop rule for sampling one song: true once the text holds a complete song by the course's rule
 * (some text, then a blank line).
 */
export function endsFirstSong(text: string): boolean {
  return text.includes('\n\n');
}
