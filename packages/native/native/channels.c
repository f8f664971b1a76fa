/*
 * Per-channel passes over channels-last data, the shape of BatchNorm's work.
 *
 * Reductions see a tensor as [outer, reduced, inner]. BatchNorm and bias gradients of an NHWC
 * network sum over the leading axes ([N, H, W] of [N, H, W, C]): that is outer = 1, inner = C, a
 * single streaming pass that adds each row into C accumulators. wasm's Sum transposes the reduced
 * axes to the end first, which costs more than the sum itself. Accumulating in double keeps sums of
 * many terms exact to float32 precision.
 */
#include "channels.h"

#include <math.h>
#include <stdlib.h>

/* Σ of n contiguous floats, with four accumulators so the adds pipeline. */
static double sum_contiguous(const float *x, size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += x[i];
    a1 += x[i + 1];
    a2 += x[i + 2];
    a3 += x[i + 3];
  }
  for (; i < n; i++) a0 += x[i];
  return (a0 + a1) + (a2 + a3);
}

int reduce_sum(const float *x, float *out, size_t outer, size_t reduced, size_t inner, double scale) {
  if (inner == 1) {
    for (size_t o = 0; o < outer; o++) out[o] = (float)(scale * sum_contiguous(x + o * reduced, reduced));
    return 0;
  }
  double *acc = malloc(inner * sizeof(double));
  if (!acc) return -1;
  for (size_t o = 0; o < outer; o++) {
    for (size_t i = 0; i < inner; i++) acc[i] = 0;
    const float *block = x + o * reduced * inner;
    for (size_t r = 0; r < reduced; r++) {
      const float *row = block + r * inner;
      for (size_t i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (size_t i = 0; i < inner; i++) out[o * inner + i] = (float)(scale * acc[i]);
  }
  free(acc);
  return 0;
}

void batch_norm(const float *x, float *out, size_t rows, size_t channels, const float *mean, const float *variance,
                const float *offset, const float *scale, double epsilon, float *work) {
  /* One multiply-add per element: y = x·s + t with s = scale/√(var+ε), t = offset − mean·s per channel. */
  float *s = work, *t = work + channels;
  for (size_t c = 0; c < channels; c++) {
    double sc = (scale ? scale[c] : 1.0) / sqrt((double)variance[c] + epsilon);
    s[c] = (float)sc;
    t[c] = (float)((offset ? offset[c] : 0.0) - mean[c] * sc);
  }
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = out + r * channels;
    for (size_t c = 0; c < channels; c++) yr[c] = xr[c] * s[c] + t[c];
  }
}

/* One loop per operation, so that each inner loop is a plain vectorizable expression. */
#define CHANNEL_LOOP(expr)                                   \
  for (size_t r = 0; r < rows; r++) {                        \
    const float *f = full + r * channels;                    \
    float *o = out + r * channels;                           \
    for (size_t c = 0; c < channels; c++) o[c] = (expr);     \
  }

void channel_binary(const float *full, const float *vec, float *out, size_t rows, size_t channels, int op,
                    int vec_first) {
  switch (op * 2 + (vec_first ? 1 : 0)) {
    case 0:
    case 1:
      CHANNEL_LOOP(f[c] + vec[c]);
      break;
    case 2:
      CHANNEL_LOOP(f[c] - vec[c]);
      break;
    case 3:
      CHANNEL_LOOP(vec[c] - f[c]);
      break;
    case 4:
    case 5:
      CHANNEL_LOOP(f[c] * vec[c]);
      break;
    case 6:
      CHANNEL_LOOP(f[c] / vec[c]);
      break;
    case 7:
      CHANNEL_LOOP(vec[c] / f[c]);
      break;
  }
}
