/*
 * sfr_net_compile: every buffer, memory object and oneDNN primitive the
 * steps use, created once for one batch size, so that forward and backward
 * allocate nothing.
 *
 * Order of work: decide for every input of every layer whether backward
 * writes or adds its gradient, decide the fusions (net_impl.h), then create
 * the layers' primitives in id order: each layer's layout is what its
 * primitive chose given its inputs' layouts, which are known by then. The
 * scratchpad and the accumulation buffer are shared by every step (steps run
 * one at a time) and bound once their largest size is known; last come the
 * taps and the plain copy of the logits.
 */
#include <string.h>

#include "../tap/tap.h"
#include "compile_impl.h"

#define ALIGN 64
/* Largest activation tensor, in elements, a compile accepts. */
#define MAX_TENSOR ((int64_t)1 << 40)

/* Every step of a layer, for release and for binding shared buffers. */
#define LAYER_STEPS 15
static void layer_steps(struct sfri_layer *l, struct sfri_step *steps[LAYER_STEPS])
{
    struct sfri_step *all[LAYER_STEPS] = {&l->fwd_pre,  &l->fwd,        &l->fwd_eval, &l->bwd_pre,
                                          &l->bwd,      &l->bwd_w,      &l->bwd1_pre, &l->bwd1,
                                          &l->w_in,     &l->w_in_bwd,   &l->dw_out,   &l->to_plain,
                                          &l->tap_in,   &l->pass_on[0], &l->pass_on[1]};
    memcpy(steps, all, sizeof all);
}

void sfri_net_release_compiled(sfr_net *net)
{
    sfri_net_release_parked(net);
    sfri_net_release_live(net);
    net->max_batch = 0;
}

void sfri_net_release_live(sfr_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        struct sfri_step *steps[LAYER_STEPS];
        layer_steps(l, steps);
        for (int k = 0; k < LAYER_STEPS; k++)
            sfri_destroy_step(steps[k]);
        l->out = l->diff = l->plain = l->mean = l->var = NULL;
        l->workspace = l->bf16_out = NULL;
        l->bytes = 0;
        l->plain_md = 0;
        l->consumers = 0;
        l->last_consumer = -1;
        l->fuse_relu = l->in_place = l->hidden = 0;
        l->diff_from = -1;
        l->grad_mode[0] = l->grad_mode[1] = SFRI_GRAD_NONE;
        if (l->tap != NULL) {
            if (!net->borrowed_taps)
                sfri_free(l->tap->grad);
            l->tap->grad = NULL;
            l->tap->data = NULL;
            l->tap->blocked = NULL;
            l->tap->blocked_grad = NULL;
            memset(l->tap->dims, 0, sizeof l->tap->dims);
        }
    }
    sfri_destroy_step(&net->logits_in);
    net->logits_mem = NULL;
    for (int i = 0; i < net->n_mems; i++)
        dnnl_memory_destroy(net->mems[i]);
    sfri_free(net->mems);
    net->mems = NULL;
    net->n_mems = net->cap_mems = 0;
    for (int i = 0; i < net->n_bufs; i++)
        sfri_free(net->bufs[i]);
    sfri_free(net->bufs);
    net->bufs = NULL;
    net->n_bufs = net->cap_bufs = 0;
    net->accum = NULL;
    net->accum_size = 0;
    net->scratch = NULL;
    net->scratch_size = 0;
    net->accum_layer = net->scratch_layer = -1;
    net->batch = 0;
    net->borrowed_taps = 0;
    net->phase = SFRI_PHASE_BUILDING;
}

/* Gives l a plain copy of its output, made by a reorder after it runs. */
static sfr_status ensure_plain(sfr_net *net, struct sfri_layer *l, int id, const char *fn)
{
    if (l->plain != NULL)
        return SFR_OK;
    if (l->plain_md) {
        l->plain = l->out;
        return SFR_OK;
    }
    dnnl_memory_desc_t plain;
    sfr_status st = sfri_plain_md(net, l, &plain, fn);
    if (st != SFR_OK)
        return st;
    float *buf = sfri_net_buffer(net, dnnl_memory_desc_get_size(&plain), fn);
    if (buf == NULL)
        return SFR_ERR_NOMEM;
    st = sfri_make_reorder(net, &l->to_plain, id, &l->md, l->out, &plain, buf, 0, NULL, fn);
    if (st == SFR_OK)
        l->plain = buf;
    return st;
}

