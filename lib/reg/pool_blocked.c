/*
 * Pooling and its gradient on net taps kept in oneDNN's blocked layouts,
 * nChw16c (AVX-512) or nChw8c (AVX2): (C/block, H, W, block) per sample.
 * The channels of a block at one position are contiguous, so a cell's
 * window is summed as whole vectors of channels and its pooled channels are
 * stored as they are wanted, channels last. Nothing is transposed and no
 * plain copy of the tap is made. Each kernel is written once for NV vectors
 * of 8 channels and instantiated for 16 (NV 2) and 8 (NV 1), so that the
 * vectors stay in registers.
 */
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

/* 1 / (size of cell (i, j)'s window). */
static inline double inverse_size(const struct sfri_pool_geom *geo, int64_t i, int64_t j)
{
    return 1.0 / (double)((geo->win_h[2 * i + 1] - geo->win_h[2 * i]) *
                          (geo->win_w[2 * j + 1] - geo->win_w[2 * j]));
}

/* out (A, C) = pooled in (C/block, H, W, block), block = 8 * nv; windows
 * summed in float as in pool.c. */
static inline void pool_blocks(const struct sfri_pool_geom *geo, const float *in, double *out,
                               const int nv)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gw = geo->gw, block = 8 * nv;
    for (int64_t cb = 0; cb < c / block; cb++) {
        const float *blk = in + cb * hw * block;   // (H, W, block)
        for (int64_t i = 0; i < geo->gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                sfri_v8f sum[2] = {{0}, {0}}, v;
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                        for (int k = 0; k < nv; k++) {
                            memcpy(&v, blk + (y * w + x) * block + 8 * k, sizeof v);
                            sum[k] += v;
                        }
                const double inv = inverse_size(geo, i, j);
                double *o = out + (i * gw + j) * c + cb * block;
                for (int k = 0; k < nv; k++) {
                    sfri_v8d mean = __builtin_convertvector(sum[k], sfri_v8d) * inv;
                    memcpy(o + 8 * k, &mean, sizeof mean);
                }
            }
    }
}

SFRI_CLONES
static void pool_blocked(const struct sfri_pool_geom *geo, int block, const float *in,
                         double *out)
{
    if (block == 16)
        pool_blocks(geo, in, out, 2);
    else
        pool_blocks(geo, in, out, 1);
}

int sfri_pool_normalize_blocked(const struct sfri_pool_geom *geo, int block, const float *in,
                                int norm, double delta, double *out, double *r)
{
    pool_blocked(geo, block, in, out);
    return sfri_normalize_or_repool(geo, in, block, norm, delta, out, r);
}

/* grad (C/block, H, W, block) (+)= the pooling's transpose of d (A, C). */
static inline void unpool_blocks(const struct sfri_pool_geom *geo, const double *d, float *grad,
                                 int zero, const int nv)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gw = geo->gw, block = 8 * nv;
    for (int64_t cb = 0; cb < c / block; cb++) {
        float *blk = grad + cb * hw * block;   // (H, W, block)
        if (zero)
            memset(blk, 0, (size_t)(hw * block) * sizeof(float));
        for (int64_t i = 0; i < geo->gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                const double inv = inverse_size(geo, i, j);
                const double *dc = d + (i * gw + j) * c + cb * block;
                sfri_v8f g[2], v;
                for (int k = 0; k < nv; k++) {
                    sfri_v8d dv;
                    memcpy(&dv, dc + 8 * k, sizeof dv);
                    g[k] = __builtin_convertvector(dv * inv, sfri_v8f);
                }
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                        for (int k = 0; k < nv; k++) {
                            float *p = blk + (y * w + x) * block + 8 * k;
                            memcpy(&v, p, sizeof v);
                            v += g[k];
                            memcpy(p, &v, sizeof v);
                        }
            }
    }
}

SFRI_CLONES
void sfri_unpool_blocked(const struct sfri_pool_geom *geo, int block, const double *d,
                         float *grad, int zero)
{
    if (block == 16)
        unpool_blocks(geo, d, grad, zero, 2);
    else
        unpool_blocks(geo, d, grad, zero, 1);
}
