/*
 * Tiling by blocks: the innermost axis is one memcpy, and each axis' repeats are made by doubling the
 * block already written (memcpy of 1, 2, 4, … blocks), so a [1,1,1,C] → [N,H,W,C] tile (BatchNorm's
 * gradient) takes a few dozen memcpy calls instead of one index computation per element.
 */
#include "tile.h"

#include <string.h>

typedef struct {
  int rank;
  const int *xshape, *reps;
  size_t xstride[TILE_MAX_RANK];   /* bytes between consecutive indices of axis d in x */
  size_t outstride[TILE_MAX_RANK]; /* bytes between consecutive indices of axis d in out */
} plan_t;

/* Fills `total` bytes at dst by repeating its first `block` bytes. */
static void replicate(char *dst, size_t block, size_t total) {
  size_t done = block;
  while (done < total) {
    size_t n = done < total - done ? done : total - done;
    memcpy(dst + done, dst, n);
    done += n;
  }
}

static void tile_axis(const plan_t *p, int d, const char *src, char *dst) {
  const size_t block = (size_t)p->xshape[d] * p->outstride[d];
  if (d == p->rank - 1) {
    memcpy(dst, src, block);
  } else {
    for (int i = 0; i < p->xshape[d]; i++) tile_axis(p, d + 1, src + i * p->xstride[d], dst + i * p->outstride[d]);
  }
  replicate(dst, block, block * p->reps[d]);
}

void tile(const char *x, char *out, int rank, const int *xshape, const int *reps, size_t elem_bytes) {
  plan_t p = {rank, xshape, reps, {0}, {0}};
  size_t xs = elem_bytes, os = elem_bytes;
  for (int d = rank - 1; d >= 0; d--) {
    p.xstride[d] = xs;
    p.outstride[d] = os;
    xs *= (size_t)xshape[d];
    os *= (size_t)xshape[d] * reps[d];
  }
  if (xs == 0 || os == 0) return;
  if (rank == 0) {
    memcpy(out, x, elem_bytes);
    return;
  }
  tile_axis(&p, 0, x, out);
}
