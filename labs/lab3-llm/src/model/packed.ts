import { nativeAddon, tf } from '@introdl/core';
import { cpuMemory, type KernelMemory as Memory, wasmMemory } from './kernel-memory.js';

/**
 * Frozen weights kept in 16 bits (bfloat16 as most checkpoints ship, or IEEE half) and turned into
 * float32 only inside the matrix product, a block at a time: half the memory of float32 weights,
 * which is what lets a 1B-parameter model train in a laptop's memory (and in the wasm backend's 4 GB
 * heap). Only base weights are stored this way; activations, gradients and LoRA stay float32.
 *
 * A packed weight is an int32 tensor holding two 16-bit values per element ([rows, cols/2], little
 * endian: value 2j in the low half of word j), so tfjs manages its memory like any tensor. Two kernels
 * use it — `IntrodlPackedMatMul` (x·Wᵀ or x·W) and `IntrodlPackedGather` (embedding rows) — registered
 * for the cpu and wasm backends; on wasm with the `@introdl/native` addon the product is OpenBLAS
 * over blocks converted in C (`sgemmPacked`), otherwise blocks are converted in JavaScript and
 * multiplied by the backend's own BatchMatMul. Another backend can register the same kernel names;
 * until then it gets the slow path of {@link PackedWeight.dequantize}.
 */

/** 16-bit float formats. */
export type PackedKind = 'bf16' | 'f16';

const KIND_CODE: Record<PackedKind, 0 | 1> = { bf16: 0, f16: 1 };
export const PACKED_MATMUL = 'IntrodlPackedMatMul';
export const PACKED_GATHER = 'IntrodlPackedGather';

let halfTable: Float32Array | undefined;

/** float32 value of every IEEE half bit pattern (256 kB, built on first use). */
function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      halfTable[h] =
        exp === 0
          ? sign * 2 ** -14 * (frac / 1024)
          : exp === 31
            ? frac
              ? Number.NaN
              : sign * Number.POSITIVE_INFINITY
            : sign * 2 ** (exp - 15) * (1 + frac / 1024);
    }
  }
  return halfTable;
}

/** out[i] = float32 of the 16-bit float in[i] (JavaScript; the addon's dequantize16 does this in C). */
export function dequantize16(input: Uint16Array, out: Float32Array, kind: PackedKind): void {
  const addon = nativeAddon();
  if (addon?.dequantize16 && input.length > 4096) {
    addon.dequantize16(input, out, KIND_CODE[kind]);
    return;
  }
  if (kind === 'bf16') {
    const u32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < input.length; i++) u32[i] = input[i] << 16;
  } else {
    const table = halfToFloatTable();
    for (let i = 0; i < input.length; i++) out[i] = table[input[i]];
  }
}

