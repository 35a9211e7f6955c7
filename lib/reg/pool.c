/*
 * Adaptive average pooling to local features and their normalization
 * (SFR.md sections 2, 3), forward and backward, one sample at a time.
 *
 * Windows are summed in float (see column_sums), and a map whose float
 * sums overflow is pooled again in double. Rows of a window are first
 * summed into a row buffer with vector adds over the width (independent
 * lanes, no long dependency chain), then each cell sums its columns of
 * that buffer: every input element is read once per window that holds it. Backward, each gradient row is read and written
 * once: rows held by the same windows get their summed contribution.
 * Planes of at most LANE_PLANE_MAX elements are too narrow for that: they
 * are handled 8 channels at a time, one channel per vector lane.
 */
#include <math.h>
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

/* Channels per block of the transposes between (C, H*W) and (H*W, C). */
#define TRANSPOSE_BLOCK 8

/*
 * Planes of at most this many elements (16 x 16) are pooled 8 channels at a
 * time, one channel per vector lane: a small plane has too few elements per
 * row for vectors along its width, and per-plane loop overhead dominates.
 */
#define LANE_PLANE_MAX 256

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
 * acc (W) = sum of rows (R, W), in float: a window holds at most a few
 * hundred values of like sign after a ReLU, so float keeps about 6
 * significant digits, far inside the contract's tolerance, at half the
 * vector work of double and without conversions. Columns in register
 * chunks, rows inner. Inline, so that each clone of the callers gets its
 * own registers.
 */
static inline void column_sums(const float *rows, int64_t nrows, int64_t w, float *acc)
{
    int64_t x = 0;
    for (; x + 16 <= w; x += 16) {
        sfri_v16f s = {0}, v;
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            s += v;
        }
        memcpy(acc + x, &s, sizeof s);
    }
    for (; x + 8 <= w; x += 8) {
        sfri_v8f s = {0}, v;
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            s += v;
        }
        memcpy(acc + x, &s, sizeof s);
    }
    for (; x + 4 <= w; x += 4) {
        sfri_v4f s = {0}, v;
        for (int64_t y = 0; y < nrows; y++) {
            memcpy(&v, rows + y * w + x, sizeof v);
            s += v;
        }
        memcpy(acc + x, &s, sizeof s);
    }
    for (; x < w; x++) {
        float s = 0;
        for (int64_t y = 0; y < nrows; y++)
            s += rows[y * w + x];
        acc[x] = s;
    }
}

/*
 * rows (R, W) += g (W) on every row, row after row: the rows are read and
 * written in address order, which the hardware prefetcher follows, and g
 * stays in the first-level cache.
 */
static inline void add_to_rows(float *rows, int64_t nrows, int64_t w, const float *g)
{
    for (int64_t y = 0; y < nrows; y++) {
        float *row = rows + y * w;
        int64_t x = 0;
        for (; x + 16 <= w; x += 16) {
            sfri_v16f gv, v;
            memcpy(&gv, g + x, sizeof gv);
            memcpy(&v, row + x, sizeof v);
            v += gv;
            memcpy(row + x, &v, sizeof v);
        }
        for (; x + 8 <= w; x += 8) {
            sfri_v8f gv, v;
            memcpy(&gv, g + x, sizeof gv);
            memcpy(&v, row + x, sizeof v);
            v += gv;
            memcpy(row + x, &v, sizeof v);
        }
        for (; x + 4 <= w; x += 4) {
            sfri_v4f gv, v;
            memcpy(&gv, g + x, sizeof gv);
            memcpy(&v, row + x, sizeof v);
            v += gv;
            memcpy(row + x, &v, sizeof v);
        }
        for (; x < w; x++)
            row[x] += g[x];
    }
}

/*
 * The first n (1 to 8) doubles of a vector stored to or loaded from memory.
 * Full vectors are plain vector moves; a partial one goes through an array,
 * so that the vector itself never needs an address (which would keep it in
 * memory, not in a register, on the hot path of every cell).
 */
static inline void store_lanes(double *dst, const sfri_v8d *v, int64_t n)
{
    if (n == 8) {
        memcpy(dst, v, sizeof *v);
        return;
    }
    double part[8];
    memcpy(part, v, sizeof *v);
    for (int64_t t = 0; t < n; t++)
        dst[t] = part[t];
}

static inline void load_lanes(const double *src, int64_t n, sfri_v8d *v)
{
    if (n == 8) {
        memcpy(v, src, sizeof *v);
        return;
    }
    double part[8] = {0};
    for (int64_t t = 0; t < n; t++)
        part[t] = src[t];
    memcpy(v, part, sizeof *v);
}

/* r[t][k] <-> r[k][t] for an 8 x 8 block, in registers (unpack, pair, half swaps).
 * __builtin_shufflevector takes constant indices and is understood by gcc
 * (12 and later) and clang alike; the fuzz build uses clang. */
