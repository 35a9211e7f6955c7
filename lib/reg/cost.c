/*
 * The many-to-one channel cost (SFR.md section 4) and its gradient (section
 * 7), as small GEMMs on channel-group sums.
 *
 * With G = min(Cs, Ct) groups, one side has one channel per group, so the
 * cross term sum_j x_j * Ysum_grp(j) of the expanded square is xg . yg for
 * the group sums of both sides, and
 *     M * C_ab = n_t * |x_a|^2 - 2 xg_a . yg_b + n_s * |y_b|^2.
 */
#include "reg_internal.h"

SFRI_CLONES
void sfri_group_sum(const double *x, int64_t a, int64_t c, int64_t g, double *xg)
{
    const int64_t per = c / g;
    for (int64_t i = 0; i < a; i++)
        for (int64_t q = 0; q < g; q++) {
            double s = 0;
            for (int64_t j = 0; j < per; j++)
                s += x[i * c + q * per + j];
            xg[i * g + q] = s;
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

SFRI_CLONES
void sfri_cost(const struct sfri_pair_shape *sh, const double *x, const double *y,
               const double *xg, const double *yg, double *cost)
{
    const int64_t a = sh->a, b = sh->b, g = sh->g;
    const double inv_m = 1.0 / (double)sh->m;
    for (int64_t j = 0; j < b; j++)
        cost[j] = (double)sh->n_s * sq_norm(y + j * sh->ct, sh->ct);   /* row 0 keeps y terms */
    for (int64_t i = a - 1; i >= 0; i--) {
        double xt = (double)sh->n_t * sq_norm(x + i * sh->cs, sh->cs);
        const double *xr = xg + i * g;   // (G)
        double *crow = cost + i * b;     // (B)
        for (int64_t j = 0; j < b; j++) {
            const double *yr = yg + j * g;
            double dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t q = 0; q < g; q++)
                dot += xr[q] * yr[q];
            crow[j] = (xt - 2 * dot + cost[j]) * inv_m;
        }
    }
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
    for (int64_t i = 0; i < rows; i++) {
        double rsum = 0;
        for (int64_t q = 0; q < g; q++)
            tmp[q] = 0;
        for (int64_t l = 0; l < cols; l++) {
            double p = plan[i * rstride + l * cstride];
            const double *yr = yg + l * g;
            rsum += p;
#pragma omp simd
            for (int64_t q = 0; q < g; q++)
                tmp[q] += p * yr[q];
        }
        const double *xr = x + i * c;
        double *dr = dx + i * c;
        double xs = scale * n_other * rsum;
        for (int64_t q = 0; q < g; q++) {
            double t = scale * tmp[q];
#pragma omp simd
            for (int64_t j = 0; j < per; j++)
                dr[q * per + j] = xs * xr[q * per + j] - t;
        }
    }
}