/** float32 → bfloat16, rounding to nearest even (NaN stays NaN). */
export function toBf16(values: Float32Array): Uint16Array {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u32.length; i++) {
    const u = u32[i];
    out[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → IEEE half, rounding to nearest even (overflow to ±∞). */
export function toF16(values: Float32Array): Uint16Array {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u32.length; i++) {
    const x = u32[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

/** A frozen [rows, cols] weight stored as 16-bit floats. */
export class PackedWeight {
  private constructor(
    /** int32 [rows, cols/2]: the 16-bit values, two per element. */
    readonly data: tf.Tensor2D,
    readonly shape: [number, number],
    readonly kind: PackedKind,
  ) {}

  /** Whether a [rows, cols] matrix can be packed (cols must be even: two values per int32). */
  static fits(shape: readonly number[]): boolean {
    return shape.length === 2 && shape[1] % 2 === 0 && shape[1] > 0;
  }

  /** Wraps 16-bit values (row-major) without converting them. */
  static fromUint16(values: Uint16Array, shape: [number, number], kind: PackedKind): PackedWeight {
    if (!PackedWeight.fits(shape) || values.length !== shape[0] * shape[1]) {
      throw new Error(`cannot pack ${values.length} values as [${shape}] (columns must be even)`);
    }
    // Copy into an aligned buffer: the int32 view needs a 4-byte aligned offset.
    const words = new Int32Array(values.length / 2);
    new Uint16Array(words.buffer).set(values);
    return new PackedWeight(tf.tensor2d(words, [shape[0], shape[1] / 2], 'int32'), shape, kind);
  }

  /** Rounds float32 values to `kind` and packs them. */
  static fromFloat32(values: Float32Array, shape: [number, number], kind: PackedKind): PackedWeight {
    return PackedWeight.fromUint16(kind === 'bf16' ? toBf16(values) : toF16(values), shape, kind);
  }

  get size(): number {
    return this.shape[0] * this.shape[1];
  }

  /** Bytes in memory: two per value. */
  get bytes(): number {
    return this.size * 2;
  }

  /** The values as 16-bit patterns (a copy, read synchronously). */
  uint16(): Uint16Array {
    const words = this.data.dataSync() as Int32Array;
    return new Uint16Array(words.buffer, words.byteOffset, words.length * 2);
  }

  /** The whole weight as a float32 tensor (the caller disposes it): merging LoRA, fingerprints, exports. */
  dequantize(): tf.Tensor2D {
    const out = new Float32Array(this.size);
    dequantize16(this.uint16(), out, this.kind);
    return tf.tensor2d(out, this.shape);
  }

  dispose(): void {
    this.data.dispose();
  }
}

/**
 * x [n, K] times a packed weight: x·Wᵀ for W [N, K] (`transposeW`, a Linear layer) or x·W for W
 * [K, N] (its input gradient). Not differentiable by itself: see {@link packedLinear}.
 */
export function packedMatMul(x: tf.Tensor2D, w: PackedWeight, transposeW: boolean): tf.Tensor2D {
  ensurePackedKernels();
  if (!tf.getKernel(PACKED_MATMUL, tf.getBackend())) {
    // A backend without the kernel: convert the whole weight (slow, but right).
    return tf.tidy(() => {
      const dense = w.dequantize();
      return tf.matMul(x, dense, false, transposeW);
    });
  }
  return tf.engine().runKernel(PACKED_MATMUL, { x, w: w.data }, {
    transposeW,
    kind: KIND_CODE[w.kind],
  } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * A frozen Linear layer with a packed weight W [out, in]: y = x·Wᵀ, and in the backward pass only
 * the input gradient dy·W (the weight is frozen, so its gradient is never formed).
 */
export function packedLinear(x: tf.Tensor2D, w: PackedWeight): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: packedMatMul(input, w, true),
      gradFunc: (dy: tf.Tensor) => packedMatMul(dy as tf.Tensor2D, w, false),
    };
  });
  return op(x) as tf.Tensor2D;
}

/** Rows `ids` of a packed [V, H] table as float32 [ids.length, H] (embedding lookup). */
export function packedGather(w: PackedWeight, ids: tf.Tensor1D): tf.Tensor2D {
  ensurePackedKernels();
  if (!tf.getKernel(PACKED_GATHER, tf.getBackend())) {
    return tf.tidy(() => tf.gather(w.dequantize(), ids) as tf.Tensor2D);
  }
  return tf.engine().runKernel(PACKED_GATHER, { w: w.data, indices: ids }, {
    kind: KIND_CODE[w.kind],
  } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

// ---- kernels -------------------------------------------------------------------------------------

type TensorInfo = tf.TensorInfo;

const asUint16 = (words: Int32Array) => new Uint16Array(words.buffer, words.byteOffset, words.length * 2);
const kindOf = (code: number): PackedKind => (code === 1 ? 'f16' : 'bf16');

/** Rows of W converted per block in JavaScript: about 1 MB of float32. */
const JS_BLOCK_ELEMS = 256 * 1024;

/**
 * C = A·op(W) in JavaScript, a block of W's rows converted at a time: for the cpu backend (tests,
 * tiny models) and for wasm without the native addon.
 */
function packedMatMulJs(
  A: Float32Array,
  M: number,
  W: Uint16Array,
  rows: number,
  cols: number,
  kind: PackedKind,
  transW: boolean,
  C: Float32Array,
): void {
  const per = Math.max(1, Math.floor(JS_BLOCK_ELEMS / cols));
  const block = new Float32Array(Math.min(rows, per) * cols);
  C.fill(0);
  const N = transW ? rows : cols;
  const K = transW ? cols : rows;
  for (let r0 = 0; r0 < rows; r0 += per) {
    const br = Math.min(per, rows - r0);
    const b = block.subarray(0, br * cols);
    dequantize16(W.subarray(r0 * cols, (r0 + br) * cols), b, kind);
    for (let m = 0; m < M; m++) {
      const a = m * K;
      const c = m * N;
      if (transW) {
        // C[m, r0 + j] = Σ_k A[m, k] W[r0 + j, k]
        for (let j = 0; j < br; j++) {
          let s = 0;
          const w = j * cols;
          for (let k = 0; k < cols; k++) s += A[a + k] * b[w + k];
          C[c + r0 + j] = s;
        }
      } else {
        // C[m, :] += Σ_j A[m, r0 + j] W[r0 + j, :]
        for (let j = 0; j < br; j++) {
          const av = A[a + r0 + j];
          if (av === 0) continue;
          const w = j * cols;
          for (let n = 0; n < cols; n++) C[c + n] += av * b[w + n];
        }
      }
    }
  }
}

function matMulKernel(memory: (backend: unknown) => Memory, useNative: boolean): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { x, w } = inputs as { x: TensorInfo; w: TensorInfo };
    const { transposeW, kind } = attrs as unknown as { transposeW: boolean; kind: number };
    const [rows, half] = w.shape;
    const cols = half * 2;
    const K = transposeW ? cols : rows;
    const N = transposeW ? rows : cols;
    if (x.shape.length !== 2 || x.shape[1] !== K) {
      throw new Error(`${PACKED_MATMUL}: x is [${x.shape}] but the weight needs [n, ${K}]`);
    }
    const M = x.shape[0];
    const mem = memory(backend);
    return mem.output([M, N], (C) => {
      const A = mem.read(x) as Float32Array;
      const W = asUint16(mem.read(w) as Int32Array);
      const addon = useNative ? nativeAddon() : undefined;
      if (addon?.sgemmPacked) addon.sgemmPacked(transposeW, M, N, K, A, K, W, kind as 0 | 1, C, N);
      else packedMatMulJs(A, M, W, rows, cols, kindOf(kind), transposeW, C);
    });
  };
}

function gatherKernel(memory: (backend: unknown) => Memory): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { w, indices } = inputs as { w: TensorInfo; indices: TensorInfo };
    const kind = kindOf((attrs as unknown as { kind: number }).kind);
    const [rows, half] = w.shape;
    const cols = half * 2;
    const mem = memory(backend);
    const n = indices.shape.reduce((a, b) => a * b, 1);
    return mem.output([n, cols], (out) => {
      const ids = mem.read(indices);
      const W = asUint16(mem.read(w) as Int32Array);
      for (let i = 0; i < n; i++) {
        const r = ids[i];
        if (!(r >= 0 && r < rows)) throw new Error(`${PACKED_GATHER}: index ${r} is not in [0, ${rows - 1}]`);
        dequantize16(W.subarray(r * cols, (r + 1) * cols), out.subarray(i * cols, (i + 1) * cols), kind);
      }
    });
  };
}

let registered = false;

/** Registers the packed kernels for the cpu and wasm backends (once). */
export function ensurePackedKernels(): void {
  if (registered) return;
  registered = true;
  const backends: [string, (b: unknown) => Memory, boolean][] = [
    ['cpu', cpuMemory, false],
    ['wasm', wasmMemory, true],
  ];
  for (const [backendName, memory, native] of backends) {
    if (!tf.getKernel(PACKED_MATMUL, backendName)) {
      tf.registerKernel({ kernelName: PACKED_MATMUL, backendName, kernelFunc: matMulKernel(memory, native) });
    }
    if (!tf.getKernel(PACKED_GATHER, backendName)) {
      tf.registerKernel({ kernelName: PACKED_GATHER, backendName, kernelFunc: gatherKernel(memory) });
    }
  }
}
