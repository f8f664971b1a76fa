import { BadFlagError } from '@introdl/core';

/**
 * The character vocabulary: every distinct character of the training text, sorted, as the course's
 * `sorted(set(songs_joined))`. A character's index is its position in that order (`char2idx`);
 * on irish.abc there are 83, from `'\n'` (0) and `' '` (1) to `'|'` (82).
 */
export class Vocabulary {
  /** The characters in index order (`idx2char`). */
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (new Set(chars).size !== chars.length) throw new Error('a vocabulary cannot repeat a character');
    this.chars = [...chars];
    this.index = new Map(this.chars.map((c, i) => [c, i]));
  }

  /**
   * The vocabulary of `text`, sorted by code point as Python's `sorted` sorts strings. Iterating
   * the string (not its UTF-16 units) keeps a character outside the BMP whole.
   */
  static fromText(text: string): Vocabulary {
    return new Vocabulary([...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  get size(): number {
    return this.chars.length;
  }

  /** The characters as one string, e.g. for checkpoints: `Vocabulary.fromString(v.toString())` restores it. */
  toString(): string {
    return this.chars.join('');
  }

  static fromString(chars: string): Vocabulary {
    return new Vocabulary([...chars]);
  }

  /** The index of `char`, or undefined when it is not in the vocabulary. */
  indexOf(char: string): number | undefined {
    return this.index.get(char);
  }

  /** The characters of `text` that are not in the vocabulary, each once, in order of appearance. */
  unknownChars(text: string): string[] {
    return [...new Set([...text].filter((c) => !this.index.has(c)))];
  }

  /** The text of a sequence of indices. */
  decode(indices: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < indices.length; i++) out += this.chars[indices[i]];
    return out;
  }

  /** Two vocabularies are equal when they hold the same characters in the same order. */
  equals(other: Vocabulary): boolean {
    return this.toString() === other.toString();
  }
}

/** A readable list of characters for messages: `'\n'`, `'é'`, … */
export function describeChars(chars: readonly string[]): string {
  return chars.map((c) => JSON.stringify(c)).join(', ');
}

/**
 * Exercise 2.1 of the course (`vectorize_string`): the index of every character of `text`, in
 * order. `'X:1\nT:Alex'` gives `[49 22 13 0 45 22 26 67 60 79]` with the irish.abc vocabulary.
 *
 * @throws BadFlagError naming the characters that are not in the vocabulary.
 */
export function vectorize(text: string, vocab: Vocabulary): Int32Array {
  const unknown = vocab.unknownChars(text);
  if (unknown.length > 0) {
    throw new BadFlagError(
      `${describeChars(unknown)} ${unknown.length === 1 ? 'is' : 'are'} not in the model's ${vocab.size}-character vocabulary`,
    );
  }
  // @exercise lab1.part2.1 "Vectorize the songs"
  // Hint: look up each character's index with vocab.indexOf(char) and store it in an Int32Array.
  const chars = [...text];
  const out = new Int32Array(chars.length);
  for (let i = 0; i < chars.length; i++) out[i] = vocab.indexOf(chars[i])!;
  return out;
  // @end
}
