/*
 * Adaptive average pooling to local features and their normalization
 * (SFR.md sections 2, 3), forward and backward, one sample at a time.
 *
 * Rows of a window are first summed into a row buffer with vector adds
 * over the width (independent lanes, no long dependency chain), then each
 * cell sums its columns of that buffer: every input element is read once
 * per window that holds it.
 */
#include <math.h>

#include "reg_internal.h"

void sfri_pool_windows(int64_t len, int64_t cells, int64_t *win)
{
    for (int64_t i = 0; i < cells; i++) {
        win[2 * i] = i * len / cells;                           /* floor(i*L/G) */
        win[2 * i + 1] = ((i + 1) * len + cells - 1) / cells;   /* ceil((i+1)*L/G) */
    }
}

SFRI_CLONES
int sfri_pool_normalize(const struct sfri_pool_geom *geo, const float *in, int norm,
                        double delta, double *out, double *r, double *rowbuf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gw = geo->gw, a = geo->gh * geo->gw;
    for (int64_t ch = 0; ch < c; ch++) {
        const float *plane = in + ch * h * w;   // (H, W)
        for (int64_t i = 0; i < geo->gh; i++) {
            int64_t h0 = geo->win_h[2 * i], h1 = geo->win_h[2 * i + 1];
            for (int64_t x = 0; x < w; x++)
                rowbuf[x] = 0;
            for (int64_t y = h0; y < h1; y++) {
                const float *row = plane + y * w;
#pragma omp simd
                for (int64_t x = 0; x < w; x++)
                    rowbuf[x] += (double)row[x];
            }
            for (int64_t j = 0; j < gw; j++) {
                int64_t w0 = geo->win_w[2 * j], w1 = geo->win_w[2 * j + 1];
                double s = 0;
                for (int64_t x = w0; x < w1; x++)
                    s += rowbuf[x];
                out[(i * gw + j) * c + ch] = s / (double)((h1 - h0) * (w1 - w0));
            }
        }
    }
    int bad = 0;
    for (int64_t k = 0; k < a; k++) {
        double *f = out + k * c;   // (C)
        double ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int64_t ch = 0; ch < c; ch++)
            ss += f[ch] * f[ch];
        /* Any NaN or infinity among the pooled values makes the sum non-finite. */
        bad |= !isfinite(ss);
        double rk = norm == SFR_NORM_RMS ? sqrt(ss / (double)c + delta) : 1.0;
        r[k] = rk;
        if (norm == SFR_NORM_RMS) {
            double inv = 1.0 / rk;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++)
                f[ch] *= inv;
        }
    }
    return bad ? -1 : 0;
}

SFRI_CLONES
void sfri_pool_normalize_backward(const struct sfri_pool_geom *geo, double *dout,
                                  const double *out, const double *r, int norm, float *grad,
                                  double *rowbuf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gw = geo->gw, a = geo->gh * geo->gw;
    /* Through rms: dx = dx^/r - x^ (x^ . dx^) / (C r). */
    if (norm == SFR_NORM_RMS) {
        for (int64_t k = 0; k < a; k++) {
            double *d = dout + k * c;          // (C)
            const double *f = out + k * c;     // (C)
            double dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t ch = 0; ch < c; ch++)
                dot += f[ch] * d[ch];
            double inv = 1.0 / r[k], proj = dot / ((double)c * r[k]);
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++)
                d[ch] = d[ch] * inv - f[ch] * proj;
        }
    }
    /* Through pooling: a row of cell-row i gets, at each x, the sum over the cells whose
     * column window holds x of their gradient over their area; rows of the window add it. */
    float *rowg = (float *)rowbuf;   // (W)
    for (int64_t ch = 0; ch < c; ch++) {
        float *plane = grad + ch * h * w;   // (H, W)
        for (int64_t i = 0; i < geo->gh; i++) {
            int64_t h0 = geo->win_h[2 * i], h1 = geo->win_h[2 * i + 1];
            for (int64_t x = 0; x < w; x++)
                rowg[x] = 0;
            for (int64_t j = 0; j < gw; j++) {
                int64_t w0 = geo->win_w[2 * j], w1 = geo->win_w[2 * j + 1];
                float g = (float)(dout[(i * gw + j) * c + ch] / (double)((h1 - h0) * (w1 - w0)));
                for (int64_t x = w0; x < w1; x++)
                    rowg[x] += g;
            }
            for (int64_t y = h0; y < h1; y++) {
                float *row = plane + y * w;
#pragma omp simd
                for (int64_t x = 0; x < w; x++)
                    row[x] += rowg[x];
            }
        }
    }
}