/*
 * The channel block with which the regularizer can read l's output and
 * write its gradient in the layer's own layout (see the blocked view in
 * tap/tap.h): 16 for nChw16c, 8 for nChw8c, exactly, with C a multiple of
 * the block (no padding) and a gradient to add into; 0 otherwise.
 */
static int blocked_view(sfr_net *net, const struct sfri_layer *l)
{
    static const struct {
        int block;
        dnnl_format_tag_t tag;
    } layouts[] = {{16, dnnl_nChw16c}, {8, dnnl_nChw8c}};
    if (l->plain_md || l->diff == NULL)
        return 0;
    const dnnl_dims_t dims = {net->batch, l->c, l->h, l->w};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        dnnl_memory_desc_t md;
        if (l->c % layouts[i].block == 0 &&
            dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, layouts[i].tag) == dnnl_success &&
            dnnl_memory_desc_equal(&md, &l->md))
            return layouts[i].block;
    }
    return 0;
}

/* Runs l's plain copy now (the forward that made out is over). */
static sfr_status copy_to_plain(sfr_net *net, struct sfri_layer *l, const char *fn)
{
    sfr_status st = sfri_net_run(net, &l->to_plain, fn);
    dnnl_status_t ds = st == SFR_OK ? dnnl_stream_wait(net->stream) : dnnl_success;
    return ds == dnnl_success ? st : sfri_dnnl_fail(ds, fn, "stream wait");
}

/* The parts of binding a tap that can fail; *grad and *blocked_grad receive
 * the buffers made (the plain gradient the caller's to free). */
static sfr_status make_tap_buffers(sfr_net *net, struct sfri_layer *l, int id, float **grad,
                                   float **blocked_grad, int *block, const char *func)
{
    dnnl_memory_desc_t plain;
    sfr_status st = ensure_plain(net, l, id, func);
    if (st == SFR_OK)
        st = sfri_plain_md(net, l, &plain, func);
    if (st != SFR_OK)
        return st;
    size_t bytes = dnnl_memory_desc_get_size(&plain);
    if ((*grad = sfri_aligned_alloc(ALIGN, bytes)) == NULL)
        return sfri_fail(SFR_ERR_NOMEM, func, "out of memory for the tap of layer %d", id);
    memset(*grad, 0, bytes);
    /* The input layer has no gradient to add into. */
    if (!l->plain_md && l->diff != NULL &&
        (st = sfri_make_reorder(net, &l->tap_in, id, &plain, *grad, &l->md, l->diff, 1, NULL,
                                func)) != SFR_OK)
        return st;
    *block = blocked_view(net, l);
    if (*block != 0 && (*blocked_grad = sfri_net_buffer(net, l->bytes, func)) == NULL)
        return SFR_ERR_NOMEM;
    /* Asked for after a forward: the layer's buffer still holds that
     * forward's output, which the tap shows from now on. */
    return sfri_net_has_output(net) ? copy_to_plain(net, l, func) : SFR_OK;
}

sfr_status sfri_net_bind_tap(sfr_net *net, sfr_tap *tap, const char *func)
{
    struct sfri_layer *l = net->layers[tap->layer];
    int had_plain = l->plain != NULL;
    float *grad = NULL, *blocked_grad = NULL;
    int block = 0;
    sfr_status st = make_tap_buffers(net, l, tap->layer, &grad, &blocked_grad, &block, func);
    if (st != SFR_OK) {
        /* Undone, so that the call can be repeated (a buffer of the net's
         * list stays there until the next compile). */
        sfri_free(grad);
        sfri_destroy_step(&l->tap_in);
        if (!had_plain) {
            sfri_destroy_step(&l->to_plain);
            l->plain = NULL;
        }
        return st;
    }
    tap->dims[0] = net->batch;
    tap->dims[1] = l->c;
    tap->dims[2] = l->h;
    tap->dims[3] = l->w;
    tap->data = l->plain;
    tap->grad = grad;
    tap->block = block;
    tap->blocked = block != 0 ? l->out : NULL;
    tap->blocked_grad = blocked_grad;
    tap->blocked_grad_live = 0;
    tap->plain_fresh = sfri_net_has_output(net);
    return SFR_OK;
}

/*
 * Decides, for every input of every layer, whether backward writes or adds
 * its gradient: backward visits layers from the last to the first, so the
 * highest-numbered consumer of a layer is the first to reach it and writes.
 */
