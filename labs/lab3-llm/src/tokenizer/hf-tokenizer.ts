import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { BadFileError, MissingFileError } from '@introdl/core';
import type { TextTokenizer } from './tokenizer.js';

/** A special token in tokenizer_config.json: a string or an AddedToken object. */
function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) loaded offline with
 * `@huggingface/transformers`' AutoTokenizer from a local folder: remote downloads are turned off
 * before loading, so nothing is fetched.
 */
export class HfTokenizer implements TextTokenizer {
  readonly kind = 'huggingface';
  readonly vocabSize: number;
  readonly bosId?: number;
  readonly eosIds: number[];
  readonly padId: number;
  readonly chatTemplate?: string;
  readonly specialTokens: Record<string, string>;
  private readonly specialIds: Set<number>;

  private constructor(
    readonly source: string,
    readonly tokenizer: PreTrainedTokenizer,
    config: Record<string, unknown>,
    extraEos: readonly number[],
  ) {
    let max = -1;
    for (const id of tokenizer.get_vocab().values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const s = tokenString(config[key]);
      if (s !== undefined) this.specialTokens[key] = s;
    }
    const id = (s?: string) => (s === undefined ? undefined : this.tokenId(s));
    this.bosId = id(this.specialTokens.bos_token);
    const eos = id(this.specialTokens.eos_token);
    this.eosIds = [...new Set([...(eos === undefined ? [] : [eos]), ...extraEos])];
    this.padId = id(this.specialTokens.pad_token) ?? eos ?? 0;
    const template = config.chat_template;
    if (typeof template === 'string') this.chatTemplate = template;
    else if (Array.isArray(template)) {
      // a list of named templates: take "default"
      const named = (template as { name: string; template: string }[]).find((t) => t.name === 'default');
      this.chatTemplate = named?.template;
    }
    this.specialIds = new Set(tokenizer.all_special_ids ?? []);
  }

  /**
   * Loads the tokenizer of a model folder.
   * @param extraEos end-of-turn ids from the model's config.json / generation_config.json
   * @throws MissingFileError when tokenizer.json is absent; BadFileError when it cannot be read.
   */
  static async load(folder: string, extraEos: readonly number[] = []): Promise<HfTokenizer> {
    const dir = path.resolve(folder);
    const file = path.join(dir, 'tokenizer.json');
    if (!existsSync(file)) {
      throw new MissingFileError(file, 'a Hugging Face model folder needs tokenizer.json (or pass --tokenizer)');
    }
    const configFile = path.join(dir, 'tokenizer_config.json');
    let config: Record<string, unknown> = {};
    if (existsSync(configFile)) {
      try {
        config = JSON.parse(readFileSync(configFile, 'utf8'));
      } catch (err) {
        throw new BadFileError(configFile, `is not valid JSON (${(err as Error).message})`);
      }
    }
    // Offline: never reach the Hub, read the folder as given.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    let tokenizer: PreTrainedTokenizer;
    try {
      tokenizer = (await AutoTokenizer.from_pretrained(dir, { local_files_only: true })) as PreTrainedTokenizer;
    } catch (err) {
      throw new BadFileError(file, `could not be loaded as a tokenizer: ${(err as Error).message.split('\n')[0]}`);
    }
    // Newer repositories keep the template in its own file, which transformers prefers.
    const jinja = path.join(dir, 'chat_template.jinja');
    if (existsSync(jinja)) config = { ...config, chat_template: readFileSync(jinja, 'utf8') };
    return new HfTokenizer(dir, tokenizer, config, extraEos);
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.get_vocab().get(token);
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true });
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  /**
   * Offsets without a native offset mapping (tokenizers.js has none): the start of token i is the
   * length of the decoded text of tokens 0..i-1, shifted by whatever the decoder drops at the very
   * start (e.g. SentencePiece's dummy-prefix space). Tokens the post-processor adds (BOS) start at 0,
   * as in Hugging Face's offset mapping.
   */
  encodeWithOffsets(text: string): { ids: number[]; starts: number[] } {
    const ids = this.encode(text, { addSpecialTokens: true });
    const core = this.encode(text, { addSpecialTokens: false });
    let at = 0;
    for (; at + core.length <= ids.length; at++) {
      if (core.every((id, i) => ids[at + i] === id)) break;
    }
    if (at + core.length > ids.length) at = 0;
    const starts = new Array<number>(ids.length).fill(0);
    const full = this.decode(core);
    const shift = text.length - full.length;
    for (let i = 0; i < core.length; i++) {
      const prefix = i === 0 ? 0 : this.decode(core.slice(0, i)).length + shift;
      starts[at + i] = Math.max(0, Math.min(text.length, prefix));
    }
    return { ids, starts };
  }

  /** Whether `id` is one of the tokenizer's special tokens. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}

/** Whether `p` looks like a Hugging Face tokenizer folder (holds tokenizer.json). */
export function isHfTokenizerFolder(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory() && existsSync(path.join(p, 'tokenizer.json'));
}
