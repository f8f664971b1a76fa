/*
 * NHWC 2-D convolution and its two gradients as im2col + OpenBLAS sgemm.
 * Layouts are TensorFlow's: x [n, h, w, c], filter [kh, kw, c, oc], y [n, oh, ow, oc].
 */
#ifndef INTRODL_CONV_H
#define INTRODL_CONV_H

#include <stddef.h>

/* The shape of one convolution. Padding is what lies before the first row/column; the padding after
 * follows from oh/ow and is never read explicitly (out-of-image taps read as zero). */
typedef struct {
  int n, h, w, c;
  int oh, ow, oc;
  int kh, kw;
  int sh, sw; /* strides */
  int dh, dw; /* dilations */
  int pt, pl; /* top and left padding */
} conv_geom;

/* Growable scratch memory for the im2col matrix, one per Node environment (worker threads differ). */
typedef struct {
  float *data;
  size_t cap; /* in floats */
} scratch_buf;

/* Sizes the conv functions check their arrays against. */
size_t conv_x_size(const conv_geom *g);
size_t conv_y_size(const conv_geom *g);
size_t conv_filter_size(const conv_geom *g);

/* Returns NULL when the geometry is usable, else a message saying what is wrong. */
const char *conv_check(const conv_geom *g);

/* y = conv(x, filter). Returns 0, or -1 when scratch memory could not be allocated. */
int conv2d_forward(const conv_geom *g, const float *x, const float *filter, float *y, scratch_buf *s);

/* dx = the gradient of conv with respect to x, given dy. */
int conv2d_backprop_input(const conv_geom *g, const float *dy, const float *filter, float *dx, scratch_buf *s);

/* dfilter = the gradient of conv with respect to the filter, given x and dy. */
int conv2d_backprop_filter(const conv_geom *g, const float *x, const float *dy, float *dfilter, scratch_buf *s);

/* y[r, :] = act(y[r, :] + bias) for each of `rows` rows of `cols`; bias may be NULL; act 0 linear, 1 relu. */
void bias_activation(float *y, size_t rows, size_t cols, const float *bias, int act);

#endif
