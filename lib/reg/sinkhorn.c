/*
 * Sinkhorn for uniform marginals (SFR.md section 5).
 *
 * The contract's iterates are the log-domain ones, f then g per iteration
 * from f = g = 0. With u = exp(f/eps), v = exp(g/eps), K = exp(-C/eps) they
 * are exactly u = mu / (K v), v = nu / (K^T u): two small matrix-vector
 * products per iteration instead of 2*A*B exponentials. K is built from
 * C - min(C), which scales u by a constant and leaves v and P unchanged.
 * Dual potentials stay within the range of C, so when (max C - min C)/eps is
 * at most KERNEL_RANGE every product stays far inside double's range; beyond
 * it the log-domain form is used.
 *
 * The row marginal of P after a g-update is u_a (K v)_a, and K v is what
 * the next f-update divides by: the stopping test costs A operations.
 */
#include <math.h>
#include <string.h>

#include "reg_internal.h"
#include "vec.h"

#define KERNEL_RANGE 200.0

size_t sfri_sinkhorn_scratch(int64_t a, int64_t b)
{
    return (size_t)(2 * a * b + 3 * a + 3 * b);
}

typedef long long sfri_v8ll __attribute__((vector_size(64)));

/*
 * exp, in place, of 8 arguments in [-708, 0], within 2 ulp of libm's, in vector
 * registers (libm's exp is a call per value, and the kernel needs A*B of
 * them per problem): x = k ln2 + r with |r| <= ln2/2, exp(r) by its Taylor
 * series to r^13/13! (relative remainder below 2e-17 there), times 2^k
 * built in the exponent bits.
 */
static inline void exp_nonpositive(sfri_v8d *v)
{
    const sfri_v8d x = *v;
    const double shifter = 0x1.8p52;   /* adding it rounds to an integer in the low bits */
    const sfri_v8d t = x * 0x1.71547652b82fep0 + shifter;   /* x / ln2 + shifter */
    const sfri_v8d k = t - shifter;
    /* ln2 in two parts: k * hi is exact for |k| < 2^11. */
    const sfri_v8d r = (x - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33;
    sfri_v8d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* The low bits of t hold k: shifted into the exponent field and biased, 2^k. */
    const sfri_v8ll bits = ((sfri_v8ll)t << 52) + ((long long)1023 << 52);
    *v = p * (sfri_v8d)bits;
}

SFRI_CLONES
void sfri_exp_nonpositive(const double *x, int64_t n, double *y)
{
    int64_t i0 = 0;
    /* Whole vectors by fixed-size moves (a variable-size memcpy is a call). */
    for (; i0 + 8 <= n; i0 += 8) {
        sfri_v8d v;
        memcpy(&v, x + i0, sizeof v);
        exp_nonpositive(&v);
        memcpy(y + i0, &v, sizeof v);
    }
    if (i0 < n) {
        double part[8] = {0};
        memcpy(part, x + i0, (size_t)(n - i0) * sizeof(double));
        sfri_v8d v;
        memcpy(&v, part, sizeof v);
        exp_nonpositive(&v);
        memcpy(part, &v, sizeof v);
        memcpy(y + i0, part, (size_t)(n - i0) * sizeof(double));
    }
}

/* K (A, B) = exp(-(C - cmin)/eps) and its transpose kt (B, A); (C - cmin)/eps <= KERNEL_RANGE. */
SFRI_CLONES
static void build_kernel(const double *cost, int64_t a, int64_t b, double cmin, double eps,
                         double *k, double *kt)
{
    const double inv = -1.0 / eps;
    for (int64_t i = 0; i < a * b; i++)
        k[i] = (cost[i] - cmin) * inv;
    sfri_exp_nonpositive(k, a * b, k);
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++)
            kt[j * a + i] = k[i * b + j];
}

/*
 * y (B) = M^T x for m (A, B), x (A): 8 columns at a time in registers, rows
 * alternating between two accumulators (y kept in memory would make every
 * row wait for the previous row's store).
 */
