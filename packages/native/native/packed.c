/*
 * Products with bfloat16 / float16 weights. A model's frozen base weights are kept in 16 bits (half
 * the memory of float32) and turned into float32 one block of rows at a time, each block multiplied
 * by OpenBLAS while it is still in cache. The work per block is 2·M·rows·K flops against rows·K
 * conversions, so for training batches the conversion costs a few percent; for M ≤ 4 (generation,
 * one token at a time) each block goes through sgemv, which reads the converted block once.
 */
#include "packed.h"

#include <cblas.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

/* Elements converted per block: 64K floats = 256 kB, inside L2 on current CPUs. */
#define BLOCK_ELEMS (64 * 1024)

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t frac = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (frac == 0) {
      bits = sign;
    } else { /* subnormal: normalise */
      int e = -1;
      do {
        frac <<= 1;
        e++;
      } while (!(frac & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((frac & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (frac << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (frac << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

#ifdef HAVE_X86
__attribute__((target("f16c,avx"))) static void half_block_f16c(const uint16_t *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128((const __m128i *)(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; i++) out[i] = half_to_float(in[i]);
}
#endif

void dequantize16(const uint16_t *in, float *out, size_t n, int kind) {
  if (kind == PACKED_BF16) {
    /* bfloat16 is the top half of a float32: a shift, which compilers vectorise. */
    uint32_t *o = (uint32_t *)out;
    for (size_t i = 0; i < n; i++) o[i] = (uint32_t)in[i] << 16;
    return;
  }
#ifdef HAVE_X86
  static int f16c = -1;
  if (f16c < 0) f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  if (f16c) {
    half_block_f16c(in, out, n);
    return;
  }
#endif
  for (size_t i = 0; i < n; i++) out[i] = half_to_float(in[i]);
}

static int64_t rows_per_block(int64_t row) {
  int64_t r = BLOCK_ELEMS / (row > 0 ? row : 1);
  return r < 1 ? 1 : r;
}

size_t packed_scratch_floats(int64_t row) { return (size_t)rows_per_block(row) * (size_t)row; }

int sgemm_packed(int transW, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint16_t *W,
                 int kind, float *C, int64_t ldc, float *scratch) {
  if (M == 0 || N == 0) return 0;
  if (K == 0) {
    for (int64_t m = 0; m < M; m++) memset(C + m * ldc, 0, (size_t)N * sizeof(float));
    return 0;
  }
  if (transW) {
    /* W [N, K]: a block of output columns per block of W's rows. */
    const int64_t rows = rows_per_block(K);
    for (int64_t n0 = 0; n0 < N; n0 += rows) {
      const int64_t bn = N - n0 < rows ? N - n0 : rows;
      dequantize16(W + n0 * K, scratch, (size_t)(bn * K), kind);
      if (M <= 4) {
        for (int64_t m = 0; m < M; m++)
          cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)bn, (int)K, 1.0f, scratch, (int)K, A + m * lda, 1, 0.0f,
                      C + m * ldc + n0, 1);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)bn, (int)K, 1.0f, A, (int)lda, scratch,
                    (int)K, 0.0f, C + n0, (int)ldc);
      }
    }
  } else {
    /* W [K, N]: accumulate over blocks of W's rows (the reduction axis). */
    const int64_t rows = rows_per_block(N);
    for (int64_t k0 = 0; k0 < K; k0 += rows) {
      const int64_t bk = K - k0 < rows ? K - k0 : rows;
      const float beta = k0 == 0 ? 0.0f : 1.0f;
      dequantize16(W + k0 * N, scratch, (size_t)(bk * N), kind);
      if (M <= 4) {
        for (int64_t m = 0; m < M; m++)
          cblas_sgemv(CblasRowMajor, CblasTrans, (int)bk, (int)N, 1.0f, scratch, (int)N, A + m * lda + k0, 1, beta,
                      C + m * ldc, 1);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)bk, 1.0f, A + k0, (int)lda,
                    scratch, (int)N, beta, C, (int)ldc);
      }
    }
  }
  return 0;
}
