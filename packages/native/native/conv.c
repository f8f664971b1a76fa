/*
 * NHWC convolution as im2col + sgemm. The im2col matrix has one row per output pixel and one column
 * per filter tap (kh, kw, c), which is exactly the row order of a [kh, kw, c, oc] filter seen as a
 * [kh*kw*c, oc] matrix, so each pass is one sgemm per chunk of images.
 */
#include "conv.h"

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Images per chunk are chosen so the im2col matrix stays near 1 MiB: written by im2col and read
 * by sgemm while still in cache. Lab 2's convolutions run 1.5-2× faster than with the whole batch
 * in one 16 MiB matrix, and each sgemm stays large enough for OpenBLAS to split across threads. */
#ifndef SCRATCH_TARGET
#define SCRATCH_TARGET ((size_t)256 << 10) /* floats */
#endif

size_t conv_x_size(const conv_geom *g) { return (size_t)g->n * g->h * g->w * g->c; }
size_t conv_y_size(const conv_geom *g) { return (size_t)g->n * g->oh * g->ow * g->oc; }
size_t conv_filter_size(const conv_geom *g) { return (size_t)g->kh * g->kw * g->c * g->oc; }

const char *conv_check(const conv_geom *g) {
  if (g->n < 1 || g->h < 1 || g->w < 1 || g->c < 1 || g->oh < 1 || g->ow < 1 || g->oc < 1 || g->kh < 1 ||
      g->kw < 1)
    return "every size must be at least 1";
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return "strides and dilations must be at least 1";
  if (g->pt < 0 || g->pl < 0) return "padding must not be negative";
  if ((size_t)g->n * g->oh * g->ow > INT_MAX || (size_t)g->kh * g->kw * g->c > INT_MAX ||
      (size_t)g->n * g->h * g->w > INT_MAX)
    return "too large for 32-bit BLAS indices";
  return NULL;
}

static int direct(const conv_geom *g) {
  /* A 1x1, stride-1, unpadded convolution is a plain matmul: x already is its im2col matrix. */
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h &&
         g->ow == g->w;
}

static float *scratch(scratch_buf *s, size_t floats) {
  if (s->cap >= floats) return s->data;
  free(s->data);
  s->data = NULL;
  s->cap = 0;
  void *p = NULL;
  if (posix_memalign(&p, 64, floats * sizeof(float)) != 0) return NULL;
  s->data = p;
  s->cap = floats;
  return s->data;
}

static int images_per_chunk(const conv_geom *g) {
  size_t per_image = (size_t)g->oh * g->ow * g->kh * g->kw * g->c;
  size_t k = per_image >= SCRATCH_TARGET ? 1 : SCRATCH_TARGET / per_image;
  return k > (size_t)g->n ? g->n : (int)k;
}

/* Copies the receptive fields of `count` images (starting at x) into col, zero where they overhang. */
static void im2col(const conv_geom *g, const float *x, int count, float *col) {
  const int c = g->c, kw = g->kw;
  const size_t run = (size_t)kw * c;
  float *dst = col;
  for (int i = 0; i < count; i++) {
    const float *img = x + (size_t)i * g->h * g->w * c;
    for (int oy = 0; oy < g->oh; oy++) {
      for (int ox = 0; ox < g->ow; ox++) {
        const int ix0 = ox * g->sw - g->pl;
        const int contiguous = g->dw == 1 && ix0 >= 0 && ix0 + kw <= g->w;
        for (int ky = 0; ky < g->kh; ky++) {
          const int iy = oy * g->sh - g->pt + ky * g->dh;
          if (iy < 0 || iy >= g->h) {
            memset(dst, 0, run * sizeof(float));
            dst += run;
            continue;
          }
          const float *row = img + (size_t)iy * g->w * c;
          if (contiguous) {
            memcpy(dst, row + (size_t)ix0 * c, run * sizeof(float));
            dst += run;
            continue;
          }
          for (int kx = 0; kx < kw; kx++) {
            const int ix = ix0 + kx * g->dw;
            if (ix < 0 || ix >= g->w)
              memset(dst, 0, c * sizeof(float));
            else
              memcpy(dst, row + (size_t)ix * c, c * sizeof(float));
            dst += c;
          }
        }
      }
    }
  }
}