SFRI_CLONES
static void matvec_t(const double *m, int64_t a, int64_t b, const double *x, double *y)
{
    int64_t j = 0;
    for (; j + 8 <= b; j += 8) {
        sfri_v8d s0 = {0}, s1 = {0}, v;
        int64_t i = 0;
        for (; i + 2 <= a; i += 2) {
            memcpy(&v, m + i * b + j, sizeof v);
            s0 += v * x[i];
            memcpy(&v, m + (i + 1) * b + j, sizeof v);
            s1 += v * x[i + 1];
        }
        if (i < a) {
            memcpy(&v, m + i * b + j, sizeof v);
            s0 += v * x[i];
        }
        s0 += s1;
        memcpy(y + j, &s0, sizeof s0);
    }
    for (; j < b; j++) {
        double s = 0;
        for (int64_t i = 0; i < a; i++)
            s += m[i * b + j] * x[i];
        y[j] = s;
    }
}

/*
 * v (B) = exp(g/eps_new) from v = exp(g/eps_old), up to a constant factor
 * (which the next u-update absorbs): v^(eps_old/eps_new), taken relative to
 * max v so that it stays in (0, 1].
 */
static void rescale_potential(double *v, int64_t b, double eps_old, double eps_new)
{
    double vmax = 0;
    for (int64_t j = 0; j < b; j++)
        vmax = v[j] > vmax ? v[j] : vmax;
    for (int64_t j = 0; j < b; j++)
        v[j] = pow(v[j] / vmax, eps_old / eps_new);
}

/*
 * Sinkhorn in the scaling form: the epsilon-scaling rounds of sfri_sinkhorn
 * (one iteration each, on a kernel built for the round's eps, the potential
 * v carried over), then the iterations at eps until tol or max_iter.
 * (max C - min C)/eps <= KERNEL_RANGE, so every round's is too.
 */
SFRI_CLONES
static void sinkhorn_kernel(const double *cost, int64_t a, int64_t b, double eps, double scaling,
                            double cmin, double cmax, int max_iter, double tol, double *plan,
                            int *iterations, double *error, double *scratch)
{
    double *k = scratch, *kt = k + a * b;       // (A, B), (B, A)
    double *u = kt + a * b, *kv = u + a;         // (A), (A)
    double *v = kv + a, *ktu = v + b;            // (B), (B)
    const double mu = 1.0 / (double)a, nu = 1.0 / (double)b;
    for (int64_t j = 0; j < b; j++)
        v[j] = 1;   /* g = 0 */
    int it = 0;
    double kernel_eps = 0;   /* the eps k and v are for; 0 before the first round */
    for (double e_r = cmax - cmin; scaling > 0 && e_r > eps && it < max_iter - 1; e_r *= scaling) {
        if (kernel_eps > 0)
            rescale_potential(v, b, kernel_eps, e_r);
        build_kernel(cost, a, b, cmin, e_r, k, kt);
        kernel_eps = e_r;
        matvec_t(kt, b, a, v, kv);
        for (int64_t i = 0; i < a; i++)
            u[i] = mu / kv[i];
        matvec_t(k, a, b, u, ktu);
        for (int64_t j = 0; j < b; j++)
            v[j] = nu / ktu[j];
        it++;
    }
    if (kernel_eps > 0)
        rescale_potential(v, b, kernel_eps, eps);
    build_kernel(cost, a, b, cmin, eps, k, kt);
    matvec_t(kt, b, a, v, kv);
    double e = 0;
    while (it < max_iter) {
        for (int64_t i = 0; i < a; i++)
            u[i] = mu / kv[i];
        matvec_t(k, a, b, u, ktu);
        for (int64_t j = 0; j < b; j++)
            v[j] = nu / ktu[j];
        matvec_t(kt, b, a, v, kv);
        it++;
        e = 0;
        for (int64_t i = 0; i < a; i++)
            e += fabs(u[i] * kv[i] - mu);
        if (e < tol)
            break;
    }
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++)
            plan[i * b + j] = u[i] * k[i * b + j] * v[j];
    *iterations = it;
    *error = e;
}

