/* sfr_net_forward and sfr_net_output. */
#include <math.h>
#include <string.h>

#include "../tap/tap.h"
#include "net_impl.h"

/* PyTorch's running averages; the variance enters unbiased (m / (m - 1),
 * m = N*H*W values per channel) while oneDNN normalised with the biased one. */
static void update_running_stats(sfr_net *net, const struct sfri_layer *l)
{
    float *run_mean = net->state + l->state_off, *run_var = run_mean + l->c;
    double m = (double)net->batch * l->h * l->w;
    float unbias = (float)(m / (m - 1.0));
    for (int ch = 0; ch < l->c; ch++) {
        run_mean[ch] = (1.0f - SFRI_BN_MOMENTUM) * run_mean[ch] + SFRI_BN_MOMENTUM * l->mean[ch];
        run_var[ch] = (1.0f - SFRI_BN_MOMENTUM) * run_var[ch] + SFRI_BN_MOMENTUM * l->var[ch] * unbias;
    }
}

/* A forward on the first n samples of input (whole: the compiled batch):
 * every check, then the plan for n (plan.c), then the steps. */
static sfr_status forward(sfr_net *net, const float *input, int whole, int64_t n, int training,
                          const char *fn)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (input == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "input is NULL");
    if (net->phase == SFRI_PHASE_BUILDING)
        return sfri_fail(SFR_ERR_STATE, fn, "the net is not compiled");
    if (whole)
        n = net->max_batch;
    if (n < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "batch %lld must be >= 1", (long long)n);
    if (n > net->max_batch)
        return sfri_fail(SFR_ERR_SHAPE, fn, "batch %lld is larger than the compiled batch %lld",
                         (long long)n, (long long)net->max_batch);
    struct sfri_layer *in = net->layers[0];
    int64_t n_in = n * in->c * in->h * in->w;
    for (int i = 0; training && i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        if (l->kind == SFRI_LAYER_BN && n * l->h * l->w < 2)
            return sfri_fail(SFR_ERR_SHAPE, fn,
                             "batch norm layer %d sees one value per channel: training needs more", i);
    }
    if (!sfri_all_finite(input, n_in))
        return sfri_fail(SFR_ERR_NONFINITE, fn, "the input holds a NaN or an infinity");
    if ((st = sfri_net_use_batch(net, n, fn)) != SFR_OK)
        return st;

    /* Until this forward completes, nothing may be back-propagated. */
    net->phase = SFRI_PHASE_COMPILED;
    if (training)
        net->dropout_forwards++; /* a new mask for every training forward */
    double t0 = sfri_prof_start(net);
    memcpy(in->out, input, (size_t)n_in * sizeof(float));
    sfri_prof_stop(net, 0, SFRI_PASS_LAYOUT, t0);
    /* Weights as the primitives want them, from the flat values of now;
     * the backward-data copies only when a backward may follow. */
    st = sfri_net_weight_reorders(net, 0, training, fn);
    if (st != SFR_OK)
        return st;
    for (int i = 1; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        st = sfri_net_run(net, &l->fwd_pre, fn);
        if (st == SFR_OK)
            st = sfri_net_run(net, training || !sfri_step_exists(&l->fwd_eval) ? &l->fwd : &l->fwd_eval,
                              fn);
        if (st == SFR_OK && training && l->kind == SFRI_LAYER_BN) {
            dnnl_status_t ds = dnnl_stream_wait(net->stream);
            if (ds != dnnl_success)
                return sfri_dnnl_fail(ds, fn, "stream wait");
            update_running_stats(net, l);
        }
        if (st == SFR_OK && !sfri_net_plain_deferred(net, i))
            st = sfri_net_run(net, &l->to_plain, fn);
        if (st != SFR_OK)
            return st;
    }
    dnnl_status_t ds = dnnl_stream_wait(net->stream);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "stream wait");
    for (int i = 0; i < net->n_layers; i++) {
        sfr_tap *tap = net->layers[i]->tap;
        if (tap == NULL)
            continue;
        tap->plain_fresh = !sfri_net_plain_deferred(net, i);
        if (!training)
            continue;
        /* A blocked gradient is overwritten by the first write after this. */
        tap->blocked_grad_live = 0;
        if (tap->blocked == NULL || tap->host_grad)
            memset(tap->grad, 0, (size_t)sfri_tap_numel(tap) * sizeof(float));
    }
    sfri_prof_count(net, 0);
    net->phase = training ? SFRI_PHASE_TRAINED : SFRI_PHASE_EVALUATED;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_forward(sfr_net *net, const float *input, int training)
{
    return forward(net, input, 1, 0, training, "sfr_net_forward");
}

SFR_API sfr_status sfr_net_forward_batch(sfr_net *net, const float *input, int64_t n, int training)
{
    return forward(net, input, 0, n, training, "sfr_net_forward_batch");
}

SFR_API sfr_status sfr_net_output(sfr_net *net, const float **logits, int64_t dims[2])
{
    static const char *const fn = "sfr_net_output";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (logits == NULL || dims == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL", logits == NULL ? "logits" : "dims");
    if (net->phase != SFRI_PHASE_TRAINED && net->phase != SFRI_PHASE_EVALUATED)
        return sfri_fail(SFR_ERR_STATE, fn, "no forward since the net was compiled");
    const struct sfri_layer *l = net->layers[net->n_layers - 1];
    *logits = l->plain;
    dims[0] = net->batch;
    dims[1] = (int64_t)l->c * l->h * l->w;
    return SFR_OK;
}