static inline void transpose8(sfri_v8f *r)
{
    sfri_v8f t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/*
 * Pooling of a small plane with 8 channels in the lanes: the block is
 * transposed into lanes (H*W, 8), then each cell adds its window, in float
 * (see column_sums), and stores its 8 channels as doubles.
 * inv_h (Gh), inv_w (Gw) are the inverse window sizes.
 */
SFRI_CLONES
static void pool_lanes(const struct sfri_pool_geom *geo, const float *in, const double *inv_h,
                       const double *inv_w, double *out)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gh = geo->gh, gw = geo->gw;
    float lanes[LANE_PLANE_MAX * 8] __attribute__((aligned(32)));   // (H*W, 8)
    float pad[LANE_PLANE_MAX * 8];   // a last block of fewer than 8 planes, zero-padded
    for (int64_t c0 = 0; c0 < c; c0 += 8) {
        const int64_t nc = c - c0 < 8 ? c - c0 : 8;
        const float *blk = in + c0 * hw;   // (8, H*W)
        if (nc < 8) {
            memset(pad, 0, (size_t)(8 * hw) * sizeof(float));
            memcpy(pad, blk, (size_t)(nc * hw) * sizeof(float));
            blk = pad;
        }
        int64_t k0 = 0;
        for (; k0 + 8 <= hw; k0 += 8) {
            sfri_v8f r[8];
            for (int t = 0; t < 8; t++)
                memcpy(&r[t], blk + t * hw + k0, sizeof r[t]);
            transpose8(r);
            memcpy(lanes + k0 * 8, r, sizeof r);
        }
        for (; k0 < hw; k0++)
            for (int t = 0; t < 8; t++)
                lanes[k0 * 8 + t] = blk[t * hw + k0];
        for (int64_t i = 0; i < gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                sfri_v8f sum = {0}, v;
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++) {
                        memcpy(&v, lanes + (y * w + x) * 8, sizeof v);
                        sum += v;
                    }
                sfri_v8d mean = __builtin_convertvector(sum, sfri_v8d) * (inv_h[i] * inv_w[j]);
                store_lanes(out + (i * gw + j) * c + c0, &mean, nc);
            }
    }
}

/* out (A, C) = pooled in (C, H, W). */
SFRI_CLONES
static void pool(const struct sfri_pool_geom *geo, const float *in, double *out, double *buf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gh = geo->gh, gw = geo->gw;
    double *inv_h = buf, *inv_w = inv_h + gh;   // (Gh), (Gw)
    float *acc = (float *)(inv_w + gw);          // (W)
    inverse_sizes(geo->win_h, gh, inv_h);
    inverse_sizes(geo->win_w, gw, inv_w);
    const int same = gh == h && gw == w;
    if (h * w <= LANE_PLANE_MAX) {
        pool_lanes(geo, in, inv_h, inv_w, out);
        return;
    }
    if (same) {
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
    for (int64_t ch = 0; ch < c; ch++) {
        const float *plane = in + ch * h * w;   // (H, W)
        for (int64_t i = 0; i < gh; i++) {
            int64_t h0 = geo->win_h[2 * i], h1 = geo->win_h[2 * i + 1];
            column_sums(plane + h0 * w, h1 - h0, w, acc);
            for (int64_t j = 0; j < gw; j++) {
                float sum = 0;
                for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++)
                    sum += acc[x];
                out[(i * gw + j) * c + ch] = (double)sum * inv_h[i] * inv_w[j];
            }
        }
    }
}

/*
 * out (A, C) = pooled in (C, H, W) (block 0) or (C/block, H, W, block) with
 * every window summed in double: the fallback when float sums overflow.
 */
static void pool_exact(const struct sfri_pool_geom *geo, const float *in, int block, double *out)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gw = geo->gw;
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < geo->gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                const int64_t y0 = geo->win_h[2 * i], y1 = geo->win_h[2 * i + 1];
                const int64_t x0 = geo->win_w[2 * j], x1 = geo->win_w[2 * j + 1];
                double sum = 0;
                for (int64_t y = y0; y < y1; y++)
                    for (int64_t x = x0; x < x1; x++)
                        sum += (double)in[block ? (((ch / block) * h + y) * w + x) * block +
                                                      ch % block
                                                : (ch * h + y) * w + x];
                out[(i * gw + j) * c + ch] = sum / (double)((y1 - y0) * (x1 - x0));
            }
}

