import { readFileSync } from 'node:fs';
import { BadFileError, MissingFileError, writeFileAtomicSync } from '@introdl/core';
import type { TextTokenizer } from './tokenizer.js';

/**
 * llama2.c's tokenizer.bin: an int32 max_token_length, then for each of the model's vocab_size
 * tokens a float32 merge score, an int32 byte length and the token's UTF-8 bytes (SentencePiece
 * pieces with ▁ written as a space; ids 0, 1, 2 are <unk>, <s>, </s>; ids 3..258 are the byte
 * tokens <0x00>..<0xFF>). Encoding and decoding follow run.c exactly.
 */
export class Llama2cTokenizer implements TextTokenizer {
  readonly kind = 'llama2c';
  readonly bosId = 1;
  readonly eosIds = [2];
  readonly padId = 0;
  readonly chatTemplate = undefined;
  readonly specialTokens = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
  private readonly lookup: Map<string, number>;
  private readonly bytes: Uint8Array[];

  private constructor(
    readonly source: string,
    readonly pieces: string[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
    bytes: Uint8Array[],
  ) {
    this.bytes = bytes;
    this.lookup = new Map();
    // run.c's bsearch over sorted strings returns one of equal strings; the first id is what a
    // sorted-unique table holds in practice (pieces are unique in real vocabularies).
    pieces.forEach((p, i) => {
      if (!this.lookup.has(p)) this.lookup.set(p, i);
    });
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /**
   * Reads tokenizer.bin. `vocabSize` is the model's (the file does not store it); when given the
   * file must hold exactly that many tokens.
   * @throws BadFileError when the file is truncated or holds another number of tokens.
   */
  static load(path: string, vocabSize?: number): Llama2cTokenizer {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch {
      throw new MissingFileError(path, "pass --tokenizer with the model's tokenizer.bin");
    }
    if (buf.length < 4) throw new BadFileError(path, 'truncated: not a llama2.c tokenizer.bin');
    const maxTokenLength = buf.readInt32LE(0);
    const pieces: string[] = [];
    const bytes: Uint8Array[] = [];
    const scores: number[] = [];
    let pos = 4;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    while (pos < buf.length && (vocabSize === undefined || pieces.length < vocabSize)) {
      if (pos + 8 > buf.length) throw new BadFileError(path, `truncated inside token ${pieces.length}`);
      scores.push(buf.readFloatLE(pos));
      const len = buf.readInt32LE(pos + 4);
      pos += 8;
      if (len < 0 || len > 1024 || pos + len > buf.length) {
        throw new BadFileError(
          path,
          `token ${pieces.length} has a bad length ${len} (truncated or not a tokenizer.bin)`,
        );
      }
      const b = new Uint8Array(buf.subarray(pos, pos + len));
      bytes.push(b);
      pieces.push(decoder.decode(b));
      pos += len;
    }
    if (vocabSize !== undefined && pieces.length !== vocabSize) {
      throw new BadFileError(
        path,
        `holds ${pieces.length} tokens but the model has a vocabulary of ${vocabSize}: this tokenizer does not match the model`,
      );
    }
    if (vocabSize !== undefined && pos !== buf.length) {
      throw new BadFileError(
        path,
        `holds more than the model's ${vocabSize} tokens (${buf.length - pos} bytes left over): this tokenizer does not match the model`,
      );
    }
    if (pieces.length < 259)
      throw new BadFileError(path, `holds ${pieces.length} tokens; a llama2.c tokenizer has ≥ 259`);
    return new Llama2cTokenizer(path, pieces, Float32Array.from(scores), maxTokenLength, bytes);
  }

  tokenId(token: string): number | undefined {
    return this.lookup.get(token);
  }

  /** run.c's encode: BOS, a dummy-prefix space (for non-empty text), code points with byte fallback, then merges. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.encodeWithOffsets(text, options).ids;
  }

  encodeWithOffsets(text: string, options: { addSpecialTokens?: boolean } = {}): { ids: number[]; starts: number[] } {
    const bos = options.addSpecialTokens ?? true;
    const ids: number[] = [];
    const starts: number[] = []; // character offset of each token's start
    if (bos) {
      ids.push(1);
      starts.push(0);
    }
    if (text.length > 0) {
      // add_dummy_prefix: SentencePiece puts a ▁ before the text; it belongs to no character.
      const space = this.lookup.get(' ');
      if (space !== undefined) {
        ids.push(space);
        starts.push(0);
      }
    }
    const encoder = new TextEncoder();
    let charPos = 0;
    for (const ch of text) {
      const id = this.lookup.get(ch);
      if (id !== undefined) {
        ids.push(id);
        starts.push(charPos);
      } else {
        // byte fallback: ids 3..258 are the bytes
        for (const b of encoder.encode(ch)) {
          ids.push(b + 3);
          starts.push(charPos);
        }
      }
      charPos += ch.length;
    }
    // merge the best-scoring adjacent pair until none is in the vocabulary
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i < ids.length - 1; i++) {
        const id = this.lookup.get(this.pieces[ids[i]] + this.pieces[ids[i + 1]]);
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx === -1) break;
      ids[bestIdx] = bestId;
      ids.splice(bestIdx + 1, 1);
      starts.splice(bestIdx + 1, 1);
    }
    return { ids, starts };
  }

  /** The bytes one token prints after `prev` (run.c's decode: no leading space after BOS; <0xXX> is a byte). */
  pieceBytes(prev: number, id: number): Uint8Array {
    let b = this.bytes[id];
    if (!b) return new Uint8Array();
    if (prev === 1 && b[0] === 0x20) b = b.subarray(1);
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(this.pieces[id]);
    if (m) return Uint8Array.of(Number.parseInt(m[1], 16));
    return b;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const chunks: Uint8Array[] = [];
    // run.c drops the leading space of the first piece after BOS (SentencePiece's decoder does the same)
    let prev = -1;
    for (const id of ids) {
      if (id === 0 || id === 1 || id === 2) {
        if (!skip) chunks.push(new TextEncoder().encode(this.pieces[id] ?? ''));
        prev = id;
        continue;
      }
      chunks.push(this.pieceBytes(prev, id));
      prev = id;
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  }

  /** Writes a tokenizer.bin (for test fixtures and exports). */
  static write(path: string, pieces: string[], scores: ArrayLike<number>, maxTokenLength?: number): void {
    const encoded = pieces.map((p) => Buffer.from(p, 'utf8'));
    const max = maxTokenLength ?? Math.max(...encoded.map((b) => b.length));
    const out = Buffer.alloc(4 + encoded.reduce((s, b) => s + 8 + b.length, 0));
    out.writeInt32LE(max, 0);
    let pos = 4;
    encoded.forEach((b, i) => {
      out.writeFloatLE(scores[i], pos);
      out.writeInt32LE(b.length, pos + 4);
      b.copy(out, pos + 8);
      pos += 8 + b.length;
    });
    writeFileAtomicSync(path, out);
  }
}