static void plan_gradients(sfr_net *net)
{
    for (int i = net->n_layers - 1; i >= 0; i--) {
        struct sfri_layer *l = net->layers[i];
        for (int s = 0; s < 2; s++) {
            if (l->in[s] < 0)
                continue;
            struct sfri_layer *src = net->layers[l->in[s]];
            if (src->kind == SFRI_LAYER_INPUT)
                l->grad_mode[s] = SFRI_GRAD_NONE;
            else
                l->grad_mode[s] = src->consumers == 0 ? SFRI_GRAD_WRITE : SFRI_GRAD_ADD;
            if (src->consumers == 0)
                src->last_consumer = i;
            src->consumers++;
        }
    }
}

/*
 * A layer may overwrite its input 0 when nobody else reads it: one
 * consumer, no tap, not the net's input (the host's copy) and not the
 * input's own backward (no layer kind here needs its own output there,
 * ReLU excepted, whose output a ReLU leaves unchanged).
 */
static int may_overwrite_input(const sfr_net *net, const struct sfri_layer *l)
{
    const struct sfri_layer *src = net->layers[l->in[0]];
    return src->kind != SFRI_LAYER_INPUT && src->consumers == 1 && src->tap == NULL &&
           l->in[1] != l->in[0];
}

static void plan_fusions(sfr_net *net)
{
    for (int i = 1; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        struct sfri_layer *src = net->layers[l->in[0]];
        if (l->kind == SFRI_LAYER_RELU && (src->kind == SFRI_LAYER_BN || src->kind == SFRI_LAYER_ADD) &&
            may_overwrite_input(net, l))
            src->fuse_relu = 1;
        if ((l->kind == SFRI_LAYER_RELU || l->kind == SFRI_LAYER_ADD) && may_overwrite_input(net, l)) {
            l->in_place = 1;
            src->hidden = 1;
        }
    }
}

/* Whether every consumer of layer src other than layer except is below layer limit. */
static int consumers_below(const sfr_net *net, int src, int except, int limit)
{
    for (int j = limit; j < net->n_layers; j++) {
        const struct sfri_layer *l = net->layers[j];
        if (j != except && (l->in[0] == src || l->in[1] == src))
            return 0;
    }
    return 1;
}

/*
 * A residual add that overwrites its input 0 passes its gradient to that
 * input for free, and copies it to input 1 when it is input 1's first
 * gradient (the add is its highest consumer). The copy goes when input 1's
 * gradient buffer is the add's own (which is input 0's): the later-compiled
 * of the two inputs takes the other's diff buffer. That buffer must then
 * hold the add's gradient until input 0's backward has read it, so every
 * write to input 1's gradient must come later (backward runs from the last
 * layer down):
 *   - input 1 below input 0: its other consumers are below input 0 too;
 *   - input 1 above input 0: the add is its only consumer and it is not in
 *     place (its own backward would write the buffer first);
 * and neither input has a tap (a tap's gradient is added to its layer's
 * buffer at that layer's step), nor is input 0 in place or input 1 the
 * net's input. A tap asked for later recompiles (sfr_net_tap).
 */
static void plan_diff_sharing(sfr_net *net)
{
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i]->diff_from = -1;
    for (int i = 1; i < net->n_layers; i++) {
        const struct sfri_layer *add = net->layers[i];
        if (add->kind != SFRI_LAYER_ADD || !add->in_place || add->grad_mode[1] != SFRI_GRAD_WRITE)
            continue;
        int i0 = add->in[0], i1 = add->in[1];
        struct sfri_layer *in0 = net->layers[i0], *in1 = net->layers[i1];
        if (i0 == i1 || in0->in_place || in0->tap != NULL || in1->tap != NULL ||
            in1->kind == SFRI_LAYER_INPUT || in0->diff_from >= 0 || in1->diff_from >= 0)
            continue;
        if (i1 < i0 && consumers_below(net, i1, i, i0))
            in0->diff_from = i1;
        else if (i1 > i0 && in1->consumers == 1 && !in1->in_place)
            in1->diff_from = i0;
    }
}

int sfri_net_shares_diff(const sfr_net *net, int layer)
{
    for (int i = 0; i < net->n_layers; i++)
        if (i == layer ? net->layers[i]->diff_from >= 0 : net->layers[i]->diff_from == layer)
            return 1;
    return 0;
}

/* Gives the scratchpad and accumulation memories their shared buffers; a
 * failure is the layer's that asked for the largest one. */
