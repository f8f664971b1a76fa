import { type LlamaConfig, layerType } from './config.js';
import { finalNormName, layerNames } from './layout.js';
import { inverseFrequencies, layerRope, ropeAngle } from './rope.js';

/**
 * A straightforward forward pass in plain TypeScript (Float32Array loops, one token at a time, no
 * tensors), written to be read rather than fast, from the definitions in transformers' modeling
 * files. Tests compare the tfjs model against it, for every architecture.
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

/** x / √(mean(x²) + ε) · (offset + w): offset 1 for Gemma's norms, 0 for the others. */
function rmsnorm(x: Float32Array, weight: Float32Array, eps: number, offset: number): Float32Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => (offset + weight[i]) * v * scale);
}

/** RMSNorm of each head of `vec` (heads × d) separately. */
function headNorm(vec: Float32Array, heads: number, d: number, weight: Float32Array, eps: number, offset: number) {
  for (let h = 0; h < heads; h++) vec.set(rmsnorm(vec.subarray(h * d, (h + 1) * d), weight, eps, offset), h * d);
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

/** PyTorch's gelu(approximate="tanh"). */
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

const softcap = (x: number, cap?: number) => (cap ? cap * Math.tanh(x / cap) : x);

/** Logits [ids.length, vocab] (row-major) of a causal pass over `ids`. */
export function referenceLogits(
  config: LlamaConfig,
  w: Weights,
  ids: number[],
  options: ReferenceOptions,
): Float32Array {
  const { hiddenSize: H, numHeads, numKvHeads, headDim: D, intermediateSize: F, vocabSize: V } = config;
  const eps = config.rmsNormEps;
  const offset = config.normOffset ?? 0;
  const L = config.convKernel ?? 3;
  const group = numHeads / numKvHeads;
  const keys: Float32Array[][] = Array.from({ length: config.numLayers }, () => []);
  const values: Float32Array[][] = Array.from({ length: config.numLayers }, () => []);
  const convInputs: Float32Array[][] = Array.from({ length: config.numLayers }, () => []);
  const inv = Array.from({ length: config.numLayers }, (_, l) => inverseFrequencies(layerRope(config, l)));
  const embed = get(w, 'model.embed_tokens.weight');
  const head = config.tieWordEmbeddings ? embed : get(w, 'lm_head.weight');
  const scale = config.queryScale ?? 1 / Math.sqrt(D);
  const logits = new Float32Array(ids.length * V);

  ids.forEach((token, pos) => {
    let x = embed.slice(token * H, (token + 1) * H).map((v) => v * (config.embedScale ?? 1));
    for (let l = 0; l < config.numLayers; l++) {
      const names = layerNames(config, l);
      const type = layerType(config, l);
      const bias = (m: string | undefined) => (m ? w.get(`${m}.bias`) : undefined);
      const lin = (role: keyof typeof names.linear, input: Float32Array, rows: number) =>
        linear(get(w, `${names.linear[role]}.weight`), input, rows, bias(names.linear[role]));
      const xb = rmsnorm(x, get(w, `${names.inputNorm}.weight`), eps, offset);
      let mixed: Float32Array;
      if (type === 'conv') {
        // LFM2: in_proj → (b, c, x); conv over b·x (causal, depthwise, L taps); times c; out_proj.
        const bcx = lin('in_proj', xb, 3 * H);
        const bx = new Float32Array(H);
        for (let i = 0; i < H; i++) bx[i] = bcx[i] * bcx[2 * H + i];
        convInputs[l].push(bx);
        const kernel = get(w, `${names.conv}.weight`); // [H, 1, L]
        const convBias = w.get(`${names.conv}.bias`);
        const y = new Float32Array(H);
        for (let i = 0; i < H; i++) {
          let s = convBias ? convBias[i] : 0;
          for (let k = 0; k < L; k++) {
            const t = pos - (L - 1) + k;
            if (t >= 0) s += kernel[i * L + k] * convInputs[l][t][i];
          }
          y[i] = bcx[H + i] * s;
        }
        mixed = lin('conv_out_proj', y, H);
      } else {
        const q = lin('q_proj', xb, numHeads * D);
        const k = lin('k_proj', xb, numKvHeads * D);
        const v = lin('v_proj', xb, numKvHeads * D);
        if (names.qNorm && names.kNorm) {
          headNorm(q, numHeads, D, get(w, `${names.qNorm}.weight`), eps, offset);
          headNorm(k, numKvHeads, D, get(w, `${names.kNorm}.weight`), eps, offset);
        }
        rotate(q, numHeads, D, pos, inv[l], options.rope);
        rotate(k, numKvHeads, D, pos, inv[l], options.rope);
        keys[l].push(k);
        values[l].push(v);
        // A sliding layer sees the query's position and the window − 1 before it.
        const first = type === 'sliding' && config.slidingWindow ? Math.max(0, pos - config.slidingWindow + 1) : 0;
        const attended = new Float32Array(numHeads * D);
        for (let h = 0; h < numHeads; h++) {
          const kvh = Math.floor(h / group);
          const scores: number[] = [];
          for (let t = first; t <= pos; t++) {
            let s = 0;
            for (let i = 0; i < D; i++) s += q[h * D + i] * keys[l][t][kvh * D + i];
            scores.push(softcap(s * scale, config.attnSoftcap));
          }
          const max = Math.max(...scores);
          const exps = scores.map((s) => Math.exp(s - max));
          const sum = exps.reduce((a, b) => a + b, 0);
          for (let t = first; t <= pos; t++) {
            const p = exps[t - first] / sum;
            for (let i = 0; i < D; i++) attended[h * D + i] += p * values[l][t][kvh * D + i];
          }
        }
        mixed = lin('o_proj', attended, H);
      }
      if (names.postMixNorm) mixed = rmsnorm(mixed, get(w, `${names.postMixNorm}.weight`), eps, offset);
      x = x.map((xi, i) => xi + mixed[i]);

      const xm = rmsnorm(x, get(w, `${names.ffnNorm}.weight`), eps, offset);
      const gate = lin('gate_proj', xm, F);
      const up = lin('up_proj', xm, F);
      const act = (g: number) => (config.hiddenAct === 'gelu_tanh' ? geluTanh(g) : g / (1 + Math.exp(-g)));
      const hidden = gate.map((g, i) => act(g) * up[i]);
      let down = lin('down_proj', hidden, H);
      if (names.postFfnNorm) down = rmsnorm(down, get(w, `${names.postFfnNorm}.weight`), eps, offset);
      x = x.map((xi, i) => xi + down[i]);
    }
    const final = rmsnorm(x, get(w, finalNormName(config)), eps, offset);
    logits.set(
      linear(head, final, V).map((z) => softcap(z, config.finalSoftcap)),
      pos * V,
    );
  });
  return logits;
}
