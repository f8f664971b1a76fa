/*
 * @introdl/native: OpenBLAS sgemm and im2col convolutions for Node, over Float32Arrays.
 *
 * Every function works in place on the memory behind the typed arrays it is given, so views on a
 * WebAssembly.Memory (the tfjs wasm backend's heap) are read and written without copies. Because a
 * wrong size here would silently corrupt that heap, every call checks that each matrix it touches
 * lies inside its array, and throws a RangeError otherwise.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <cblas.h>
#include <node_api.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conv.h"
#include "channels.h"
#include "tile.h"
#include "packed.h"

#define MAX_ARGS 17

/* Throws and returns NULL from the calling N-API function when `call` fails. */
#define NAPI_OK(env, call)                                                          \
  do {                                                                              \
    if ((call) != napi_ok) {                                                        \
      const napi_extended_error_info *info = NULL;                                  \
      napi_get_last_error_info((env), &info);                                       \
      bool pending = false;                                                         \
      napi_is_exception_pending((env), &pending);                                   \
      if (!pending)                                                                 \
        napi_throw_error((env), NULL, info && info->error_message ? info->error_message \
                                                                  : "N-API call failed"); \
      return NULL;                                                                  \
    }                                                                               \
  } while (0)

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  const char *fn;
  int failed;
} args_t;

/* Throws a TypeError (kind 'T') or RangeError (kind 'R') prefixed with the function's name, once. */
static void fail(args_t *a, char kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(args_t *a, char kind, const char *fmt, ...) {
  if (a->failed) return;
  a->failed = 1;
  char detail[192], msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s: %s", a->fn, detail);
  if (kind == 'T')
    napi_throw_type_error(a->env, NULL, msg);
  else
    napi_throw_range_error(a->env, NULL, msg);
}

static int get_args(napi_env env, napi_callback_info info, args_t *a, const char *fn, size_t want) {
  a->env = env;
  a->fn = fn;
  a->failed = 0;
  a->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "napi_get_cb_info failed");
    return 0;
  }
  if (a->argc < want) {
    fail(a, 'T', "expected %zu arguments, got %zu", want, a->argc);
    return 0;
  }
  return 1;
}

static int64_t get_int(args_t *a, size_t i, const char *name) {
  double d = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &d) != napi_ok || d != (double)(int64_t)d) {
    fail(a, 'T', "%s must be an integer", name);
    return 0;
  }
  if (d < 0 || d > 2147483647.0) {
    fail(a, 'R', "%s must be in [0, 2^31), got %.0f", name, d);
    return 0;
  }
  return (int64_t)d;
}

static double get_double(args_t *a, size_t i, const char *name) {
  double d = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) fail(a, 'T', "%s must be a number", name);
  return d;
}

static float get_float(args_t *a, size_t i, const char *name) { return (float)get_double(a, i, name); }

static int get_bool(args_t *a, size_t i, const char *name) {
  bool b = false;
  if (a->failed) return 0;
  if (napi_get_value_bool(a->env, a->argv[i], &b) != napi_ok) fail(a, 'T', "%s must be a boolean", name);
  return b;
}

/* A Float32Array argument (or NULL when `optional` and the argument is null/undefined). */
static float *get_f32(args_t *a, size_t i, const char *name, size_t *length, int optional) {
  *length = 0;
  if (a->failed) return NULL;
  napi_valuetype t;
  napi_typeof(a->env, a->argv[i], &t);
  if (optional && (t == napi_null || t == napi_undefined)) return NULL;
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  napi_typedarray_type type;
  void *data = NULL;
  if (is_ta) napi_get_typedarray_info(a->env, a->argv[i], &type, length, &data, NULL, NULL);
  if (!is_ta || type != napi_float32_array) {
    fail(a, 'T', "%s must be a Float32Array", name);
    return NULL;
  }
  if (data == NULL && *length > 0) fail(a, 'R', "%s is detached", name);
  return data;
}

static const int32_t *get_i32(args_t *a, size_t i, const char *name, size_t want) {
  if (a->failed) return NULL;
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (is_ta) napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL);
  if (!is_ta || type != napi_int32_array || length != want) {
    fail(a, 'T', "%s must be an Int32Array of length %zu", name, want);
    return NULL;
  }
  return data;
}

