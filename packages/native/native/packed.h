/* Matrix products with 16-bit float weights (bfloat16 or IEEE half) dequantised block by block. */
#ifndef INTRODL_PACKED_H
#define INTRODL_PACKED_H

#include <stddef.h>
#include <stdint.h>

/* Storage of a packed weight. */
enum { PACKED_BF16 = 0, PACKED_F16 = 1 };

/* out[i] = the float32 value of the 16-bit float in[i]. */
void dequantize16(const uint16_t *in, float *out, size_t n, int kind);

/*
 * C[M, N] (leading dimension ldc) = A[M, K] (lda) · op(W), row-major, W stored as 16-bit floats:
 * transW = 1: W is [N, K] and op(W) = Wᵀ (a Linear layer's y = x·Wᵀ);
 * transW = 0: W is [K, N] and op(W) = W (its input gradient dx = dy·W).
 * W is dequantised a few hundred kilobytes at a time into `scratch` (at least packed_scratch_floats
 * floats), so no float32 copy of the whole matrix is ever made. Returns 0.
 */
int sgemm_packed(int transW, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint16_t *W,
                 int kind, float *C, int64_t ldc, float *scratch);

/* Floats of scratch sgemm_packed needs for a weight whose rows hold `row` elements. */
size_t packed_scratch_floats(int64_t row);

#endif