/* Normalizes pooled features out (A, C) in place, writes r (A); -1 when one is not finite. */
SFRI_CLONES
static int normalize_pooled(double *out, int64_t a, int64_t c, int norm, double delta, double *r)
{
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

int sfri_normalize_or_repool(const struct sfri_pool_geom *geo, const float *in, int block,
                             int norm, double delta, double *out, double *r)
{
    const int64_t c = geo->c, a = geo->gh * geo->gw;
    if (normalize_pooled(out, a, c, norm, delta, r) == 0)
        return 0;
    pool_exact(geo, in, block, out);
    return normalize_pooled(out, a, c, norm, delta, r);
}

int sfri_pool_normalize(const struct sfri_pool_geom *geo, const float *in, int norm,
                        double delta, double *out, double *r, double *buf)
{
    pool(geo, in, out, buf);
    return sfri_normalize_or_repool(geo, in, 0, norm, delta, out, r);
}

/*
 * The pooling's transpose for a small plane with 8 channels in the lanes:
 * each cell adds its gradient over its size to its window of lanes
 * (H*W, 8), which are then added to the block's planes.
 */
SFRI_CLONES
static void unpool_lanes(const struct sfri_pool_geom *geo, const double *d,
                         const double *inv_h, const double *inv_w, float *grad)
{
    const int64_t c = geo->c, w = geo->w, hw = geo->h * geo->w, gh = geo->gh, gw = geo->gw;
    float lanes[LANE_PLANE_MAX * 8] __attribute__((aligned(32)));   // (H*W, 8)
    float pad[LANE_PLANE_MAX * 8];   // a last block of fewer than 8 planes
    memset(lanes, 0, (size_t)(hw * 8) * sizeof(float));
    for (int64_t c0 = 0; c0 < c; c0 += 8) {
        const int64_t nc = c - c0 < 8 ? c - c0 : 8;
        for (int64_t i = 0; i < gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                sfri_v8d gd;
                load_lanes(d + (i * gw + j) * c + c0, nc, &gd);
                sfri_v8f g = __builtin_convertvector(gd * (inv_h[i] * inv_w[j]), sfri_v8f), v;
                for (int64_t y = geo->win_h[2 * i]; y < geo->win_h[2 * i + 1]; y++)
                    for (int64_t x = geo->win_w[2 * j]; x < geo->win_w[2 * j + 1]; x++) {
                        memcpy(&v, lanes + (y * w + x) * 8, sizeof v);
                        v += g;
                        memcpy(lanes + (y * w + x) * 8, &v, sizeof v);
                    }
            }
        /* Added to the planes (or, for a partial block, to a zeroed copy whose
         * first nc planes are then added) and cleared for the next block. */
        float *blk = nc == 8 ? grad + c0 * hw : pad;   // (8, H*W)
        if (nc < 8)
            memset(pad, 0, (size_t)(8 * hw) * sizeof(float));
        int64_t k0 = 0;
        for (; k0 + 8 <= hw; k0 += 8) {
            sfri_v8f r[8], v;
            memcpy(r, lanes + k0 * 8, sizeof r);
            memset(lanes + k0 * 8, 0, sizeof r);
            transpose8(r);
            for (int t = 0; t < 8; t++) {
                memcpy(&v, blk + t * hw + k0, sizeof v);
                v += r[t];
                memcpy(blk + t * hw + k0, &v, sizeof v);
            }
        }
        for (; k0 < hw; k0++)
            for (int t = 0; t < 8; t++) {
                blk[t * hw + k0] += lanes[k0 * 8 + t];
                lanes[k0 * 8 + t] = 0;
            }
        if (nc < 8)
            for (int64_t k = 0; k < nc * hw; k++)
                grad[c0 * hw + k] += pad[k];
    }
}

SFRI_CLONES
void sfri_unpool(const struct sfri_pool_geom *geo, const double *d, float *grad, double *buf)
{
    const int64_t c = geo->c, h = geo->h, w = geo->w, gh = geo->gh, gw = geo->gw;
    double *inv_h = buf, *inv_w = inv_h + gh;   // (Gh), (Gw)
    inverse_sizes(geo->win_h, gh, inv_h);
    inverse_sizes(geo->win_w, gw, inv_w);
    const int same = gh == h && gw == w;
    if (h * w <= LANE_PLANE_MAX) {
        unpool_lanes(geo, d, inv_h, inv_w, grad);
        return;
    }
    if (same) {
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
    float *rowg = (float *)(inv_w + gw);   // (Gh, W)
    float *both = rowg + gh * w;           // (W) rows of overlapping windows
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
void sfri_normalize_backward(int64_t a, int64_t c, int norm, const double *out, const double *r,
                             double *dout)
{
    if (norm != SFR_NORM_RMS)
        return;
    /* Through rms: dx = dx^/r - x^ (x^ . dx^) / (C r). */
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

void sfri_pool_normalize_backward(const struct sfri_pool_geom *geo, double *dout,
                                  const double *out, const double *r, int norm, float *grad,
                                  double *buf)
{
    sfri_normalize_backward(geo->gh * geo->gw, geo->c, norm, out, r, dout);
    sfri_unpool(geo, dout, grad, buf);
}