static sfr_status bind_shared(sfr_net *net, const char *fn)
{
    if (net->scratch_size > 0 && (net->scratch = sfri_net_buffer(net, net->scratch_size, fn)) == NULL)
        return sfri_net_blame_layer(net, net->scratch_layer, SFR_ERR_NOMEM, fn);
    if (net->accum_size > 0 && (net->accum = sfri_net_buffer(net, net->accum_size, fn)) == NULL)
        return sfri_net_blame_layer(net, net->accum_layer, SFR_ERR_NOMEM, fn);
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_step *steps[LAYER_STEPS];
        layer_steps(net->layers[i], steps);
        for (int k = 0; k < LAYER_STEPS; k++) {
            for (int a = 0; a < steps[k]->nargs; a++) {
                void *handle = NULL;
                dnnl_memory_t m = steps[k]->args[a].memory;
                dnnl_status_t st = dnnl_memory_get_data_handle(m, &handle);
                if (st == dnnl_success && handle == NULL)
                    st = dnnl_memory_set_data_handle(m, steps[k]->args[a].arg == DNNL_ARG_SCRATCHPAD
                                                            ? net->scratch
                                                            : (void *)net->accum);
                if (st != dnnl_success)
                    return sfri_net_blame_layer(
                        net, i, sfri_dnnl_fail(st, fn, "shared buffer binding"), fn);
            }
        }
    }
    return SFR_OK;
}

/* The logits the host reads and the gradient it gives are plain. */
static sfr_status bind_output(sfr_net *net, const char *fn)
{
    int id = net->n_layers - 1;
    struct sfri_layer *l = net->layers[id];
    sfr_status st = ensure_plain(net, l, id, fn);
    if (st != SFR_OK || l->plain_md || l->diff == NULL)
        return st;
    dnnl_memory_desc_t plain;
    st = sfri_plain_md(net, l, &plain, fn);
    if (st == SFR_OK)
        st = sfri_make_reorder(net, &net->logits_in, id, &plain, NULL, &l->md, l->diff, 0,
                               &net->logits_mem, fn);
    return st;
}

sfr_status sfri_net_compile_plan(sfr_net *net, int64_t batch, const char *fn)
{
    net->batch = batch;
    plan_gradients(net);
    plan_fusions(net);
    plan_diff_sharing(net);
    sfr_status st = sfri_net_make_streams(net, fn);
    for (int i = 0; st == SFR_OK && i < net->n_layers; i++)
        st = sfri_net_blame_layer(net, i, sfri_compile_layer(net, i, fn), fn);
    if (st == SFR_OK)
        st = bind_shared(net, fn);
    if (st == SFR_OK)
        st = sfri_net_blame_layer(net, net->n_layers - 1, bind_output(net, fn), fn);
    for (int i = 0; st == SFR_OK && i < net->n_layers; i++) {
        if (net->layers[i]->tap != NULL)
            st = sfri_net_blame_layer(net, i, sfri_net_bind_tap(net, net->layers[i]->tap, fn), fn);
    }
    if (st != SFR_OK) {
        sfri_net_release_live(net);
        return st;
    }
    net->phase = SFRI_PHASE_COMPILED;
    return SFR_OK;
}

/* Everything of a compile for batch; on failure the net is left uncompiled
 * and the message names the layer that failed. */
static sfr_status compile_all(sfr_net *net, int64_t batch, const char *fn)
{
    sfri_net_release_compiled(net);
    sfri_prof_setup(net);
    sfr_status st = sfri_net_compile_plan(net, batch, fn);
    if (st == SFR_OK)
        net->max_batch = batch;
    return st;
}

sfr_status sfri_net_recompile(sfr_net *net, int64_t batch, const char *func)
{
    return compile_all(net, batch, func);
}

SFR_API sfr_status sfr_net_compile(sfr_net *net, int64_t batch)
{
    static const char *const fn = "sfr_net_compile";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (batch < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "batch %lld must be >= 1", (long long)batch);
    if (net->n_layers == 0)
        return sfri_fail(SFR_ERR_STATE, fn, "the net has no layers");
    for (int i = 0; i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        if (batch > MAX_TENSOR / ((int64_t)l->c * l->h * l->w))
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "batch %lld is too large for layer %d (%s)",
                             (long long)batch, i, sfri_layer_kind_name(l->kind));
    }
    net->compiled_precision = net->precision;
    st = compile_all(net, batch, fn);
    if (st != SFR_OK)
        return st;
    if (net->n_params > 0)
        memset(net->grads, 0, (size_t)net->n_params * sizeof *net->grads);
    return SFR_OK;
}