/* Elements a row-major rows×cols matrix with leading dimension ld spans. */
static int64_t extent(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

/* Checks that `batch` matrices of rows×cols, `stride` apart, fit in an array of `length`. */
static void check_matrix(args_t *a, const char *name, int64_t rows, int64_t cols, int64_t ld, int64_t stride,
                         int64_t batch, size_t length) {
  if (a->failed) return;
  if (ld < (cols > 1 ? cols : 1)) {
    fail(a, 'R', "leading dimension of %s is %lld, below its %lld columns", name, (long long)ld, (long long)cols);
    return;
  }
  int64_t need = extent(rows, cols, ld);
  if (need > 0 && batch > 1) need += (batch - 1) * stride;
  if (need > (int64_t)length) fail(a, 'R', "%s needs %lld elements but its array has %zu", name, (long long)need, length);
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha·op(A)·op(B) + beta·C, row-major. */
static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "sgemm", 13)) return NULL;
  int ta = get_bool(&a, 0, "transA"), tb = get_bool(&a, 1, "transB");
  int64_t M = get_int(&a, 2, "M"), N = get_int(&a, 3, "N"), K = get_int(&a, 4, "K");
  float alpha = get_float(&a, 5, "alpha");
  size_t la, lb, lc;
  float *A = get_f32(&a, 6, "A", &la, 0);
  int64_t lda = get_int(&a, 7, "lda");
  float *B = get_f32(&a, 8, "B", &lb, 0);
  int64_t ldb = get_int(&a, 9, "ldb");
  float beta = get_float(&a, 10, "beta");
  float *C = get_f32(&a, 11, "C", &lc, 0);
  int64_t ldc = get_int(&a, 12, "ldc");
  check_matrix(&a, "A", ta ? K : M, ta ? M : K, lda, 0, 1, la);
  check_matrix(&a, "B", tb ? N : K, tb ? K : N, ldb, 0, 1, lb);
  check_matrix(&a, "C", M, N, ldc, 0, 1, lc);
  if (a.failed) return NULL;
  if (M > 0 && N > 0)
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                alpha, A, (int)(lda > 0 ? lda : 1), B, (int)(ldb > 0 ? ldb : 1), beta, C, (int)ldc);
  return undefined(env);
}

/* sgemmStridedBatched(transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch).
 * Batch i uses A + i·strideA, B + i·strideB, C + i·strideC; a stride of 0 broadcasts that operand. */
static napi_value js_sgemm_batched(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "sgemmStridedBatched", 17)) return NULL;
  int ta = get_bool(&a, 0, "transA"), tb = get_bool(&a, 1, "transB");
  int64_t M = get_int(&a, 2, "M"), N = get_int(&a, 3, "N"), K = get_int(&a, 4, "K");
  float alpha = get_float(&a, 5, "alpha");
  size_t la, lb, lc;
  float *A = get_f32(&a, 6, "A", &la, 0);
  int64_t lda = get_int(&a, 7, "lda"), sa = get_int(&a, 8, "strideA");
  float *B = get_f32(&a, 9, "B", &lb, 0);
  int64_t ldb = get_int(&a, 10, "ldb"), sb = get_int(&a, 11, "strideB");
  float beta = get_float(&a, 12, "beta");
  float *C = get_f32(&a, 13, "C", &lc, 0);
  int64_t ldc = get_int(&a, 14, "ldc"), sc = get_int(&a, 15, "strideC");
  int64_t batch = get_int(&a, 16, "batch");
  check_matrix(&a, "A", ta ? K : M, ta ? M : K, lda, sa, batch, la);
  check_matrix(&a, "B", tb ? N : K, tb ? K : N, ldb, sb, batch, lb);
  check_matrix(&a, "C", M, N, ldc, sc, batch, lc);
  if (!a.failed && batch > 1 && sc < M * ldc) fail(&a, 'R', "strideC %lld would overlap outputs of %lld elements", (long long)sc, (long long)(M * ldc));
  if (a.failed) return NULL;
  if (M > 0 && N > 0)
    for (int64_t i = 0; i < batch; i++)
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                  (int)K, alpha, A + i * sa, (int)(lda > 0 ? lda : 1), B + i * sb, (int)(ldb > 0 ? ldb : 1), beta,
                  C + i * sc, (int)ldc);
  return undefined(env);
}

