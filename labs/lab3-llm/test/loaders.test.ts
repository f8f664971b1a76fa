import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingDataError, MissingFileError } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Llama2cTokenizer, loadModel, parameterCount, writeTinyHfModel, writeTinyLlama2c } from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

/** Loads and expects a failure; returns the error. */
async function failure(spec: string, options = {}): Promise<Error> {
  const err = await loadModel(spec, options).then(
    (lm) => {
      lm.model.dispose();
      return undefined;
    },
    (e: Error) => e,
  );
  if (!err) throw new Error('expected the load to fail');
  return err;
}

describe('Hugging Face folder: reports and bad input', () => {
  it('reports parameters and bytes: tied embeddings counted once, bf16 files half the size', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { dtype: 'BF16' });
    const { model, info } = await loadModel(tiny.folder);
    expect(info.parameters).toBe(parameterCount(tiny.config));
    expect(info.fileBytes).toBe(2 * info.parameters);
    expect(info.memoryBytes).toBe(4 * info.parameters);
    expect(info.dtypes).toEqual(['BF16']);
    model.dispose();
  });

  it('a truncated shard names the file', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const shard = path.join(tiny.folder, 'model-00002-of-00002.safetensors');
    truncateSync(shard, readFileSync(shard).length - 100);
    const err = await failure(tiny.folder);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toContain(shard);
    expect(err.message).toMatch(/truncated/);
  });

  it('a header that lies about a tensor size names the file and the tensor', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { shards: 1 });
    const file = path.join(tiny.folder, 'model.safetensors');
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
    header['model.norm.weight'].shape = [header['model.norm.weight'].shape[0] * 2];
    let json = JSON.stringify(header);
    json = json.padEnd(n, ' ');
    if (json.length !== n) throw new Error('test setup: header grew');
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), Buffer.from(json), bytes.subarray(8 + n)]));
    const err = await failure(tiny.folder);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/header lies about tensor "model.norm.weight"/);
  });

  it('config.json whose shapes disagree with the weights', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const file = path.join(tiny.folder, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.intermediate_size += 8;
    writeFileSync(file, JSON.stringify(config));
    const err = await failure(tiny.folder);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toMatch(/mlp\.(gate|up|down)_proj\.weight" has shape .* but config\.json implies/);
  });

  it('more layers in config.json than in the files: the missing weights are named', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const file = path.join(tiny.folder, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.num_hidden_layers = 3;
    writeFileSync(file, JSON.stringify(config));
    expect((await failure(tiny.folder)).message).toMatch(/missing \d+ weight\(s\).*model\.layers\.2\./);
  });

  it('an unsupported architecture is refused with the list of supported ones', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const file = path.join(tiny.folder, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), model_type: 'mamba' }));
    expect((await failure(tiny.folder)).message).toMatch(
      /model_type "mamba" is not supported.*llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, lfm2/,
    );
  });

  it('a shard listed in the index but absent', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    rmSync(path.join(tiny.folder, 'model-00001-of-00002.safetensors'));
    const err = await failure(tiny.folder);
    expect(err).toBeInstanceOf(MissingFileError);
    expect(err.message).toMatch(/model-00001-of-00002\.safetensors: no such file/);
  });

  it('a tokenizer with more tokens than the model has embedding rows', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { extraVocab: -50 });
    const err = await failure(tiny.folder);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toMatch(
      /has 281 tokens but the model's embedding has 231 rows: this tokenizer does not match the model/,
    );
  });
});

describe('llama2.c checkpoint: bad input', () => {
  it('truncated', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    truncateSync(tiny.modelPath, 5000);
    const err = await failure(tiny.modelPath);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toMatch(/model\.bin: truncated: the header describes \d+ bytes of model, the file has 5000/);
  });

  it('bytes beyond what the header describes', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    writeFileSync(tiny.modelPath, Buffer.concat([readFileSync(tiny.modelPath), Buffer.alloc(12)]));
    expect((await failure(tiny.modelPath)).message).toMatch(/12 bytes more than its header describes/);
  });

  it('not a checkpoint at all', async () => {
    const file = path.join(tmpDir(), 'notes.bin');
    writeFileSync(file, 'hello, this is not a model, just text that is long enough');
    expect((await failure(file)).message).toMatch(/not a llama2.c checkpoint/);
  });

  it('tokenizer.bin of another vocabulary', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { pieces, scores } = { pieces: ['<unk>', '<s>', '</s>'], scores: [0, 0, 0] };
    for (let b = 0; b < 256; b++) {
      pieces.push(`<0x${b.toString(16).padStart(2, '0')}>`);
      scores.push(0);
    }
    const other = path.join(tmpDir(), 'tok259.bin');
    Llama2cTokenizer.write(other, pieces, scores);
    const err = await failure(tiny.modelPath, { tokenizer: other });
    expect(err.message).toMatch(/tok259\.bin: holds 259 tokens but the model has a vocabulary of 374/);
  });

  it('no tokenizer beside the checkpoint', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    rmSync(tiny.tokenizerPath);
    expect((await failure(tiny.modelPath)).message).toMatch(/needs its tokenizer: pass --tokenizer/);
  });

  it('a path that does not exist, and stories260K when INTRODL_DATA lacks it', async () => {
    expect(await failure(path.join(tmpDir(), 'nope.bin'))).toBeInstanceOf(MissingFileError);
    const saved = { data: process.env.INTRODL_DATA, cache: process.env.INTRODL_CACHE };
    process.env.INTRODL_DATA = tmpDir();
    process.env.INTRODL_CACHE = tmpDir();
    try {
      const err = await failure('stories260K');
      expect(err).toBeInstanceOf(MissingDataError);
      expect(err.message).toMatch(/stories260K was not found[\s\S]*pass --model <path to stories260K\.bin>/);
    } finally {
      process.env.INTRODL_DATA = saved.data;
      process.env.INTRODL_CACHE = saved.cache;
      if (saved.data === undefined) delete process.env.INTRODL_DATA;
      if (saved.cache === undefined) delete process.env.INTRODL_CACHE;
    }
  });
});