/* The adjoint of im2col: adds each column entry back onto the input pixel it came from. */
static void col2im_add(const conv_geom *g, const float *col, int count, float *x) {
  const int c = g->c, kw = g->kw;
  const size_t run = (size_t)kw * c;
  const float *src = col;
  for (int i = 0; i < count; i++) {
    float *img = x + (size_t)i * g->h * g->w * c;
    for (int oy = 0; oy < g->oh; oy++) {
      for (int ox = 0; ox < g->ow; ox++) {
        const int ix0 = ox * g->sw - g->pl;
        const int contiguous = g->dw == 1 && ix0 >= 0 && ix0 + kw <= g->w;
        for (int ky = 0; ky < g->kh; ky++) {
          const int iy = oy * g->sh - g->pt + ky * g->dh;
          if (iy < 0 || iy >= g->h) {
            src += run;
            continue;
          }
          float *row = img + (size_t)iy * g->w * c;
          if (contiguous) {
            float *d = row + (size_t)ix0 * c;
            for (size_t j = 0; j < run; j++) d[j] += src[j];
            src += run;
            continue;
          }
          for (int kx = 0; kx < kw; kx++) {
            const int ix = ix0 + kx * g->dw;
            if (ix >= 0 && ix < g->w) {
              float *d = row + (size_t)ix * c;
              for (int j = 0; j < c; j++) d[j] += src[j];
            }
            src += c;
          }
        }
      }
    }
  }
}

int conv2d_forward(const conv_geom *g, const float *x, const float *filter, float *y, scratch_buf *s) {
  const int kkc = g->kh * g->kw * g->c;
  if (direct(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n * g->h * g->w, g->oc, g->c, 1.0f, x, g->c, filter,
                g->oc, 0.0f, y, g->oc);
    return 0;
  }
  const int chunk = images_per_chunk(g);
  float *col = scratch(s, (size_t)chunk * g->oh * g->ow * kkc);
  if (!col) return -1;
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = n0 + chunk > g->n ? g->n - n0 : chunk;
    const int rows = count * g->oh * g->ow;
    im2col(g, x + (size_t)n0 * g->h * g->w * g->c, count, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, g->oc, kkc, 1.0f, col, kkc, filter, g->oc, 0.0f,
                y + (size_t)n0 * g->oh * g->ow * g->oc, g->oc);
  }
  return 0;
}

int conv2d_backprop_input(const conv_geom *g, const float *dy, const float *filter, float *dx, scratch_buf *s) {
  const int kkc = g->kh * g->kw * g->c;
  if (direct(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->n * g->h * g->w, g->c, g->oc, 1.0f, dy, g->oc, filter,
                g->oc, 0.0f, dx, g->c);
    return 0;
  }
  const int chunk = images_per_chunk(g);
  float *col = scratch(s, (size_t)chunk * g->oh * g->ow * kkc);
  if (!col) return -1;
  memset(dx, 0, conv_x_size(g) * sizeof(float));
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = n0 + chunk > g->n ? g->n - n0 : chunk;
    const int rows = count * g->oh * g->ow;
    /* dcol = dy · filterᵀ, then scattered back onto the pixels each tap read. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, kkc, g->oc, 1.0f,
                dy + (size_t)n0 * g->oh * g->ow * g->oc, g->oc, filter, g->oc, 0.0f, col, kkc);
    col2im_add(g, col, count, dx + (size_t)n0 * g->h * g->w * g->c);
  }
  return 0;
}

int conv2d_backprop_filter(const conv_geom *g, const float *x, const float *dy, float *dfilter, scratch_buf *s) {
  const int kkc = g->kh * g->kw * g->c;
  if (direct(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->c, g->oc, g->n * g->h * g->w, 1.0f, x, g->c, dy, g->oc,
                0.0f, dfilter, g->oc);
    return 0;
  }
  const int chunk = images_per_chunk(g);
  const size_t col_size = (size_t)chunk * g->oh * g->ow * kkc;
  /* The scratch holds the im2col matrix, then dfilterᵀ [oc, kkc]. */
  float *col = scratch(s, col_size + (size_t)kkc * g->oc);
  if (!col) return -1;
  float *dft = col + col_size;
  for (int n0 = 0; n0 < g->n; n0 += chunk) {
    const int count = n0 + chunk > g->n ? g->n - n0 : chunk;
    const int rows = count * g->oh * g->ow;
    im2col(g, x + (size_t)n0 * g->h * g->w * g->c, count, col);
    /* dfilterᵀ (+)= dyᵀ · col rather than dfilter = colᵀ · dy: with few output channels the product has
     * few rows, and OpenBLAS runs it 1.3-1.7× faster this way round (Lab 2's first two layers). */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->oc, kkc, rows, 1.0f,
                dy + (size_t)n0 * g->oh * g->ow * g->oc, g->oc, col, kkc, n0 == 0 ? 0.0f : 1.0f, dft, kkc);
  }
  for (int o = 0; o < g->oc; o++)
    for (int k = 0; k < kkc; k++) dfilter[(size_t)k * g->oc + o] = dft[(size_t)o * kkc + k];
  return 0;
}

void bias_activation(float *y, size_t rows, size_t cols, const float *bias, int act) {
  for (size_t r = 0; r < rows; r++) {
    float *row = y + r * cols;
    if (bias)
      for (size_t j = 0; j < cols; j++) row[j] += bias[j];
    if (act == 1)
      for (size_t j = 0; j < cols; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j]; /* NaN stays NaN, as in tfjs */
  }
}
