/**
 * The LSTM's per-step elementwise work as tight loops over typed arrays, for the CPU backends (cpu,
 * wasm) where the data are in main memory and one pass in JavaScript beats a dozen small kernels.
 * Keras' gate order: pre-activations z = [z_i | z_f | z_c | z_o], u columns each, per batch row.
 *   i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o);  c' = f·c + i·g;  h' = o·tanh(c').
 */

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * One step forward. Reads pre-activations `z` [B, 4u] and the previous cell `cPrev` [B, u]; writes the
 * activated gates [B, 4u] (what backpropagation needs), the new cell `c`, tanh(c) as `tanhC`, and `h`.
 */
export function gatesForward(
  z: Float32Array,
  cPrev: Float32Array,
  gates: Float32Array,
  c: Float32Array,
  tanhC: Float32Array,
  h: Float32Array,
  batch: number,
  units: number,
): void {
  const u4 = 4 * units;
  for (let b = 0; b < batch; b++) {
    const zo = b * u4;
    const so = b * units;
    for (let j = 0; j < units; j++) {
      const i = sigmoid(z[zo + j]);
      const f = sigmoid(z[zo + units + j]);
      const g = Math.tanh(z[zo + 2 * units + j]);
      const o = sigmoid(z[zo + 3 * units + j]);
      const cv = f * cPrev[so + j] + i * g;
      const t = Math.tanh(cv);
      gates[zo + j] = i;
      gates[zo + units + j] = f;
      gates[zo + 2 * units + j] = g;
      gates[zo + 3 * units + j] = o;
      c[so + j] = cv;
      tanhC[so + j] = t;
      h[so + j] = o * t;
    }
  }
}

/**
 * One step backward. Given dL/dh of this step (`dh`, everything that reaches h) and dL/dc from the
 * step after (`dc`, updated in place to dL/dc of the previous step), writes dL/dz [B, 4u] to `dz`.
 */
export function gatesBackward(
  dh: Float32Array,
  dc: Float32Array,
  gates: Float32Array,
  cPrev: Float32Array,
  tanhC: Float32Array,
  dz: Float32Array,
  batch: number,
  units: number,
): void {
  const u4 = 4 * units;
  for (let b = 0; b < batch; b++) {
    const zo = b * u4;
    const so = b * units;
    for (let j = 0; j < units; j++) {
      const i = gates[zo + j];
      const f = gates[zo + units + j];
      const g = gates[zo + 2 * units + j];
      const o = gates[zo + 3 * units + j];
      const t = tanhC[so + j];
      const dhv = dh[so + j];
      const dcv = dc[so + j] + dhv * o * (1 - t * t);
      dz[zo + j] = dcv * g * i * (1 - i);
      dz[zo + units + j] = dcv * cPrev[so + j] * f * (1 - f);
      dz[zo + 2 * units + j] = dcv * i * (1 - g * g);
      dz[zo + 3 * units + j] = dhv * t * o * (1 - o);
      dc[so + j] = dcv * f;
    }
  }
}
