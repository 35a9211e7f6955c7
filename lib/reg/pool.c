/*
 * Adaptive average pooling to local features and their normalization
 * (SFR.md sections 2, 3), forward and backward, one sample at a time.
 *
 * Rows of a window are first summed into a row buffer with vector adds
 * over the width (independent lanes, no long dependency chain), then each
 * cell sums its columns of that buffer: every input element is read once
 * per window that holds it. Backward, each gradient row is read and written
 * once: rows held by the same windows get their summed contribution.
 */
#include <math.h>
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

/* Channels per block of the transposes between (C, H*W) and (H*W, C). */
#define TRANSPOSE_BLOCK 8

void sfri_pool_windows(int64_t len, int64_t cells, int64_t *win)
{
    for (int64_t i = 0; i < cells; i++) {
        win[2 * i] = i * len / cells;                           /* floor(i*L/G) */
        win[2 * i + 1] = ((i + 1) * len + cells - 1) / cells;   /* ceil((i+1)*L/G) */
    }
}

/* 1 / window size of each cell along an axis: inv (cells). */
static void inverse_sizes(const int64_t *win, int64_t cells, double *inv)
{
    for (int64_t i = 0; i < cells; i++)
        inv[i] = 1.0 / (double)(win[2 * i + 1] - win[2 * i]);
}

/*
 * acc (W) = sum of rows (R, W) in double: columns in register chunks, rows
 * inner. Inline, so that each clone of the callers gets its own registers.
 */
static inline void column_sums(const float *rows, int64_t nrows, int64_t w, double *acc)
{
    int64_t x = 0;
    for (; x + 8 <= w; x += 8) {
        sfri_v8d s = {0};
        for (int64_t y = 0; y < nrows; y++) {
            sfri_v8f v;
            memcpy(&v, rows + y * w + x, sizeof v);
            s += __builtin_convertvector(v, sfri_v8d);
        }
        memcpy(acc + x, &s, sizeof s);
    }
    for (; x + 4 <= w; x += 4) {
        sfri_v4d s = {0};
        for (int64_t y = 0; y < nrows; y++) {
            sfri_v4f v;
            memcpy(&v, rows + y * w + x, sizeof v);
            s += __builtin_convertvector(v, sfri_v4d);
        }
        memcpy(acc + x, &s, sizeof s);
    }
    for (; x < w; x++) {
        double s = 0;
        for (int64_t y = 0; y < nrows; y++)
            s += (double)rows[y * w + x];
        acc[x] = s;
    }
}

/* rows (R, W) += g (W) on every row: columns in register chunks, rows inner. */
static inline void add_to_rows(float *rows, int64_t nrows, int64_t w, const float *g)
{
    int64_t x = 0;
    for (; x + 16 <= w; x += 16) {
        sfri_v16f gv, v;
        memcpy(&gv, g + x, sizeof gv);
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            v += gv;
            memcpy(rows + y * w + x, &v, sizeof v);
        }
    }
    for (; x + 8 <= w; x += 8) {
        sfri_v8f gv, v;
        memcpy(&gv, g + x, sizeof gv);
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            v += gv;
            memcpy(rows + y * w + x, &v, sizeof v);
        }
    }
    for (; x + 4 <= w; x += 4) {
        sfri_v4f gv, v;
        memcpy(&gv, g + x, sizeof gv);
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            v += gv;
            memcpy(rows + y * w + x, &v, sizeof v);
        }
    }
    for (; x < w; x++)
        for (int64_t y = 0; y < nrows; y++)
            rows[y * w + x] += g[x];
}