static void geom_from(const int32_t *p, conv_geom *g) {
  *g = (conv_geom){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
}

typedef int (*conv_fn)(const conv_geom *, const float *, const float *, float *, scratch_buf *);

/* The three convolutions share one shape: (in1, in2, out, geometry) with sizes fixed by the geometry. */
static napi_value conv_common(napi_env env, napi_callback_info info, const char *fn, conv_fn run, const char *n1,
                              int s1, const char *n2, int s2, const char *n3, int s3) {
  args_t a;
  if (!get_args(env, info, &a, fn, 4)) return NULL;
  size_t l1, l2, l3;
  const float *p1 = get_f32(&a, 0, n1, &l1, 0);
  const float *p2 = get_f32(&a, 1, n2, &l2, 0);
  float *p3 = get_f32(&a, 2, n3, &l3, 0);
  const int32_t *gp = get_i32(&a, 3, "geometry", 15);
  if (a.failed) return NULL;
  conv_geom g;
  geom_from(gp, &g);
  const char *bad = conv_check(&g);
  if (bad) {
    fail(&a, 'R', "bad geometry: %s", bad);
    return NULL;
  }
  /* s = 0: input x, 1: output y, 2: filter. */
  size_t sizes[3] = {conv_x_size(&g), conv_y_size(&g), conv_filter_size(&g)};
  if (l1 != sizes[s1]) fail(&a, 'R', "%s has %zu elements, the geometry needs %zu", n1, l1, sizes[s1]);
  if (l2 != sizes[s2]) fail(&a, 'R', "%s has %zu elements, the geometry needs %zu", n2, l2, sizes[s2]);
  if (l3 != sizes[s3]) fail(&a, 'R', "%s has %zu elements, the geometry needs %zu", n3, l3, sizes[s3]);
  if (a.failed) return NULL;
  scratch_buf *s = NULL;
  NAPI_OK(env, napi_get_instance_data(env, (void **)&s));
  if (run(&g, p1, p2, p3, s) != 0) {
    napi_throw_error(env, NULL, "out of memory for the im2col scratch matrix");
    return NULL;
  }
  return undefined(env);
}

/* conv2d(x, filter, y, geometry) */
static napi_value js_conv2d(napi_env env, napi_callback_info info) {
  return conv_common(env, info, "conv2d", conv2d_forward, "x", 0, "filter", 2, "y", 1);
}

/* conv2dBackpropInput(dy, filter, dx, geometry) */
static napi_value js_conv2d_bp_input(napi_env env, napi_callback_info info) {
  return conv_common(env, info, "conv2dBackpropInput", conv2d_backprop_input, "dy", 1, "filter", 2, "dx", 0);
}

/* conv2dBackpropFilter(x, dy, dfilter, geometry) */
static napi_value js_conv2d_bp_filter(napi_env env, napi_callback_info info) {
  return conv_common(env, info, "conv2dBackpropFilter", conv2d_backprop_filter, "x", 0, "dy", 1, "dfilter", 2);
}

/* biasActivation(y, cols, bias | null, activation): rows of y get bias added, then relu when activation is 1. */
static napi_value js_bias_activation(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "biasActivation", 4)) return NULL;
  size_t ly, lb;
  float *y = get_f32(&a, 0, "y", &ly, 0);
  int64_t cols = get_int(&a, 1, "cols");
  const float *bias = get_f32(&a, 2, "bias", &lb, 1);
  int64_t act = get_int(&a, 3, "activation");
  if (!a.failed && (cols == 0 || ly % cols != 0)) fail(&a, 'R', "y has %zu elements, not a multiple of cols %lld", ly, (long long)cols);
  if (!a.failed && bias && (int64_t)lb != cols) fail(&a, 'R', "bias has %zu elements, expected cols = %lld", lb, (long long)cols);
  if (!a.failed && act > 1) fail(&a, 'R', "activation must be 0 (linear) or 1 (relu), got %lld", (long long)act);
  if (a.failed) return NULL;
  bias_activation(y, ly / cols, (size_t)cols, bias, (int)act);
  return undefined(env);
}

/* Any typed array argument: its data, element count, and bytes per element. */
static void *get_typed(args_t *a, size_t i, const char *name, size_t *length, napi_typedarray_type *type) {
  *length = 0;
  if (a->failed) return NULL;
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  void *data = NULL;
  if (is_ta) napi_get_typedarray_info(a->env, a->argv[i], type, length, &data, NULL, NULL);
  if (!is_ta) fail(a, 'T', "%s must be a typed array", name);
  return data;
}

