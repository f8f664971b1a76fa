/**
 * What the rest of the lab needs from a tokenizer, whichever kind it is (llama2.c's tokenizer.bin or a
 * Hugging Face tokenizer.json). Ids are plain numbers.
 */
export interface TextTokenizer {
  readonly kind: 'llama2c' | 'huggingface';
  /** Where it was loaded from, for messages. */
  readonly source: string;
  /** How many ids it can produce (its largest id + 1). */
  readonly vocabSize: number;
  readonly bosId?: number;
  /** Ids that end a turn or a text: generation stops on them. */
  readonly eosIds: readonly number[];
  /** The id used to pad batches (falls back to EOS or 0). */
  readonly padId: number;
  /** The model's own Jinja chat template, when its tokenizer_config.json has one. */
  readonly chatTemplate?: string;
  /** Special-token strings by their config name (`bos_token`, `eos_token`, …) for templates. */
  readonly specialTokens: Readonly<Record<string, string>>;
  /** Ids of `text`; with `addSpecialTokens` (default true) the tokenizer's own BOS/EOS are added. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /**
   * `encode(text)` with the character offset at which each token starts, Hugging Face's
   * `return_offsets_mapping` start column. Tokens the tokenizer adds (BOS) start at 0.
   */
  encodeWithOffsets(text: string): { ids: number[]; starts: number[] };
  /** Text of `ids`; `skipSpecialTokens` drops BOS/EOS and other special tokens. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The id of a token string when it is one token of the vocabulary. */
  tokenId(token: string): number | undefined;
}

/**
 * Turns a growing list of ids into text pieces for streaming: each call returns only the new
 * characters. Decoding the whole list each time (rather than token by token) keeps multi-byte
 * characters split over several tokens intact; an incomplete character is held back until complete.
 */
export class StreamingDecoder {
  private readonly ids: number[] = [];
  private emitted = 0;
  private held = 0;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  /** Adds a token and returns the text it completes (possibly ''). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: this.skipSpecialTokens });
    // A trailing U+FFFD may be the first bytes of a character the next token completes: wait for up
    // to three more tokens (a UTF-8 character has at most four bytes), then give up and show it.
    let end = text.length;
    while (end > this.emitted && text[end - 1] === '\uFFFD') end--;
    if (end < text.length && this.held < 3) {
      this.held++;
    } else {
      end = text.length;
      this.held = 0;
    }
    const piece = text.slice(this.emitted, Math.max(this.emitted, end));
    this.emitted = Math.max(this.emitted, end);
    return piece;
  }

  /** The text not yet returned (at the end of generation). */
  flush(): string {
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: this.skipSpecialTokens });
    const piece = text.slice(this.emitted);
    this.emitted = text.length;
    return piece;
  }
}

/**
 * Encodes a prompt or training text with the tokenizer's special tokens, dropping a doubled BOS when
 * the text itself starts with the BOS string (chat templates often render `{{ bos_token }}`, and
 * tokenizers add one too), as Hugging Face's apply_chat_template avoids.
 */
export function encodeText(tokenizer: TextTokenizer, text: string): { ids: number[]; starts: number[] } {
  const out = tokenizer.encodeWithOffsets(text);
  const bos = tokenizer.bosId;
  if (bos !== undefined && out.ids.length > 1 && out.ids[0] === bos && out.ids[1] === bos) {
    return { ids: out.ids.slice(1), starts: out.starts.slice(1) };
  }
  return out;
}
