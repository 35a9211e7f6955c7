/* Reference cost, Sinkhorn and pair loss with gradients (SFR.md 4 to 7). */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "ref.h"
#include "sfr/reg.h"

static int64_t group(int64_t ch, int64_t c, int64_t g)
{
    return ch * g / c;
}

void sfri_ref_cost(const double *x, const double *y, int64_t a, int64_t b, int64_t cs,
                   int64_t ct, double *cost)
{
    int64_t g = cs < ct ? cs : ct, m = cs < ct ? ct : cs;
    for (int64_t i = 0; i < a; i++)
        for (int64_t l = 0; l < b; l++) {
            double s = 0;
            for (int64_t j = 0; j < cs; j++)
                for (int64_t k = 0; k < ct; k++)
                    if (group(j, cs, g) == group(k, ct, g)) {
                        double d = x[i * cs + j] - y[l * ct + k];
                        s += d * d;
                    }
            cost[i * b + l] = s / (double)m;
        }
}

/* One log-domain iteration at eps: f then g, as SFR.md section 5 writes them. */
static void ref_iteration(const double *cost, int64_t a, int64_t b, double eps, double *fv,
                          double *gv)
{
    for (int64_t i = 0; i < a; i++) {
        double mx = -INFINITY, s = 0;
        for (int64_t l = 0; l < b; l++)
            mx = fmax(mx, (gv[l] - cost[i * b + l]) / eps);
        for (int64_t l = 0; l < b; l++)
            s += exp((gv[l] - cost[i * b + l]) / eps - mx);
        fv[i] = eps * log(1.0 / (double)a) - eps * (mx + log(s));
    }
    for (int64_t l = 0; l < b; l++) {
        double mx = -INFINITY, s = 0;
        for (int64_t i = 0; i < a; i++)
            mx = fmax(mx, (fv[i] - cost[i * b + l]) / eps);
        for (int64_t i = 0; i < a; i++)
            s += exp((fv[i] - cost[i * b + l]) / eps - mx);
        gv[l] = eps * log(1.0 / (double)b) - eps * (mx + log(s));
    }
}

int sfri_ref_sinkhorn(const double *cost, int64_t a, int64_t b, double eps, double scaling,
                      int max_iter, double tol, double *plan, int *iterations, double *error)
{
    double *fv = sfri_calloc((size_t)(a + b), sizeof(double));   /* f = g = 0 */
    if (fv == NULL)
        return -1;
    double *gv = fv + a;
    int it = 0;
    /* Epsilon scaling (docs/sfr.md): rounds at eps_r = diameter * scaling^r while above eps. */
    double cmin = INFINITY, cmax = -INFINITY;
    for (int64_t i = 0; i < a * b; i++) {
        cmin = fmin(cmin, cost[i]);
        cmax = fmax(cmax, cost[i]);
    }
    for (double e_r = cmax - cmin; scaling > 0 && e_r > eps && it < max_iter - 1;
         e_r *= scaling, it++)
        ref_iteration(cost, a, b, e_r, fv, gv);
    double e = 0;
    while (it < max_iter) {
        ref_iteration(cost, a, b, eps, fv, gv);
        it++;
        e = 0;
        for (int64_t i = 0; i < a; i++) {
            double row = 0;
            for (int64_t l = 0; l < b; l++)
                row += exp((fv[i] + gv[l] - cost[i * b + l]) / eps);
            e += fabs(row - 1.0 / (double)a);
        }
        if (e < tol)
            break;
    }
    for (int64_t i = 0; i < a; i++)
        for (int64_t l = 0; l < b; l++)
            plan[i * b + l] = exp((fv[i] + gv[l] - cost[i * b + l]) / eps);
    *iterations = it;
    *error = e;
    sfri_free(fv);
    return 0;
}

/* x (A, C) -> x / sqrt(mean_j x_aj^2 + delta) in place, r (A) the divisors. */
static void normalize(double *x, int64_t a, int64_t c, int norm, double delta, double *r)
{
    for (int64_t i = 0; i < a; i++) {
        double ss = 0;
        for (int64_t j = 0; j < c; j++)
            ss += x[i * c + j] * x[i * c + j];
        r[i] = norm == SFR_NORM_RMS ? sqrt(ss / (double)c + delta) : 1.0;
        for (int64_t j = 0; j < c; j++)
            x[i * c + j] /= r[i];
    }
}

/* dx (A, C) through the normalization, in place: dx/r - x (x . dx) / (C r). */
static void normalize_backward(double *dx, const double *x, const double *r, int64_t a,
                               int64_t c, int norm)
{
    if (norm != SFR_NORM_RMS)
        return;
    for (int64_t i = 0; i < a; i++) {
        double dot = 0;
        for (int64_t j = 0; j < c; j++)
            dot += x[i * c + j] * dx[i * c + j];
        for (int64_t j = 0; j < c; j++)
            dx[i * c + j] = dx[i * c + j] / r[i] - x[i * c + j] * dot / ((double)c * r[i]);
    }
}