static size_t elem_bytes(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    default:
      return 8;
  }
}

/* tile(x, out, xShape: Int32Array, reps: Int32Array): out = x repeated reps[i] times along axis i. */
static napi_value js_tile(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "tile", 4)) return NULL;
  size_t lx, lo, rank = 0, lr = 0;
  napi_typedarray_type tx = napi_float32_array, to = napi_float32_array, ts = napi_int32_array, tr = napi_int32_array;
  const char *x = get_typed(&a, 0, "x", &lx, &tx);
  char *out = get_typed(&a, 1, "out", &lo, &to);
  const int32_t *shape = get_typed(&a, 2, "xShape", &rank, &ts);
  const int32_t *reps = get_typed(&a, 3, "reps", &lr, &tr);
  if (a.failed) return NULL;
  if (tx != to) fail(&a, 'T', "x and out must be typed arrays of the same type");
  if (ts != napi_int32_array || tr != napi_int32_array) fail(&a, 'T', "xShape and reps must be Int32Arrays");
  if (rank != lr || rank > TILE_MAX_RANK) fail(&a, 'R', "xShape and reps must have the same length, at most %d", TILE_MAX_RANK);
  size_t nx = 1, no = 1;
  for (size_t d = 0; d < rank && !a.failed; d++) {
    if (shape[d] < 0 || reps[d] < 0) fail(&a, 'R', "xShape and reps must not be negative");
    nx *= (size_t)shape[d];
    no *= (size_t)shape[d] * (size_t)reps[d];
  }
  if (!a.failed && lx != nx) fail(&a, 'R', "x has %zu elements, xShape needs %zu", lx, nx);
  if (!a.failed && lo != no) fail(&a, 'R', "out has %zu elements, the tiled shape needs %zu", lo, no);
  if (a.failed) return NULL;
  tile(x, out, (int)rank, shape, reps, elem_bytes(tx));
  return undefined(env);
}

/* reduceSum(x, out, outer, reduced, inner, scale): x seen as [outer, reduced, inner]; out[o, i] = scale · Σ_r x[o, r, i]. */
static napi_value js_reduce_sum(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "reduceSum", 6)) return NULL;
  size_t lx, lo;
  const float *x = get_f32(&a, 0, "x", &lx, 0);
  float *out = get_f32(&a, 1, "out", &lo, 0);
  int64_t outer = get_int(&a, 2, "outer"), reduced = get_int(&a, 3, "reduced"), inner = get_int(&a, 4, "inner");
  double scale = get_double(&a, 5, "scale");
  if (a.failed) return NULL;
  size_t oi, ori;
  if (__builtin_mul_overflow((size_t)outer, (size_t)inner, &oi) || __builtin_mul_overflow(oi, (size_t)reduced, &ori) ||
      ori != lx)
    fail(&a, 'R', "x has %zu elements, not outer·reduced·inner", lx);
  else if (oi != lo)
    fail(&a, 'R', "out has %zu elements, not outer·inner = %zu", lo, oi);
  if (a.failed) return NULL;
  if (reduce_sum(x, out, (size_t)outer, (size_t)reduced, (size_t)inner, scale) != 0) {
    napi_throw_error(env, NULL, "reduceSum: out of memory");
    return NULL;
  }
  return undefined(env);
}

/* batchNorm(x, out, channels, mean, variance, offset | null, scale | null, epsilon): channels-last batch normalization. */
static napi_value js_batch_norm(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "batchNorm", 8)) return NULL;
  size_t lx, lo, lm, lv, lf, ls;
  const float *x = get_f32(&a, 0, "x", &lx, 0);
  float *out = get_f32(&a, 1, "out", &lo, 0);
  int64_t channels = get_int(&a, 2, "channels");
  const float *mean = get_f32(&a, 3, "mean", &lm, 0);
  const float *variance = get_f32(&a, 4, "variance", &lv, 0);
  const float *offset = get_f32(&a, 5, "offset", &lf, 1);
  const float *scale = get_f32(&a, 6, "scale", &ls, 1);
  double epsilon = get_double(&a, 7, "epsilon");
  if (a.failed) return NULL;
  size_t c = (size_t)channels;
  if (c == 0 || lx % c != 0 || lo != lx) fail(&a, 'R', "x and out must have the same size, a multiple of channels (%zu)", c);
  else if (lm != c || lv != c || (offset && lf != c) || (scale && ls != c))
    fail(&a, 'R', "mean, variance, offset and scale must each have channels = %zu elements", c);
  if (a.failed) return NULL;
  float *work = malloc(2 * c * sizeof(float));
  if (!work) {
    napi_throw_error(env, NULL, "batchNorm: out of memory");
    return NULL;
  }
  batch_norm(x, out, lx / c, c, mean, variance, offset, scale, epsilon, work);
  free(work);
  return undefined(env);
}

