import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BadFileError, MissingFileError, tf, writeFileAtomicSync } from '@introdl/core';
import type { LlamaConfig } from '../model/config.js';

/**
 * llama2.c checkpoints (Karpathy's `model.bin`, e.g. stories260K.bin). Version 0 ("legacy") is a
 * header of 7 int32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len — then
 * float32 weights, each kind for all layers in a row: token embedding, attention norms, wq, wk, wv,
 * wo, ffn norms, w1, w2, w3, final norm, the freq_cis tables (seq_len · head_size / 2 floats twice,
 * unused), and the classifier only when it is not shared. A negative vocab_size means "not shared".
 * Version 1 starts with the magic "ak42" and a 256-byte header and orders the weights differently.
 */

const MAGIC = 0x616b3432;

/** The header of a llama2.c checkpoint. */
export interface Llama2cHeader {
  version: 0 | 1;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
  /** Byte offset of the first weight. */
  dataOffset: number;
}

/** The config llama2.c implies: RMSNorm eps 1e-5, θ = 10000, BOS 1 (which also ends generation). */
export function llama2cConfig(h: Llama2cHeader): LlamaConfig {
  return {
    architecture: 'llama2c',
    vocabSize: h.vocabSize,
    hiddenSize: h.dim,
    intermediateSize: h.hiddenDim,
    numLayers: h.nLayers,
    numHeads: h.nHeads,
    numKvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositions: h.seqLen,
    tieWordEmbeddings: h.sharedClassifier,
    attentionBias: false,
    bosTokenId: 1,
    // run.c stops when the model produces BOS: stories are delimited by it.
    eosTokenIds: [1],
  };
}

function readHeader(path: string, fd: number, size: number): Llama2cHeader {
  const buf = Buffer.alloc(Math.min(size, 256));
  readSync(fd, buf, 0, buf.length, 0);
  if (size < 28) throw new BadFileError(path, `truncated: ${size} bytes, a llama2.c header needs 28`);
  let version: 0 | 1 = 0;
  let base = 0;
  if (buf.readUInt32LE(0) === MAGIC) {
    const v = buf.readInt32LE(4);
    if (v !== 1)
      throw new BadFileError(
        path,
        `llama2.c version ${v} is not supported (versions 0 and 1 are; v2 is int8-quantized)`,
      );
    if (size < 256) throw new BadFileError(path, 'truncated inside the 256-byte version-1 header');
    version = 1;
    base = 8;
  }
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => buf.readInt32LE(base + 4 * i));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = ints;
  const sharedClassifier = version === 1 ? buf.readUInt8(36) === 1 : rawVocab > 0;
  const vocabSize = Math.abs(rawVocab);
  const bad = [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen].some((v) => !(v > 0 && v < 1 << 24));
  if (bad || dim % nHeads !== 0 || nHeads % nKvHeads !== 0 || (dim / nHeads) % 2 !== 0) {
    throw new BadFileError(
      path,
      `not a llama2.c checkpoint: header [dim ${dim}, hidden ${hiddenDim}, layers ${nLayers}, heads ${nHeads}, kv heads ${nKvHeads}, vocab ${rawVocab}, seq_len ${seqLen}] is not a valid model`,
    );
  }
  return {
    version,
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen,
    sharedClassifier,
    dataOffset: version === 1 ? 256 : 28,
  };
}

/** One block of the file: a weight kind for all layers, `count` floats. */
interface Block {
  kind: string;
  count: number;
}

function layout(h: Llama2cHeader): Block[] {
  const hs = h.dim / h.nHeads;
  const kv = h.nKvHeads * hs;
  const L = h.nLayers;
  const blocks: Record<string, number> = {
    embed: h.vocabSize * h.dim,
    attnNorm: L * h.dim,
    wq: L * h.dim * h.dim,
    wk: L * h.dim * kv,
    wv: L * h.dim * kv,
    wo: L * h.dim * h.dim,
    ffnNorm: L * h.dim,
    w1: L * h.dim * h.hiddenDim,
    w2: L * h.hiddenDim * h.dim,
    w3: L * h.dim * h.hiddenDim,
    finalNorm: h.dim,
    freqCis: h.seqLen * hs, // real and imaginary halves, unused
    wcls: h.sharedClassifier ? 0 : h.vocabSize * h.dim,
  };
  const order =
    h.version === 0
      ? ['embed', 'attnNorm', 'wq', 'wk', 'wv', 'wo', 'ffnNorm', 'w1', 'w2', 'w3', 'finalNorm', 'freqCis', 'wcls']
      : ['attnNorm', 'ffnNorm', 'finalNorm', 'embed', 'wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3', 'wcls'];
  return order.map((kind) => ({ kind, count: blocks[kind] }));
}

