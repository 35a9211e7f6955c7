/*
 * The many-to-one channel cost (SFR.md section 4) and its gradient (section
 * 7), as small GEMMs on channel-group sums.
 *
 * With G = min(Cs, Ct) groups, one side has one channel per group, so the
 * cross term sum_j x_j * Ysum_grp(j) of the expanded square is xg . yg for
 * the group sums of both sides, and
 *     M * C_ab = n_t * |x_a|^2 - 2 xg_a . yg_b + n_s * |y_b|^2.
 *
 * Both GEMMs are register tiles: 4 rows of the left factor against 16
 * (cost) or 8 (gradient) columns of the right one held in vectors, so each
 * loaded vector feeds 4 or 8 independent multiply-adds (A, B and G are 16 to 512 here: far too small
 * for a library GEMM's packing to pay off).
 */
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

/* Teacher features per column tile of the cross term, and groups per depth block. */
#define TILE_B 16
#define TILE_G 128

/* xg (A, G) from x (A, G*per): with per a constant the compiler vectorizes the strides. */
static inline void group_rows(const double *x, int64_t a, int64_t g, int64_t per, double *xg)
{
    for (int64_t i = 0; i < a; i++) {
        const double *xr = x + i * g * per;
        double *gr = xg + i * g;
#pragma omp simd
        for (int64_t q = 0; q < g; q++) {
            double s = 0;
            for (int64_t j = 0; j < per; j++)
                s += xr[q * per + j];
            gr[q] = s;
        }
    }
}

SFRI_CLONES
void sfri_group_sum(const double *x, int64_t a, int64_t c, int64_t g, double *xg)
{
    switch (c / g) {
    case 2: group_rows(x, a, g, 2, xg); break;
    case 4: group_rows(x, a, g, 4, xg); break;
    case 8: group_rows(x, a, g, 8, xg); break;
    default: group_rows(x, a, g, c / g, xg); break;
    }
}

/* |row|^2 of a (rows, C) matrix. */
static double sq_norm(const double *row, int64_t c)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < c; j++)
        s += row[j] * row[j];
    return s;
}

/*
 * out[r][0..15] = sum_q left[r * ld + q] * (lo[q], hi[q]) for 4 rows of the
 * left factor against a column tile of 16 held as two vectors: eight
 * independent multiply-add chains, enough to keep both FMA pipes busy.
 */
static inline void tile4(const double *left, int64_t ld, int64_t nq, const sfri_v8d *lo,
                         const sfri_v8d *hi, double out[4][TILE_B])
{
    sfri_v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int64_t q = 0; q < nq; q++) {
        const sfri_v8d tl = lo[q], th = hi[q];
        const double l0 = left[q], l1 = left[ld + q], l2 = left[2 * ld + q], l3 = left[3 * ld + q];
        a0 += l0 * tl, a1 += l0 * th;
        a2 += l1 * tl, a3 += l1 * th;
        a4 += l2 * tl, a5 += l2 * th;
        a6 += l3 * tl, a7 += l3 * th;
    }
    memcpy(out[0], &a0, sizeof a0), memcpy(out[0] + 8, &a1, sizeof a1);
    memcpy(out[1], &a2, sizeof a2), memcpy(out[1] + 8, &a3, sizeof a3);
    memcpy(out[2], &a4, sizeof a4), memcpy(out[2] + 8, &a5, sizeof a5);
    memcpy(out[3], &a6, sizeof a6), memcpy(out[3] + 8, &a7, sizeof a7);
}

/* The same for one row. */
static inline void tile1(const double *left, int64_t nq, const sfri_v8d *lo, const sfri_v8d *hi,
                         double out[TILE_B])
{
    sfri_v8d a0 = {0}, a1 = {0};
    for (int64_t q = 0; q < nq; q++)
        a0 += left[q] * lo[q], a1 += left[q] * hi[q];
    memcpy(out, &a0, sizeof a0), memcpy(out + 8, &a1, sizeof a1);
}