/* channelBinary(full, vec, out, op, vecFirst): out = full ∘ vec with vec repeated along every row (last axis). */
static napi_value js_channel_binary(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "channelBinary", 5)) return NULL;
  size_t lf, lv, lo;
  const float *full = get_f32(&a, 0, "full", &lf, 0);
  const float *vec = get_f32(&a, 1, "vec", &lv, 0);
  float *out = get_f32(&a, 2, "out", &lo, 0);
  int64_t op = get_int(&a, 3, "op");
  int vec_first = get_bool(&a, 4, "vecFirst");
  if (a.failed) return NULL;
  if (op > 3) fail(&a, 'R', "op must be 0 (add), 1 (sub), 2 (mul) or 3 (div), got %lld", (long long)op);
  else if (lv == 0 || lf % lv != 0 || lo != lf)
    fail(&a, 'R', "full (%zu) and out (%zu) must have one size, a multiple of vec's %zu", lf, lo, lv);
  if (a.failed) return NULL;
  channel_binary(full, vec, out, lf / lv, lv, (int)op, vec_first);
  return undefined(env);
}

/*
 * sgemv(trans, M, N, alpha, A, lda, x, beta, y): y = alpha·op(A)·x + beta·y with A row-major M×N,
 * op = transpose when `trans` (y has N elements, x M) else identity (y has M elements, x N).
 * Memory-bound and multithreaded in OpenBLAS: the product of one row with a weight matrix, without
 * the packing sgemm does for any M.
 */
static napi_value js_sgemv(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "sgemv", 9)) return NULL;
  int t = get_bool(&a, 0, "trans");
  int64_t M = get_int(&a, 1, "M"), N = get_int(&a, 2, "N");
  float alpha = get_float(&a, 3, "alpha");
  size_t la, lx, ly;
  const float *A = get_f32(&a, 4, "A", &la, 0);
  int64_t lda = get_int(&a, 5, "lda");
  const float *x = get_f32(&a, 6, "x", &lx, 0);
  float beta = get_float(&a, 7, "beta");
  float *y = get_f32(&a, 8, "y", &ly, 0);
  check_matrix(&a, "A", M, N, lda, 0, 1, la);
  if (!a.failed && (int64_t)lx < (t ? M : N)) fail(&a, 'R', "x has %zu elements, needs %lld", lx, (long long)(t ? M : N));
  if (!a.failed && (int64_t)ly < (t ? N : M)) fail(&a, 'R', "y has %zu elements, needs %lld", ly, (long long)(t ? N : M));
  if (a.failed) return NULL;
  if (M > 0 && N > 0)
    cblas_sgemv(CblasRowMajor, t ? CblasTrans : CblasNoTrans, (int)M, (int)N, alpha, A, (int)lda, x, 1, beta, y, 1);
  return undefined(env);
}

/* A Uint16Array argument (16-bit float storage). */
static const uint16_t *get_u16(args_t *a, size_t i, const char *name, size_t *length) {
  *length = 0;
  if (a->failed) return NULL;
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  napi_typedarray_type type;
  void *data = NULL;
  if (is_ta) napi_get_typedarray_info(a->env, a->argv[i], &type, length, &data, NULL, NULL);
  if (!is_ta || type != napi_uint16_array) {
    fail(a, 'T', "%s must be a Uint16Array", name);
    return NULL;
  }
  if (data == NULL && *length > 0) fail(a, 'R', "%s is detached", name);
  return data;
}

static int get_kind(args_t *a, size_t i) {
  int64_t kind = get_int(a, i, "kind");
  if (!a->failed && kind != PACKED_BF16 && kind != PACKED_F16) fail(a, 'R', "kind must be 0 (bf16) or 1 (f16)");
  return (int)kind;
}

