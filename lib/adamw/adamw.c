/* The public AdamW helper: hyper-parameter checks, the moment buffers, and
 * the step on a net's flat parameter buffer. */
#include <string.h>

#include "../common/common.h"
#include "../optim/optim.h"
#include "adamw.h"
#include "sfr/net.h"

/* A beta must be in [0, 1): 1 would never forget, and its bias correction
 * would divide by 0. */
static sfr_status check_beta(double beta, const char *name, const char *func)
{
    if (!(beta >= 0.0 && beta < 1.0))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is %g: it must be in [0, 1)", name,
                         beta);
    return SFR_OK;
}

/* lr * weight_decay above 1 would flip every parameter's sign each step. */
static sfr_status check_decay(double lr, double weight_decay, const char *func)
{
    if (lr * weight_decay > 1.0)
        return sfri_fail(SFR_ERR_INVALID_ARG, func,
                         "lr * weight_decay is %g: it must be <= 1 (lr %g, weight_decay %g)",
                         lr * weight_decay, lr, weight_decay);
    return SFR_OK;
}

sfr_status sfri_adamw_check_hypers(double lr, double beta1, double beta2, double eps,
                                   double weight_decay, const char *func)
{
    sfr_status st = sfri_check_hyper(lr, "lr", 1, func);
    if (st == SFR_OK)
        st = check_beta(beta1, "beta1", func);
    if (st == SFR_OK)
        st = check_beta(beta2, "beta2", func);
    if (st == SFR_OK)
        st = sfri_check_hyper(eps, "eps", 1, func);
    if (st == SFR_OK)
        st = sfri_check_hyper(weight_decay, "weight_decay", 0, func);
    if (st == SFR_OK)
        st = check_decay(lr, weight_decay, func);
    return st;
}

SFR_API sfr_status sfr_adamw_create(sfr_adamw **out, double lr, double beta1, double beta2,
                                    double eps, double weight_decay)
{
    static const char *const fn = "sfr_adamw_create";
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    sfr_status st = sfri_adamw_check_hypers(lr, beta1, beta2, eps, weight_decay, fn);
    if (st != SFR_OK)
        return st;
    sfr_adamw *opt = sfri_calloc(1, sizeof *opt);
    if (opt == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    opt->magic = SFRI_MAGIC_ADAMW;
    opt->lr = lr;
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = eps;
    opt->weight_decay = weight_decay;
    opt->steps = 0;
    opt->count = -1;
    *out = opt;
    return SFR_OK;
}

sfr_status sfri_adamw_apply(sfr_adamw *opt, float *values, const float *grads, int64_t count,
                            const char *func)
{
    sfr_status st = sfri_optim_check(opt->count, values, grads, count, func);
    if (st != SFR_OK)
        return st;
    if (opt->count < 0) {
        size_t bytes = sfri_mul_size((size_t)count, sizeof(float));
        float *m = sfri_aligned_alloc(64, bytes ? bytes : 64);
        float *v = sfri_aligned_alloc(64, bytes ? bytes : 64);
        if (m == NULL || v == NULL) {
            sfri_free(m);
            sfri_free(v);
            return sfri_fail(SFR_ERR_NOMEM, func, "no memory for moment buffers of %lld floats",
                             (long long)count);
        }
        if (bytes) {
            memset(m, 0, bytes);
            memset(v, 0, bytes);
        }
        opt->m = m;
        opt->v = v;
        opt->count = count;
    }
    opt->steps++;
    struct sfri_adamw_scalars s;
    sfri_adamw_scalars(opt, opt->steps, &s);
    if (count > 0)
        sfri_adamw_update(values, grads, opt->m, opt->v, count, &s);
    return SFR_OK;
}

SFR_API sfr_status sfr_adamw_step(sfr_adamw *opt, sfr_net *net)
{
    static const char *const fn = "sfr_adamw_step";
    float *values = NULL, *grads = NULL;
    int64_t count = 0;
    sfr_status st = sfri_optim_buffers(opt, SFRI_MAGIC_ADAMW, net, fn, &values, &grads, &count);
    return st == SFR_OK ? sfri_adamw_apply(opt, values, grads, count, fn) : st;
}

SFR_API sfr_status sfr_adamw_set_lr(sfr_adamw *opt, double lr)
{
    static const char *const fn = "sfr_adamw_set_lr";
    sfr_status st = sfri_check_handle(opt, SFRI_MAGIC_ADAMW, fn, "opt");
    if (st == SFR_OK)
        st = sfri_check_hyper(lr, "lr", 1, fn);
    if (st == SFR_OK)
        st = check_decay(lr, opt->weight_decay, fn);
    if (st != SFR_OK)
        return st;
    opt->lr = lr;
    return SFR_OK;
}

SFR_API sfr_status sfr_adamw_steps(const sfr_adamw *opt, int64_t *steps)
{
    static const char *const fn = "sfr_adamw_steps";
    sfr_status st = sfri_check_handle(opt, SFRI_MAGIC_ADAMW, fn, "opt");
    if (st != SFR_OK)
        return st;
    if (steps == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "steps is NULL");
    *steps = opt->steps;
    return SFR_OK;
}

SFR_API void sfr_adamw_destroy(sfr_adamw *opt)
{
    if (opt == NULL || opt->magic != SFRI_MAGIC_ADAMW)
        return;
    sfri_free(opt->m);
    sfri_free(opt->v);
    opt->magic = SFRI_MAGIC_DEAD;
    sfri_free(opt);
}
