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

#ifdef HAVE_X86
/*
 * One row of A times one row of W (16-bit), converting W in registers: for generation (M ≤ 4),
 * where the product reads every weight once and memory bandwidth is the limit, this reads 2 bytes
 * per weight instead of converting a block to float32 and reading that again.
 */
__attribute__((target("avx2,fma"))) static float dot_bf16_avx2(const float *a, const uint16_t *w, int64_t K) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256i h0 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + k)));
    __m256i h1 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + k + 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_castsi256_ps(_mm256_slli_epi32(h0, 16)), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_castsi256_ps(_mm256_slli_epi32(h1, 16)), acc1);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
  float s = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
  for (; k < K; k++) {
    uint32_t bits = (uint32_t)w[k] << 16;
    float f;
    memcpy(&f, &bits, 4);
    s += a[k] * f;
  }
  return s;
}

__attribute__((target("avx2,fma,f16c"))) static float dot_f16_avx2(const float *a, const uint16_t *w, int64_t K) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + k)));
    __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + k + 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), w0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), w1, acc1);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
  float s = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
  for (; k < K; k++) s += a[k] * half_to_float(w[k]);
  return s;
}

/* C[m, n] = A[m, :] · W[n, :] for m < M ≤ 4, W [N, K] in 16 bits; 0 when the CPU lacks AVX2/FMA (or F16C). */
static int small_m_fused(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint16_t *W, int kind,
                         float *C, int64_t ldc) {
  static int avx2 = -1, f16c = -1;
  if (avx2 < 0) {
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f16c = avx2 && __builtin_cpu_supports("f16c");
  }
  if (!avx2 || (kind == PACKED_F16 && !f16c)) return 0;
  for (int64_t n = 0; n < N; n++) {
    const uint16_t *row = W + n * K;
    for (int64_t m = 0; m < M; m++)
      C[m * ldc + n] = kind == PACKED_BF16 ? dot_bf16_avx2(A + m * lda, row, K) : dot_f16_avx2(A + m * lda, row, K);
  }
  return 1;
}
#endif

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
#ifdef HAVE_X86
    if (M <= 4 && small_m_fused(M, N, K, A, lda, W, kind, C, ldc)) return 0;
#endif
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