/*
 * sgemmPacked(transW, M, N, K, A, lda, W, kind, C, ldc): C[M,N] = A[M,K]·op(W), W 16-bit floats,
 * [N,K] when transW (op = transpose) else [K,N]; kind 0 = bfloat16, 1 = float16.
 */
static napi_value js_sgemm_packed(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "sgemmPacked", 10)) return NULL;
  int tw = get_bool(&a, 0, "transW");
  int64_t M = get_int(&a, 1, "M"), N = get_int(&a, 2, "N"), K = get_int(&a, 3, "K");
  size_t la, lw, lc;
  const float *A = get_f32(&a, 4, "A", &la, 0);
  int64_t lda = get_int(&a, 5, "lda");
  const uint16_t *W = get_u16(&a, 6, "W", &lw);
  int kind = get_kind(&a, 7);
  float *C = get_f32(&a, 8, "C", &lc, 0);
  int64_t ldc = get_int(&a, 9, "ldc");
  check_matrix(&a, "A", M, K, lda, 0, 1, la);
  check_matrix(&a, "W", tw ? N : K, tw ? K : N, tw ? K : N, 0, 1, lw);
  check_matrix(&a, "C", M, N, ldc, 0, 1, lc);
  if (a.failed) return NULL;
  float *scratch = malloc(packed_scratch_floats(tw ? K : N) * sizeof(float) + 64);
  if (!scratch) {
    napi_throw_error(env, NULL, "sgemmPacked: out of memory for the dequantisation block");
    return NULL;
  }
  sgemm_packed(tw, M, N, K, A, lda, W, kind, C, ldc, scratch);
  free(scratch);
  return undefined(env);
}

/* dequantize16(input Uint16Array, output Float32Array, kind): output[i] = float(input[i]). */
static napi_value js_dequantize16(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "dequantize16", 3)) return NULL;
  size_t li, lo;
  const uint16_t *in = get_u16(&a, 0, "input", &li);
  float *out = get_f32(&a, 1, "output", &lo, 0);
  int kind = get_kind(&a, 2);
  if (!a.failed && lo != li) fail(&a, 'R', "output has %zu elements, input %zu", lo, li);
  if (a.failed) return NULL;
  dequantize16(in, out, li, kind);
  return undefined(env);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  NAPI_OK(env, napi_create_object(env, &out));
  NAPI_OK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v));
  NAPI_OK(env, napi_set_named_property(env, out, "config", v));
  NAPI_OK(env, napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v));
  NAPI_OK(env, napi_set_named_property(env, out, "core", v));
  NAPI_OK(env, napi_create_int32(env, openblas_get_num_threads(), &v));
  NAPI_OK(env, napi_set_named_property(env, out, "threads", v));
  /* 0: sequential, 1: pthreads, 2: OpenMP. */
  NAPI_OK(env, napi_create_int32(env, openblas_get_parallel(), &v));
  NAPI_OK(env, napi_set_named_property(env, out, "parallel", v));
  return out;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  args_t a;
  if (!get_args(env, info, &a, "setThreads", 1)) return NULL;
  int64_t n = get_int(&a, 0, "threads");
  if (!a.failed && n < 1) fail(&a, 'R', "threads must be at least 1, got %lld", (long long)n);
  if (a.failed) return NULL;
  openblas_set_num_threads((int)n);
  return undefined(env);
}

static void free_scratch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  scratch_buf *s = data;
  free(s->data);
  free(s);
}

NAPI_MODULE_INIT() {
  scratch_buf *s = calloc(1, sizeof *s);
  if (!s || napi_set_instance_data(env, s, free_scratch, NULL) != napi_ok) {
    free(s);
    napi_throw_error(env, NULL, "could not allocate the addon's scratch state");
    return NULL;
  }
  const napi_property_descriptor props[] = {
      {"sgemm", NULL, js_sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmStridedBatched", NULL, js_sgemm_batched, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2d", NULL, js_conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, js_conv2d_bp_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, js_conv2d_bp_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasActivation", NULL, js_bias_activation, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tile", NULL, js_tile, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduceSum", NULL, js_reduce_sum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batchNorm", NULL, js_batch_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"channelBinary", NULL, js_channel_binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemv", NULL, js_sgemv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmPacked", NULL, js_sgemm_packed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dequantize16", NULL, js_dequantize16, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_OK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