/**
 * Reorders the rows of a q or k weight [heads·d, in] from interleaved pairs (2j, 2j+1) to the
 * rotate-half layout (j, j+d/2), per head: export.py's `permute_original`. Attention scores do not
 * change, because q and k are permuted alike.
 */
export function permuteForRotateHalf(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < headDim / 2; j++)
      for (let c = 0; c < 2; c++) {
        const from = (h * headDim + 2 * j + c) * cols;
        const to = (h * headDim + c * (headDim / 2) + j) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
  return out;
}

/** The inverse of {@link permuteForRotateHalf}. */
export function permuteToInterleaved(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < headDim / 2; j++)
      for (let c = 0; c < 2; c++) {
        const to = (h * headDim + 2 * j + c) * cols;
        const from = (h * headDim + c * (headDim / 2) + j) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
  return out;
}

/** Reads `count` float32 from `fd` at `offset`. */
function readFloats(fd: number, offset: number, count: number): Float32Array {
  const buf = Buffer.alloc(count * 4);
  readSync(fd, buf, 0, buf.length, offset);
  return new Float32Array(buf.buffer, buf.byteOffset, count);
}

/**
 * Opens a llama2.c checkpoint and reads it block by block into plain arrays in Hugging Face names.
 * With `layout: 'rotate-half'` (what the tfjs model wants) q and k are permuted; with `interleaved`
 * they stay as in the file (what run.c and the reference forward in interleaved mode use).
 * @throws BadFileError when the header is not a model or the file size disagrees with it.
 */
export function readLlama2c(
  path: string,
  options: { layout: 'rotate-half' | 'interleaved' } = { layout: 'rotate-half' },
  onTensor?: (name: string, data: Float32Array, shape: number[]) => void,
): { header: Llama2cHeader; config: LlamaConfig; weights: Map<string, Float32Array>; fileBytes: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new MissingFileError(path, 'pass a llama2.c checkpoint (.bin) or a Hugging Face model folder');
  }
  try {
    const size = fstatSync(fd).size;
    const h = readHeader(path, fd, size);
    const blocks = layout(h);
    const needed = h.dataOffset + blocks.reduce((s, b) => s + b.count, 0) * 4;
    if (size < needed) {
      throw new BadFileError(path, `truncated: the header describes ${needed} bytes of model, the file has ${size}`);
    }
    if (size > needed) {
      throw new BadFileError(
        path,
        `has ${size - needed} bytes more than its header describes (${needed}); is it a llama2.c v0/v1 float32 checkpoint?`,
      );
    }
    const config = llama2cConfig(h);
    const weights = new Map<string, Float32Array>();
    const emit = (name: string, data: Float32Array, shape: number[]) => {
      if (onTensor) onTensor(name, data, shape);
      else weights.set(name, data);
    };
    const hs = h.dim / h.nHeads;
    const perLayer: Record<string, { name: string; shape: number[]; heads?: number }> = {
      attnNorm: { name: 'input_layernorm.weight', shape: [h.dim] },
      ffnNorm: { name: 'post_attention_layernorm.weight', shape: [h.dim] },
      wq: { name: 'self_attn.q_proj.weight', shape: [h.dim, h.dim], heads: h.nHeads },
      wk: { name: 'self_attn.k_proj.weight', shape: [h.nKvHeads * hs, h.dim], heads: h.nKvHeads },
      wv: { name: 'self_attn.v_proj.weight', shape: [h.nKvHeads * hs, h.dim] },
      wo: { name: 'self_attn.o_proj.weight', shape: [h.dim, h.dim] },
      w1: { name: 'mlp.gate_proj.weight', shape: [h.hiddenDim, h.dim] },
      w2: { name: 'mlp.down_proj.weight', shape: [h.dim, h.hiddenDim] },
      w3: { name: 'mlp.up_proj.weight', shape: [h.hiddenDim, h.dim] },
    };
    let offset = h.dataOffset;
    for (const block of blocks) {
      const at = offset;
      offset += block.count * 4;
      if (block.kind === 'freqCis' || block.count === 0) continue;
      if (block.kind === 'embed')
        emit('model.embed_tokens.weight', readFloats(fd, at, block.count), [h.vocabSize, h.dim]);
      else if (block.kind === 'finalNorm') emit('model.norm.weight', readFloats(fd, at, block.count), [h.dim]);
      else if (block.kind === 'wcls') emit('lm_head.weight', readFloats(fd, at, block.count), [h.vocabSize, h.dim]);
      else {
        const spec = perLayer[block.kind];
        const n = block.count / h.nLayers;
        for (let l = 0; l < h.nLayers; l++) {
          let data = readFloats(fd, at + l * n * 4, n);
          if (spec.heads && options.layout === 'rotate-half') data = permuteForRotateHalf(data, spec.heads, hs, h.dim);
          emit(`model.layers.${l}.${spec.name}`, data, spec.shape);
        }
      }
    }
    return { header: h, config, weights, fileBytes: size };
  } finally {
    closeSync(fd);
  }
}

