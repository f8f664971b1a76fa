import path from 'node:path';
import { BadFileError } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import {
  encodeText,
  HfTokenizer,
  Llama2cTokenizer,
  StreamingDecoder,
  TINY_CHAT_TEMPLATE,
  tinyLlama2cVocab,
  writeTinyHfModel,
  writeTinyLlama2c,
} from '../src/index.js';
import { tmpDir } from './helpers.js';

/** Id of a piece in the tiny llama2.c vocabulary. */
const { pieces } = tinyLlama2cVocab();
const id = (p: string) => pieces.indexOf(p);

describe('llama2.c tokenizer.bin (run.c encode/decode)', () => {
  const tiny = writeTinyLlama2c(tmpDir());
  const tok = Llama2cTokenizer.load(tiny.tokenizerPath, tiny.config.vocabSize);

  it('encodes with BOS, the dummy-prefix space and best-score merges', () => {
    // " the" wins over " t"+"he" step by step; " c" is not a piece, so the space stays alone
    expect(tok.encode('the cat')).toEqual([1, id(' the'), id(' '), id('c'), id('a'), id('t')]);
    // merges in score order: "ou", " y", " you", " m", " mu", " mus", " must"
    expect(tok.encode('you must')).toEqual([1, id(' you'), id(' must')]);
    expect(tok.encode('', { addSpecialTokens: true })).toEqual([1]);
    expect(tok.encode('it', { addSpecialTokens: false })).toEqual([id(' '), id('it')]);
  });

  it('falls back to byte tokens (id = byte + 3) and decodes them back to UTF-8', () => {
    const ids = tok.encode('é\n');
    expect(ids).toEqual([1, id(' '), 0xc3 + 3, 0xa9 + 3, 0x0a + 3]);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('é\n');
  });

  it('decodes as run.c prints: no leading space right after BOS', () => {
    const ids = tok.encode('you must trust it');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('you must trust it');
    expect(tok.decode(ids.slice(1))).toBe(' you must trust it');
  });

  it('reports each token start as a character offset', () => {
    const { ids, starts } = tok.encodeWithOffsets('the cat');
    expect(ids.length).toBe(6);
    expect(starts).toEqual([0, 0, 3, 4, 5, 6]);
  });

  it('refuses a tokenizer.bin with another vocabulary size', () => {
    expect(() => Llama2cTokenizer.load(tiny.tokenizerPath, tiny.config.vocabSize + 1)).toThrow(
      /does not match the model/,
    );
    expect(() => Llama2cTokenizer.load(tiny.tokenizerPath, tiny.config.vocabSize - 1)).toThrow(
      /does not match the model/,
    );
  });
});

describe('Hugging Face tokenizer through AutoTokenizer, offline', () => {
  it('loads tokenizer.json + tokenizer_config.json from a local folder', async () => {
    const folder = writeTinyHfModel(path.join(tmpDir(), 'm')).folder;
    const tok = await HfTokenizer.load(folder);
    expect(tok.vocabSize).toBe(281);
    expect(tok.bosId).toBe(0);
    expect(tok.eosIds).toEqual([1]);
    expect(tok.padId).toBe(2);
    expect(tok.chatTemplate).toBe(TINY_CHAT_TEMPLATE);
    const ids = tok.encode('the hat is on');
    expect(ids[0]).toBe(0);
    expect(ids).toContain(tok.tokenId('Ġis'));
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('the hat is on');
  });

  it('offsets: each token starts where its text starts; added BOS at 0; no doubled BOS', async () => {
    const tok = await HfTokenizer.load(writeTinyHfModel(path.join(tmpDir(), 'm')).folder);
    const text = '<|bos|><|im_start|>user\nthe hat?<|im_end|>\n<|im_start|>assistant\nYou must.<|im_end|>\n';
    const { ids, starts } = encodeText(tok, text);
    expect(ids.filter((i) => i === 0).length).toBe(1);
    ids.forEach((tid, i) => {
      expect(text.slice(starts[i]).startsWith(tok.decode([tid])), `token ${i}`).toBe(true);
    });
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('streaming decode returns whole characters across byte tokens', async () => {
    const tok = await HfTokenizer.load(writeTinyHfModel(path.join(tmpDir(), 'm')).folder);
    const ids = tok.encode('héllo wörld', { addSpecialTokens: false });
    const stream = new StreamingDecoder(tok);
    const pieces = ids.map((i) => stream.push(i));
    expect(pieces.join('') + stream.flush()).toBe('héllo wörld');
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
  });

  it('a folder without tokenizer.json is a clear error', async () => {
    await expect(HfTokenizer.load(tmpDir())).rejects.toThrow(/tokenizer\.json: no such file/);
  });

  it('a corrupt tokenizer.json names the file', async () => {
    const folder = writeTinyHfModel(path.join(tmpDir(), 'm')).folder;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(folder, 'tokenizer.json'), '{"model": 3');
    const err = await HfTokenizer.load(folder).catch((e) => e);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toContain('tokenizer.json');
  });
});
