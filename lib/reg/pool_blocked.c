/*
 * Pooling and its gradient on net taps kept in oneDNN's nChw16c layout
 * (C/16, H, W, 16) per sample: 16 channels of a position are contiguous,
 * so a cell's window is summed as whole vectors of channels and its 16
 * pooled channels are stored as they are wanted, channels last. Nothing is
 * transposed and no plain copy of the tap is made.
 */
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

/* Channels of a block: the layout's inner dimension. */
#define BLOCK 16

/* 1 / (size of cell (i, j)'s window). */
static inline double inverse_size(const struct sfri_pool_geom *geo, int64_t i, int64_t j)
{
    return 1.0 / (double)((geo->win_h[2 * i + 1] - geo->win_h[2 * i]) *
                          (geo->win_w[2 * j + 1] - geo->win_w[2 * j]));
}

/* out (A, C) = pooled in (C/16, H, W, 16); windows summed in float as in pool.c. */
SFRI_CLONES
static void pool_blocked(const struct sfri_pool_geom *geo, const float *in, double *out)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gw = geo->gw;
    for (int64_t cb = 0; cb < c / BLOCK; cb++) {
        const float *blk = in + cb * hw * BLOCK;   // (H, W, 16)
        for (int64_t i = 0; i < geo->gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                sfri_v8f lo = {0}, hi = {0}, v;
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++) {
                        const float *p = blk + (y * w + x) * BLOCK;
                        memcpy(&v, p, sizeof v);
                        lo += v;
                        memcpy(&v, p + 8, sizeof v);
                        hi += v;
                    }
                const double inv = inverse_size(geo, i, j);
                sfri_v8d dlo = __builtin_convertvector(lo, sfri_v8d) * inv;
                sfri_v8d dhi = __builtin_convertvector(hi, sfri_v8d) * inv;
                double *o = out + (i * gw + j) * c + cb * BLOCK;
                memcpy(o, &dlo, sizeof dlo);
                memcpy(o + 8, &dhi, sizeof dhi);
            }
    }
}

int sfri_pool_normalize_blocked(const struct sfri_pool_geom *geo, const float *in, int norm,
                                double delta, double *out, double *r)
{
    const int64_t a = geo->gh * geo->gw;
    pool_blocked(geo, in, out);
    if (sfri_normalize_pooled(out, a, geo->c, norm, delta, r) == 0)
        return 0;
    sfri_pool_exact(geo, in, 1, out);
    return sfri_normalize_pooled(out, a, geo->c, norm, delta, r);
}

SFRI_CLONES
void sfri_unpool_blocked(const struct sfri_pool_geom *geo, const double *d, float *grad, int zero)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gw = geo->gw;
    for (int64_t cb = 0; cb < c / BLOCK; cb++) {
        float *blk = grad + cb * hw * BLOCK;   // (H, W, 16)
        if (zero)
            memset(blk, 0, (size_t)(hw * BLOCK) * sizeof(float));
        for (int64_t i = 0; i < geo->gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                const double inv = inverse_size(geo, i, j);
                const double *dc = d + (i * gw + j) * c + cb * BLOCK;   // 16 channels
                sfri_v8d dlo, dhi;
                memcpy(&dlo, dc, sizeof dlo);
                memcpy(&dhi, dc + 8, sizeof dhi);
                sfri_v8f glo = __builtin_convertvector(dlo * inv, sfri_v8f);
                sfri_v8f ghi = __builtin_convertvector(dhi * inv, sfri_v8f), v;
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++) {
                        float *p = blk + (y * w + x) * BLOCK;
                        memcpy(&v, p, sizeof v);
                        v += glo;
                        memcpy(p, &v, sizeof v);
                        memcpy(&v, p + 8, sizeof v);
                        v += ghi;
                        memcpy(p + 8, &v, sizeof v);
                    }
            }
    }
}
