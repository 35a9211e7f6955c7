/* The public SGD helper: hyper-parameter checks, the momentum buffer, and
 * the step on a net's flat parameter buffer. */
#include <math.h>
#include <stdint.h>

#include "../common/common.h"
#include "../optim/optim.h"
#include "sfr/net.h"
#include "sgd.h"

sfr_status sfri_sgd_check_hypers(double lr, double momentum, double weight_decay, int nesterov,
                                 const char *func)
{
    sfr_status st = sfri_check_hyper(lr, "lr", 1, func);
    if (st == SFR_OK)
        st = sfri_check_hyper(momentum, "momentum", 0, func);
    if (st == SFR_OK)
        st = sfri_check_hyper(weight_decay, "weight_decay", 0, func);
    if (st != SFR_OK)
        return st;
    if (nesterov != 0 && nesterov != 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "nesterov is %d: it must be 0 or 1", nesterov);
    if (nesterov && (float)momentum == 0.0f)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "nesterov needs momentum > 0 (momentum is %g)",
                         momentum);
    return SFR_OK;
}

SFR_API sfr_status sfr_sgd_create(sfr_sgd **out, double lr, double momentum,
                                  double weight_decay, int nesterov)
{
    static const char *const fn = "sfr_sgd_create";
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    sfr_status st = sfri_sgd_check_hypers(lr, momentum, weight_decay, nesterov, fn);
    if (st != SFR_OK)
        return st;
    sfr_sgd *opt = sfri_calloc(1, sizeof *opt);
    if (opt == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    opt->magic = SFRI_MAGIC_SGD;
    opt->lr = (float)lr;
    opt->momentum = (float)momentum;
    opt->weight_decay = (float)weight_decay;
    opt->nesterov = nesterov;
    opt->count = -1;
    opt->buf = NULL;
    *out = opt;
    return SFR_OK;
}

sfr_status sfri_sgd_apply(sfr_sgd *opt, float *values, const float *grads, int64_t count,
                          const char *func)
{
    sfr_status st = sfri_optim_check(opt->count, values, grads, count, func);
    if (st != SFR_OK)
        return st;
    int first = opt->count < 0;
    if (first && opt->momentum != 0.0f) {
        opt->buf = sfri_aligned_alloc(64, sfri_mul_size((size_t)count, sizeof(float)));
        if (opt->buf == NULL)
            return sfri_fail(SFR_ERR_NOMEM, func, "no memory for a momentum buffer of %lld floats",
                             (long long)count);
    }
    opt->count = count;
    if (count > 0)
        sfri_sgd_update(values, grads, opt->buf, count, opt->lr, opt->momentum,
                        opt->weight_decay, opt->nesterov, first);
    return SFR_OK;
}

SFR_API sfr_status sfr_sgd_step(sfr_sgd *opt, sfr_net *net)
{
    static const char *const fn = "sfr_sgd_step";
    float *values = NULL, *grads = NULL;
    int64_t count = 0;
    sfr_status st = sfri_optim_buffers(opt, SFRI_MAGIC_SGD, net, fn, &values, &grads, &count);
    return st == SFR_OK ? sfri_sgd_apply(opt, values, grads, count, fn) : st;
}

SFR_API sfr_status sfr_sgd_set_lr(sfr_sgd *opt, double lr)
{
    static const char *const fn = "sfr_sgd_set_lr";
    sfr_status st = sfri_check_handle(opt, SFRI_MAGIC_SGD, fn, "opt");
    if (st == SFR_OK)
        st = sfri_check_hyper(lr, "lr", 1, fn);
    if (st != SFR_OK)
        return st;
    opt->lr = (float)lr;
    return SFR_OK;
}

SFR_API void sfr_sgd_destroy(sfr_sgd *opt)
{
    if (opt == NULL || opt->magic != SFRI_MAGIC_SGD)
        return;
    sfri_free(opt->buf);
    opt->magic = SFRI_MAGIC_DEAD;
    sfri_free(opt);
}
