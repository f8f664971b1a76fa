/* Tiling (numpy's tile / tf.tile) of a dense row-major array by whole-block copies. */
#ifndef INTRODL_TILE_H
#define INTRODL_TILE_H

#include <stddef.h>

#define TILE_MAX_RANK 8

/* out (shape xshape[i]·reps[i]) = x (shape xshape) repeated reps[i] times along each axis i. */
void tile(const char *x, char *out, int rank, const int *xshape, const int *reps, size_t elem_bytes);

#endif