SFRI_CLONES
void sfri_cost(const struct sfri_pair_shape *sh, const double *x, const double *y,
               const double *xg, const double *yg, double *cost)
{
    const int64_t a = sh->a, b = sh->b, g = sh->g;
    const double inv_m = 1.0 / (double)sh->m;
    /* yg^T of up to 16 teacher features, columns 0-7 and 8-15, zero past the last. */
    sfri_v8d lo[TILE_G], hi[TILE_G];
    double part[4][TILE_B];
    for (int64_t j0 = 0; j0 < b; j0 += TILE_B) {
        const int64_t nb = b - j0 < TILE_B ? b - j0 : TILE_B;
        /* Cross terms xg . yg of columns j0 .. j0+nb, depth block by depth block. */
        for (int64_t q0 = 0; q0 < g; q0 += TILE_G) {
            const int64_t nq = g - q0 < TILE_G ? g - q0 : TILE_G;
            for (int64_t q = 0; q < nq; q++)
                for (int64_t jj = 0; jj < 8; jj++) {
                    lo[q][jj] = jj < nb ? yg[(j0 + jj) * g + q0 + q] : 0;
                    hi[q][jj] = jj + 8 < nb ? yg[(j0 + jj + 8) * g + q0 + q] : 0;
                }
            int64_t i = 0;
            for (; i + 4 <= a; i += 4) {
                tile4(xg + i * g + q0, g, nq, lo, hi, part);
                for (int64_t r = 0; r < 4; r++)
                    for (int64_t jj = 0; jj < nb; jj++)
                        cost[(i + r) * b + j0 + jj] =
                            (q0 > 0 ? cost[(i + r) * b + j0 + jj] : 0) + part[r][jj];
            }
            for (; i < a; i++) {
                tile1(xg + i * g + q0, nq, lo, hi, part[0]);
                for (int64_t jj = 0; jj < nb; jj++)
                    cost[i * b + j0 + jj] = (q0 > 0 ? cost[i * b + j0 + jj] : 0) + part[0][jj];
            }
        }
        double ny[TILE_B];
        for (int64_t jj = 0; jj < nb; jj++)
            ny[jj] = (double)sh->n_s * sq_norm(y + (j0 + jj) * sh->ct, sh->ct);
        for (int64_t r = 0; r < a; r++) {
            double nx = (double)sh->n_t * sq_norm(x + r * sh->cs, sh->cs);
            double *c = cost + r * b + j0;
            for (int64_t jj = 0; jj < nb; jj++)
                c[jj] = (nx - 2 * c[jj] + ny[jj]) * inv_m;
        }
    }
}

/*
 * tmp (4, 8) = rows p0..p3 of P (cols entries each, stride cstride) times
 * the 8 groups of yg (cols, G) from q: four accumulators in registers, so
 * each loaded vector of yg feeds four independent multiply-adds.
 */
static inline void plan_tile4(const double *p0, const double *p1, const double *p2,
                              const double *p3, int64_t cstride, int64_t cols,
                              const double *yg, int64_t g, sfri_v8d *acc)
{
    sfri_v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int64_t l = 0; l < cols; l++) {
        sfri_v8d yv;
        memcpy(&yv, yg + l * g, sizeof yv);
        a0 += p0[l * cstride] * yv;
        a1 += p1[l * cstride] * yv;
        a2 += p2[l * cstride] * yv;
        a3 += p3[l * cstride] * yv;
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

SFRI_CLONES
void sfri_cost_grad(const double *plan, int64_t a, int64_t b, int transposed, const double *x,
                    int64_t c, const double *yg, int64_t g, double n_other, double scale,
                    double *tmp, double *dx)
{
    /* Rows of P seen from this side: P (A, B), or P^T (B, A) for the teacher. */
    const int64_t rows = transposed ? b : a, cols = transposed ? a : b;
    const int64_t rstride = transposed ? 1 : b, cstride = transposed ? b : 1;
    const int64_t per = c / g;
    for (int64_t i0 = 0; i0 < rows; i0 += 4) {
        const int64_t nr = rows - i0 < 4 ? rows - i0 : 4;
        /* tmp (nr, G) = P rows i0.. times yg (cols, G): 8 groups per vector. A last
         * block of fewer than 4 rows repeats its last row in the unused slots. */
        const double *pr[4];
        for (int64_t r = 0; r < 4; r++)
            pr[r] = plan + (i0 + (r < nr ? r : nr - 1)) * rstride;
        int64_t q = 0;
        for (; q + 8 <= g; q += 8) {
            sfri_v8d acc[4];
            plan_tile4(pr[0], pr[1], pr[2], pr[3], cstride, cols, yg + q, g, acc);
            for (int64_t r = 0; r < nr; r++)
                memcpy(tmp + r * g + q, &acc[r], sizeof acc[r]);
        }
        for (; q < g; q++)
            for (int64_t r = 0; r < nr; r++) {
                double s = 0;
                for (int64_t l = 0; l < cols; l++)
                    s += plan[(i0 + r) * rstride + l * cstride] * yg[l * g + q];
                tmp[r * g + q] = s;
            }
        for (int64_t r = 0; r < nr; r++) {
            const int64_t i = i0 + r;
            double rsum = 0;
            for (int64_t l = 0; l < cols; l++)
                rsum += plan[i * rstride + l * cstride];
            const double *xr = x + i * c, *tr = tmp + r * g;
            double *dr = dx + i * c;
            double xs = scale * n_other * rsum;
            if (per == 1) {   /* one channel per group: a plain vector loop */
#pragma omp simd
                for (int64_t k = 0; k < g; k++)
                    dr[k] = xs * xr[k] - scale * tr[k];
                continue;
            }
            for (int64_t k = 0; k < g; k++) {
                double t = scale * tr[k];
#pragma omp simd
                for (int64_t j = 0; j < per; j++)
                    dr[k * per + j] = xs * xr[k * per + j] - t;
            }
        }
    }
}
