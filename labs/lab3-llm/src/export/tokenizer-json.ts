import type { Llama2cTokenizer } from '../tokenizer/llama2c-tokenizer.js';

/**
 * llama2.c's tokenizer.bin as a Hugging Face `tokenizer.json` (the "legacy" Llama layout that
 * transformers' LlamaConverter writes for SentencePiece BPE models), so transformers.js and Python's
 * tokenizers encode exactly as run.c does:
 *
 * - run.c adds a dummy-prefix space and maps every other character to its piece, or to its UTF-8
 *   byte pieces `<0xXX>` when it has none; the normalizer (prepend ▁, spaces → ▁) and BPE with
 *   `byte_fallback` do the same (tokenizer.bin writes ▁ as a space; tokenizer.json wants ▁ back).
 * - run.c merges, again and again, the adjacent pair whose concatenation is the best-scoring piece
 *   (leftmost on ties); BPE merges by rank (leftmost on ties). So every pair of pieces whose
 *   concatenation is a piece becomes a merge, ranked by that piece's score, best first.
 * - ids 0, 1, 2 are `<unk>`, `<s>`, `</s>` (tokenizer.bin stores BOS and EOS with newlines around
 *   them); BOS is added by the post-processor, as `encode` adds it.
 */

const SPACE = '\u2581';

/** A piece's text as SentencePiece writes it: ▁ for a space. */
function spmPiece(piece: string): string {
  return piece.replaceAll(' ', SPACE);
}

const SPECIAL = ['<unk>', '<s>', '</s>'];

/** tokenizer.json for a llama2.c tokenizer. */
export function llama2cTokenizerJson(tokenizer: Llama2cTokenizer): Record<string, unknown> {
  const n = tokenizer.vocabSize;
  const vocab: Record<string, number> = {};
  const pieces: string[] = [];
  for (let id = 0; id < n; id++) {
    const piece = id < 3 ? SPECIAL[id] : spmPiece(tokenizer.pieces[id]);
    pieces.push(piece);
    if (!(piece in vocab)) vocab[piece] = id;
  }
  // Pieces that take part in merges: not the special tokens, not the byte pieces (ids 3..258).
  const isByte = (id: number) => id >= 3 && id < 259 && /^<0x[0-9A-F]{2}>$/.test(tokenizer.pieces[id]);
  const mergeable: number[] = [];
  for (let id = 3; id < n; id++) if (!isByte(id)) mergeable.push(id);
  const merges: { a: number; b: number; merged: number }[] = [];
  for (const a of mergeable) {
    for (const b of mergeable) {
      const merged = vocab[pieces[a] + pieces[b]];
      if (merged !== undefined && merged >= 3 && !isByte(merged)) merges.push({ a, b, merged });
    }
  }
  const score = tokenizer.scores;
  merges.sort((x, y) => score[y.merged] - score[x.merged] || x.merged - y.merged || x.a - y.a || x.b - y.b);
  const special = (id: number) => ({
    id,
    content: SPECIAL[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2].map(special),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.map((m) => [pieces[m.a], pieces[m.b]]),
    },
  };
}

/** tokenizer_config.json beside it: the special tokens, BOS added, and the chat template. */
export function llama2cTokenizerConfig(maxLength: number, chatTemplate: string): Record<string, unknown> {
  const added = Object.fromEntries(
    SPECIAL.map((content, id) => [
      String(id),
      { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
    ]),
  );
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: added,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: maxLength,
    sp_model_kwargs: {},
    tokenizer_class: 'LlamaTokenizer',
    chat_template: chatTemplate,
  };
}
