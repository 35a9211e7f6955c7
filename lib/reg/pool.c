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
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

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

/* acc (W) = sum of rows (R, W) in double: columns in register chunks, rows inner. */
SFRI_CLONES
static void column_sums(const float *rows, int64_t nrows, int64_t w, double *acc)
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
SFRI_CLONES
static void add_to_rows(float *rows, int64_t nrows, int64_t w, const float *g)
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
        /* A grid of the input's own size: pooling is the transpose to channels last. */
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < h * w; k++)
                out[k * c + ch] = (double)in[ch * h * w + k];
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
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < h * w; k++)
                grad[ch * h * w + k] += (float)d[k * c + ch];
        return;
    }
    /* A row of cell-row i gets, at each x, the sum over the cells whose column window
     * holds x of their gradient over their size; every row of the window adds it. */
    double *inv_h = buf, *inv_w = inv_h + gh;   // (Gh), (Gw)
    float *rowg = (float *)(inv_w + gw);        // (W)
    inverse_sizes(geo->win_h, gh, inv_h);
    inverse_sizes(geo->win_w, gw, inv_w);
    for (int64_t ch = 0; ch < c; ch++) {
        float *plane = grad + ch * h * w;   // (H, W)
        for (int64_t i = 0; i < gh; i++) {
            for (int64_t x = 0; x < w; x++)
                rowg[x] = 0;
            for (int64_t j = 0; j < gw; j++) {
                float g = (float)(d[(i * gw + j) * c + ch] * inv_h[i] * inv_w[j]);
                for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                    rowg[x] += g;
            }
            int64_t h0 = geo->win_h[2 * i], h1 = geo->win_h[2 * i + 1];
            add_to_rows(plane + h0 * w, h1 - h0, w, rowg);
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
