import type { LlamaConfig } from './config.js';
import { inverseFrequencies, ropeAngle } from './rope.js';

/**
 * A straightforward forward pass in plain TypeScript (Float32Array loops, one token at a time, no
 * tensors), written to be read rather than fast. Tests compare the tfjs model against it.
 *
 * `rope` says how the rotary embedding pairs the dimensions of a head: `half` pairs j with j + d/2
 * (Hugging Face's rotate_half; its checkpoints have q and k permuted for it); `interleaved` pairs
 * 2j with 2j + 1 (llama2.c's run.c, Meta's original layout).
 */
export interface ReferenceOptions {
  rope: 'half' | 'interleaved';
}

type Weights = ReadonlyMap<string, Float32Array>;

function get(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`reference forward: missing weight ${name}`);
  return t;
}

/** out[i] = Σ_j W[i, j] x[j] (+ b[i]) with W stored [rows, cols] row-major, PyTorch's Linear layout. */
function linear(W: Float32Array, x: Float32Array, rows: number, bias?: Float32Array): Float32Array {
  const cols = x.length;
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += W[i * cols + j] * x[j];
    out[i] = s + (bias ? bias[i] : 0);
  }
  return out;
}

function rmsnorm(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => weight[i] * v * scale);
}

function rotate(
  vec: Float32Array,
  heads: number,
  d: number,
  pos: number,
  inv: Float32Array,
  style: ReferenceOptions['rope'],
) {
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < d / 2; j++) {
      const a = ropeAngle(pos, inv[j]);
      const c = Math.cos(a);
      const s = Math.sin(a);
      const i0 = h * d + (style === 'half' ? j : 2 * j);
      const i1 = h * d + (style === 'half' ? j + d / 2 : 2 * j + 1);
      const x0 = vec[i0];
      const x1 = vec[i1];
      vec[i0] = x0 * c - x1 * s;
      vec[i1] = x0 * s + x1 * c;
    }
  }
}

/** Logits [ids.length, vocab] (row-major) of a causal pass over `ids`. */
export function referenceLogits(
  config: LlamaConfig,
  w: Weights,
  ids: number[],
  options: ReferenceOptions,
): Float32Array {
  const { hiddenSize: H, numHeads, numKvHeads, headDim: D, intermediateSize: F, vocabSize: V } = config;
  const inv = inverseFrequencies(config);
  const group = numHeads / numKvHeads;
  const keys: Float32Array[][] = Array.from({ length: config.numLayers }, () => []);
  const values: Float32Array[][] = Array.from({ length: config.numLayers }, () => []);
  const embed = get(w, 'model.embed_tokens.weight');
  const head = config.tieWordEmbeddings ? embed : get(w, 'lm_head.weight');
  const logits = new Float32Array(ids.length * V);

  ids.forEach((token, pos) => {
    let x = embed.slice(token * H, (token + 1) * H);
    for (let l = 0; l < config.numLayers; l++) {
      const p = `model.layers.${l}`;
      const xb = rmsnorm(x, get(w, `${p}.input_layernorm.weight`), config.rmsNormEps);
      const bias = (n: string) => (config.attentionBias ? get(w, `${p}.self_attn.${n}.bias`) : undefined);
      const q = linear(get(w, `${p}.self_attn.q_proj.weight`), xb, numHeads * D, bias('q_proj'));
      const k = linear(get(w, `${p}.self_attn.k_proj.weight`), xb, numKvHeads * D, bias('k_proj'));
      const v = linear(get(w, `${p}.self_attn.v_proj.weight`), xb, numKvHeads * D, bias('v_proj'));
      rotate(q, numHeads, D, pos, inv, options.rope);
      rotate(k, numKvHeads, D, pos, inv, options.rope);
      keys[l].push(k);
      values[l].push(v);

      const attended = new Float32Array(numHeads * D);
      for (let h = 0; h < numHeads; h++) {
        const kvh = Math.floor(h / group);
        const scores = keys[l].map((kt) => {
          let s = 0;
          for (let i = 0; i < D; i++) s += q[h * D + i] * kt[kvh * D + i];
          return s / Math.sqrt(D);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        values[l].forEach((vt, t) => {
          for (let i = 0; i < D; i++) attended[h * D + i] += (exps[t] / sum) * vt[kvh * D + i];
        });
      }
      const o = linear(get(w, `${p}.self_attn.o_proj.weight`), attended, H);
      x = x.map((xi, i) => xi + o[i]);

      const xm = rmsnorm(x, get(w, `${p}.post_attention_layernorm.weight`), config.rmsNormEps);
      const gate = linear(get(w, `${p}.mlp.gate_proj.weight`), xm, F);
      const up = linear(get(w, `${p}.mlp.up_proj.weight`), xm, F);
      const hidden = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = linear(get(w, `${p}.mlp.down_proj.weight`), hidden, H);
      x = x.map((xi, i) => xi + down[i]);
    }
    const final = rmsnorm(x, get(w, 'model.norm.weight'), config.rmsNormEps);
    logits.set(linear(head, final, V), pos * V);
  });
  return logits;
}