/* logsumexp of n values x[i * stride] - c[i * stride], scaled by 1/eps. */
static double lse(const double *x, const double *c, int64_t n, int64_t xstride, int64_t cstride,
                  double eps)
{
    double mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double t = (x[i * xstride] - c[i * cstride]) / eps;
        if (t > mx)
            mx = t;
    }
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += exp((x[i * xstride] - c[i * cstride]) / eps - mx);
    return mx + log(s);
}

/*
 * The log-domain iterations at eps from the potential g (B), in place,
 * after `it` iterations already made, until tol or max_iter; with
 * `rounds` > 0, exactly that many iterations and no stopping test (an
 * epsilon-scaling round). Returns the iteration count; writes the plan
 * and error only when plan is not NULL.
 */
static int sinkhorn_log(const double *cost, int64_t a, int64_t b, double eps, double *f,
                        double *g, double *lr, int it, int max_iter, int rounds, double tol,
                        double *plan, double *error)
{
    const double lmu = eps * log(1.0 / (double)a), lnu = eps * log(1.0 / (double)b);
    /* lr_a = logsumexp_b((g_b - C_ab)/eps), what the f-update needs. */
    for (int64_t i = 0; i < a; i++)
        lr[i] = lse(g, cost + i * b, b, 1, 1, eps);
    const int stop = rounds > 0 ? it + rounds : max_iter;
    double e = 0;
    while (it < stop) {
        for (int64_t i = 0; i < a; i++)
            f[i] = lmu - eps * lr[i];
        for (int64_t j = 0; j < b; j++)
            g[j] = lnu - eps * lse(f, cost + j, a, 1, b, eps);
        it++;
        if (rounds > 0)
            continue;
        e = 0;
        for (int64_t i = 0; i < a; i++) {
            lr[i] = lse(g, cost + i * b, b, 1, 1, eps);
            e += fabs(exp(f[i] / eps + lr[i]) - 1.0 / (double)a);
        }
        if (e < tol)
            break;
    }
    if (plan != NULL) {
        for (int64_t i = 0; i < a; i++)
            for (int64_t j = 0; j < b; j++)
                plan[i * b + j] = exp((f[i] + g[j] - cost[i * b + j]) / eps);
        *error = e;
    }
    return it;
}

/*
 * Epsilon scaling: eps_0 = the cost's diameter max C - min C, eps_{r+1} =
 * eps_r * scaling, one log-domain iteration per round at each eps_r above
 * eps, the potentials carried from round to round, and at most max_iter - 1
 * rounds, so that at least one iteration is made at eps itself. With scaling
 * 0, or a diameter not above eps, there is no round and the iterations
 * start from g = 0. Rounds count as iterations.
 */
SFRI_CLONES
void sfri_sinkhorn(const double *cost, int64_t a, int64_t b, double eps, double scaling,
                   int max_iter, double tol, double *plan, int *iterations, double *error,
                   double *scratch)
{
    double cmin = cost[0], cmax = cost[0];
    for (int64_t i = 1; i < a * b; i++) {
        cmin = cost[i] < cmin ? cost[i] : cmin;
        cmax = cost[i] > cmax ? cost[i] : cmax;
    }
    if ((cmax - cmin) / eps <= KERNEL_RANGE) {
        sinkhorn_kernel(cost, a, b, eps, scaling, cmin, cmax, max_iter, tol, plan, iterations,
                        error, scratch);
        return;
    }
    /* Beyond the kernel's range every round runs in the log domain. */
    double *f = scratch, *g = f + a, *lr = g + b;   // (A), (B), (A)
    for (int64_t j = 0; j < b; j++)
        g[j] = 0;
    int it = 0;
    for (double e_r = cmax - cmin; scaling > 0 && e_r > eps && it < max_iter - 1; e_r *= scaling)
        it = sinkhorn_log(cost, a, b, e_r, f, g, lr, it, max_iter, 1, tol, NULL, NULL);
    *iterations = sinkhorn_log(cost, a, b, eps, f, g, lr, it, max_iter, 0, tol, plan, error);
}