/** Loads a llama2.c checkpoint straight into tensors, one weight at a time. */
export function loadLlama2cWeights(path: string): {
  config: LlamaConfig;
  weights: Map<string, tf.Tensor>;
  fileBytes: number;
} {
  const weights = new Map<string, tf.Tensor>();
  try {
    const { config, fileBytes } = readLlama2c(path, { layout: 'rotate-half' }, (name, data, shape) => {
      weights.set(name, tf.tensor(data, shape, 'float32'));
    });
    return { config, weights, fileBytes };
  } catch (err) {
    for (const t of weights.values()) t.dispose();
    throw err;
  }
}

/**
 * Writes a version-0 llama2.c checkpoint from weights in Hugging Face names with q/k in the
 * interleaved (llama2.c) order. Used by tests to build fixtures, and to export a model for run.c.
 */
export function writeLlama2c(path: string, config: LlamaConfig, weights: ReadonlyMap<string, Float32Array>): void {
  const get = (n: string) => {
    const w = weights.get(n);
    if (!w) throw new Error(`writeLlama2c: missing ${n}`);
    return w;
  };
  const header = new Int32Array([
    config.hiddenSize,
    config.intermediateSize,
    config.numLayers,
    config.numHeads,
    config.numKvHeads,
    config.tieWordEmbeddings ? config.vocabSize : -config.vocabSize,
    config.maxPositions,
  ]);
  const parts: Float32Array[] = [get('model.embed_tokens.weight')];
  const layers = (suffix: string) => {
    for (let l = 0; l < config.numLayers; l++) parts.push(get(`model.layers.${l}.${suffix}`));
  };
  layers('input_layernorm.weight');
  for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) layers(`self_attn.${p}.weight`);
  layers('post_attention_layernorm.weight');
  for (const p of ['gate_proj', 'down_proj', 'up_proj']) layers(`mlp.${p}.weight`);
  parts.push(get('model.norm.weight'));
  // freq_cis tables as export.py writes them (cos then sin), though readers ignore them.
  const hs = config.headDim;
  const cos = new Float32Array((config.maxPositions * hs) / 2);
  const sin = new Float32Array((config.maxPositions * hs) / 2);
  for (let t = 0; t < config.maxPositions; t++)
    for (let j = 0; j < hs / 2; j++) {
      const a = t / 10000 ** ((2 * j) / hs);
      cos[(t * hs) / 2 + j] = Math.cos(a);
      sin[(t * hs) / 2 + j] = Math.sin(a);
    }
  parts.push(cos, sin);
  if (!config.tieWordEmbeddings) parts.push(get('lm_head.weight'));
  const total = 28 + parts.reduce((s, p) => s + p.byteLength, 0);
  const out = Buffer.alloc(total);
  Buffer.from(header.buffer).copy(out, 0);
  let pos = 28;
  for (const p of parts) {
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(out, pos);
    pos += p.byteLength;
  }
  writeFileAtomicSync(path, out);
}
