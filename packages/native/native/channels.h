/* Per-channel passes over channels-last data: sums over a block of axes, and batch normalization. */
#ifndef INTRODL_CHANNELS_H
#define INTRODL_CHANNELS_H

#include <stddef.h>

/* x seen as [outer, reduced, inner]: out[o, i] = scale · Σ_r x[o, r, i]. Returns -1 when out of memory. */
int reduce_sum(const float *x, float *out, size_t outer, size_t reduced, size_t inner, double scale);

/* out[r, c] = (x[r, c] − mean[c]) · scale[c] / √(variance[c] + epsilon) + offset[c]; scale, offset may be NULL. */
void batch_norm(const float *x, float *out, size_t rows, size_t channels, const float *mean, const float *variance,
                const float *offset, const float *scale, double epsilon, float *work);

/* out[r, c] = full[r, c] ∘ vec[c] (or vec[c] ∘ full[r, c] when vec_first); op 0 add, 1 sub, 2 mul, 3 div. */
void channel_binary(const float *full, const float *vec, float *out, size_t rows, size_t channels, int op,
                    int vec_first);

#endif