/*
 * d(w <P, C>)/dx (A, Cx) for one side, from the definition: x_aj meets every
 * y_bk of its group in every cell b, with weight P_ab (or P_ba when the
 * plan is seen from the teacher, transposed).
 */
static void side_grad(const double *plan, int transposed, const double *x, const double *y,
                      int64_t a, int64_t b, int64_t cx, int64_t cy, double w, double *dx)
{
    int64_t g = cx < cy ? cx : cy, m = cx < cy ? cy : cx;
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < cx; j++) {
            double s = 0;
            for (int64_t l = 0; l < b; l++) {
                double p = transposed ? plan[l * a + i] : plan[i * b + l];
                for (int64_t k = 0; k < cy; k++)
                    if (group(j, cx, g) == group(k, cy, g))
                        s += p * 2.0 / (double)m * (x[i * cx + j] - y[l * cy + k]);
            }
            dx[i * cx + j] = w * s;
        }
}

int sfri_ref_pair_loss(const struct sfri_ref_pair *p, const double *s, const double *t,
                       double *plans, int fixed_plan, double *ds, double *dt, double *loss,
                       int *iterations, double *error)
{
    const int64_t a = p->gh * p->gw, b = p->tgh * p->tgw;
    const int64_t ssz = p->cs * p->hs * p->ws, tsz = p->ct * p->ht * p->wt;
    size_t total = (size_t)(2 * a * p->cs + 2 * b * p->ct + a + b + a * b);
    double *buf = sfri_calloc(total, sizeof(double));
    if (buf == NULL)
        return -1;
    double *x = buf, *dx = x + a * p->cs, *y = dx + a * p->cs, *dy = y + b * p->ct;
    double *rx = dy + b * p->ct, *ry = rx + a, *cost = ry + b;
    const double w = p->beta / (double)p->n;
    double sum = 0, err_max = 0;
    int it_max = 0;
    for (int64_t n = 0; n < p->n; n++) {
        double *plan = plans + n * a * b;
        sfri_ref_pool(s + n * ssz, p->cs, p->hs, p->ws, p->gh, p->gw, x);
        sfri_ref_pool(t + n * tsz, p->ct, p->ht, p->wt, p->tgh, p->tgw, y);
        normalize(x, a, p->cs, p->norm, p->delta, rx);
        normalize(y, b, p->ct, p->norm, p->delta, ry);
        sfri_ref_cost(x, y, a, b, p->cs, p->ct, cost);
        if (!fixed_plan && p->match == SFR_MATCH_EMD) {
            int it;
            double e;
            double eps = p->eps;
            if (p->eps_relative) {
                double mean = 0;
                for (int64_t i = 0; i < a * b; i++)
                    mean += cost[i] / (double)(a * b);
                eps *= fmax(mean, 1e-12);
            }
            if (sfri_ref_sinkhorn(cost, a, b, eps, p->scaling, p->max_iter, p->tol, plan, &it,
                                  &e) != 0) {
                sfri_free(buf);
                return -1;
            }
            it_max = it > it_max ? it : it_max;
            err_max = e > err_max ? e : err_max;
        } else if (!fixed_plan) {
            for (int64_t i = 0; i < a * b; i++)
                plan[i] = i / b == i % b ? 1.0 / (double)a : 0.0;
        }
        for (int64_t i = 0; i < a * b; i++)
            sum += plan[i] * cost[i];
        if (ds != NULL) {
            side_grad(plan, 0, x, y, a, b, p->cs, p->ct, w, dx);
            normalize_backward(dx, x, rx, a, p->cs, p->norm);
            memset(ds + n * ssz, 0, (size_t)ssz * sizeof(double));
            sfri_ref_pool_backward(dx, p->cs, p->hs, p->ws, p->gh, p->gw, ds + n * ssz);
        }
        if (dt != NULL) {
            side_grad(plan, 1, y, x, b, a, p->ct, p->cs, w, dy);
            normalize_backward(dy, y, ry, b, p->ct, p->norm);
            memset(dt + n * tsz, 0, (size_t)tsz * sizeof(double));
            sfri_ref_pool_backward(dy, p->ct, p->ht, p->wt, p->tgh, p->tgw, dt + n * tsz);
        }
    }
    *loss = w * sum;
    if (iterations != NULL)
        *iterations = it_max;
    if (error != NULL)
        *error = err_max;
    sfri_free(buf);
    return 0;
}