/* out (A, C) = pooled in (C, H, W). */
SFRI_CLONES
static void pool(const struct sfri_pool_geom *geo, const float *in, double *out, double *buf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gh = geo->gh, gw = geo->gw;
    if (gh == h && gw == w) {
        /* A grid of the input's own size: pooling is the transpose to channels last,
         * in blocks of 8 channels so that each write fills a cache line (a plain
         * channel loop strides by C doubles, a multiple of 4 KB: one cache set). */
        for (int64_t c0 = 0; c0 < c; c0 += TRANSPOSE_BLOCK) {
            const int64_t nc = c - c0 < TRANSPOSE_BLOCK ? c - c0 : TRANSPOSE_BLOCK;
            for (int64_t k = 0; k < h * w; k++)
                for (int64_t t = 0; t < nc; t++)
                    out[k * c + c0 + t] = (double)in[(c0 + t) * h * w + k];
        }
        return;
    }
    double *acc = buf, *inv_h = acc + w, *inv_w = inv_h + gh;   // (W), (Gh), (Gw)
    inverse_sizes(geo->win_h, gh, inv_h);
    inverse_sizes(geo->win_w, gw, inv_w);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *plane = in + ch * h * w;   // (H, W)
        for (int64_t i = 0; i < gh; i++) {
            int64_t h0 = geo->win_h[2 * i], h1 = geo->win_h[2 * i + 1];
            column_sums(plane + h0 * w, h1 - h0, w, acc);
            for (int64_t j = 0; j < gw; j++) {
                double sum = 0;
                for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                    sum += acc[x];
                out[(i * gw + j) * c + ch] = sum * inv_h[i] * inv_w[j];
            }
        }
    }
}

int sfri_pool_normalize(const struct sfri_pool_geom *geo, const float *in, int norm,
                        double delta, double *out, double *r, double *buf)
{
    const int64_t c = geo->c, a = geo->gh * geo->gw;
    pool(geo, in, out, buf);
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

/* grad (C, H, W) += the pooling's transpose applied to d (A, C). */
SFRI_CLONES
static void unpool(const struct sfri_pool_geom *geo, const double *d, float *grad, double *buf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gh = geo->gh, gw = geo->gw;
    if (gh == h && gw == w) {
        for (int64_t c0 = 0; c0 < c; c0 += TRANSPOSE_BLOCK) {
            const int64_t nc = c - c0 < TRANSPOSE_BLOCK ? c - c0 : TRANSPOSE_BLOCK;
            for (int64_t k = 0; k < h * w; k++)
                for (int64_t t = 0; t < nc; t++)
                    grad[(c0 + t) * h * w + k] += (float)d[k * c + c0 + t];
        }
        return;
    }
    /* Row i of rowg gets, at each x, the sum over the cells of cell-row i whose column
     * window holds x of their gradient over their size. An input row then receives
     * the sum of the rowg rows of the cell rows whose windows hold it: rows held by
     * the same cell rows form a run, and each run is added once. */
    double *inv_h = buf, *inv_w = inv_h + gh;   // (Gh), (Gw)
    float *rowg = (float *)(inv_w + gw);        // (Gh, W)
    float *both = rowg + gh * w;                // (W) rows of overlapping windows
    inverse_sizes(geo->win_h, gh, inv_h);
    inverse_sizes(geo->win_w, gw, inv_w);
    const int64_t *wh = geo->win_h;
    for (int64_t ch = 0; ch < c; ch++) {
        float *plane = grad + ch * h * w;   // (H, W)
        for (int64_t x = 0; x < gh * w; x++)
            rowg[x] = 0;
        for (int64_t i = 0; i < gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                float g = (float)(d[(i * gw + j) * c + ch] * inv_h[i] * inv_w[j]);
                for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                    rowg[i * w + x] += g;
            }
        /* Windows start and end in order, so the cell rows holding y are lo .. hi. */
        int64_t lo = 0;
        for (int64_t y0 = 0; y0 < h;) {
            while (wh[2 * lo + 1] <= y0)
                lo++;
            int64_t hi = lo;
            while (hi + 1 < gh && wh[2 * (hi + 1)] <= y0)
                hi++;
            int64_t y1 = hi + 1 < gh && wh[2 * (hi + 1)] < wh[2 * lo + 1] ? wh[2 * (hi + 1)]
                                                                          : wh[2 * lo + 1];
            const float *src = rowg + lo * w;
            if (hi > lo) {
                for (int64_t x = 0; x < w; x++) {
                    float sum = 0;
                    for (int64_t i = lo; i <= hi; i++)
                        sum += rowg[i * w + x];
                    both[x] = sum;
                }
                src = both;
            }
            add_to_rows(plane + y0 * w, y1 - y0, w, src);
            y0 = y1;
        }
    }
}

SFRI_CLONES
void sfri_pool_normalize_backward(const struct sfri_pool_geom *geo, double *dout,
                                  const double *out, const double *r, int norm, float *grad,
                                  double *buf)
{
    const int64_t c = geo->c, a = geo->gh * geo->gw;
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
    unpool(geo, dout, grad, buf);
}
