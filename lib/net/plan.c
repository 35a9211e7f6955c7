/*
 * Partial batches: forward and backward on fewer samples than the net was
 * compiled for (the last batch of an epoch, an evaluation set that the batch
 * does not divide), without the host compiling again or padding.
 *
 * A oneDNN 2.6 primitive is made for one batch size, so a smaller batch
 * needs primitives of its own: a second compile of the same layers (a plan),
 * made the first time that size is asked for and parked beside the full one.
 * Switching swaps the compiled parts of the net, of every layer and of every
 * tap (net_impl.h marks where they start) with a parked copy: it allocates
 * nothing, so alternating between the full batch and a few short ones (a
 * short last training batch, a short evaluation batch) costs one compile
 * each in all. When every place is taken, a new size drops the oldest
 * partial plan.
 *
 * What the host holds must not move: the logits, every tap's data and every
 * tap's gradient are the full plan's buffers in both plans (plain NCHW, so
 * the first n samples of a batch-N buffer are a batch-n one). The partial
 * plan is compiled with buffers of its own and its memory objects are then
 * pointed at the full plan's; its own plain copies stay unused until it is
 * released.
 */
#include <stddef.h>
#include <string.h>

#include "../tap/tap.h"
#include "net_impl.h"

#define LAYER_PLAN_OFF offsetof(struct sfri_layer, md)
#define LAYER_PLAN_SIZE (sizeof(struct sfri_layer) - LAYER_PLAN_OFF)
#define NET_PLAN_OFF offsetof(struct sfr_net, phase)
#define NET_PLAN_SIZE (sizeof(struct sfr_net) - NET_PLAN_OFF)

/* What a tap shows of one plan. */
struct tap_view {
    int64_t dims[4];
    const float *data;
    float *grad;
    const float *blocked;
    int block;
    float *blocked_grad;
    int blocked_grad_live, plain_fresh;
};

struct sfri_plan_store {
    int64_t batch;          /* of the plan parked here */
    int n_layers;
    unsigned char net[NET_PLAN_SIZE];
    unsigned char *layers;  /* (n_layers, LAYER_PLAN_SIZE) */
    struct tap_view *taps;  /* (n_layers): where a layer has a tap */
};

static void swap_bytes(void *a, void *b, size_t n)
{
    unsigned char *x = a, *y = b, tmp[256];
    while (n > 0) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        memcpy(tmp, x, k);
        memcpy(x, y, k);
        memcpy(y, tmp, k);
        x += k;
        y += k;
        n -= k;
    }
}

static void swap_tap(sfr_tap *t, struct tap_view *v)
{
    struct tap_view live = {{t->dims[0], t->dims[1], t->dims[2], t->dims[3]},
                            t->data,         t->grad,
                            t->blocked,      t->block,
                            t->blocked_grad, t->blocked_grad_live,
                            t->plain_fresh};
    memcpy(t->dims, v->dims, sizeof t->dims);
    t->data = v->data;
    t->grad = v->grad;
    t->blocked = v->blocked;
    t->block = v->block;
    t->blocked_grad = v->blocked_grad;
    t->blocked_grad_live = v->blocked_grad_live;
    t->plain_fresh = v->plain_fresh;
    *v = live;
}

/* The live plan goes to store s and the plan parked there comes back. */
static void swap_plans(sfr_net *net, struct sfri_plan_store *s)
{
    int64_t live_batch = net->batch;
    swap_bytes((unsigned char *)net + NET_PLAN_OFF, s->net, NET_PLAN_SIZE);
    for (int i = 0; i < s->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        swap_bytes((unsigned char *)l + LAYER_PLAN_OFF, s->layers + (size_t)i * LAYER_PLAN_SIZE,
                   LAYER_PLAN_SIZE);
        if (l->tap != NULL)
            swap_tap(l->tap, &s->taps[i]);
    }
    s->batch = live_batch;
}

static void free_store(struct sfri_plan_store *s)
{
    if (s == NULL)
        return;
    sfri_free(s->layers);
    sfri_free(s->taps);
    sfri_free(s);
}

/* A zeroed store for n_layers layers; swapped in, sfri_net_release_live
 * turns its zeros into an empty plan (freeing nothing, all being NULL). */
static struct sfri_plan_store *new_store(const sfr_net *net)
{
    struct sfri_plan_store *s = sfri_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->n_layers = net->n_layers;
    s->layers = sfri_calloc((size_t)net->n_layers, LAYER_PLAN_SIZE);
    s->taps = sfri_calloc((size_t)net->n_layers, sizeof *s->taps);
    if (s->layers == NULL || s->taps == NULL) {
        free_store(s);
        return NULL;
    }
    return s;
}

/* The parked plan for batch, or -1. */
static int find_parked(const sfr_net *net, int64_t batch)
{
    for (int i = 0; i < net->n_parked; i++)
        if (net->parked[i]->batch == batch && net->parked[i]->n_layers == net->n_layers)
            return i;
    return -1;
}

/* Releases parked plan i and closes the gap in the list. */
static void release_parked_at(sfr_net *net, int i)
{
    struct sfri_plan_store *s = net->parked[i];
    swap_plans(net, s);
    sfri_net_release_live(net);
    swap_plans(net, s);
    free_store(s);
    for (int k = i + 1; k < net->n_parked; k++)
        net->parked[k - 1] = net->parked[k];
    net->parked[--net->n_parked] = NULL;
}

void sfri_net_release_parked(sfr_net *net)
{
    while (net->n_parked > 0)
        release_parked_at(net, net->n_parked - 1);
}

/* Makes the full plan the live one (it is live or parked). */
static void make_full_live(sfr_net *net)
{
    int i = net->batch == net->max_batch ? -1 : find_parked(net, net->max_batch);
    if (i < 0)
        return;
    swap_plans(net, net->parked[i]);
    /* The last forward was a partial plan's: the full plan's buffers hold
     * an older one, which nobody may read or back-propagate. */
    if (sfri_net_has_output(net))
        net->phase = SFRI_PHASE_COMPILED;
}

void sfri_net_drop_partial(sfr_net *net)
{
    make_full_live(net);
    sfri_net_release_parked(net);
}

/* Points every memory object of the live plan over from to to. */
static sfr_status repoint(sfr_net *net, const void *from, void *to, const char *fn)
{
    for (int i = 0; i < net->n_mems; i++) {
        void *handle = NULL;
        dnnl_status_t st = dnnl_memory_get_data_handle(net->mems[i], &handle);
        if (st == dnnl_success && handle == from)
            st = dnnl_memory_set_data_handle(net->mems[i], to);
        if (st != dnnl_success)
            return sfri_dnnl_fail(st, fn, "buffer sharing between batch sizes");
    }
    return SFR_OK;
}

/* Layer i of the plan parked in full, read into a struct of its own. */
static void parked_layer(const struct sfri_plan_store *full, int i, struct sfri_layer *out)
{
    memcpy((unsigned char *)out + LAYER_PLAN_OFF, full->layers + (size_t)i * LAYER_PLAN_SIZE,
           LAYER_PLAN_SIZE);
}

/* The live (partial) plan's logits, tap data and tap gradients become the
 * buffers of the full plan, parked in full. Memory objects first (the only part that can
 * fail, after which the partial plan still owns all it made), then the
 * pointers, freeing the partial plan's own tap gradients. */
static sfr_status share_host_buffers(sfr_net *net, const struct sfri_plan_store *full_plan,
                                     const char *fn)
{
    sfr_status st = SFR_OK;
    for (int i = 0; st == SFR_OK && i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        struct sfri_layer full;
        parked_layer(full_plan, i, &full);
        if (l->plain != NULL && full.plain != NULL)
            st = repoint(net, l->plain, full.plain, fn);
        if (st == SFR_OK && l->tap != NULL && l->tap->grad != NULL)
            st = repoint(net, l->tap->grad, full_plan->taps[i].grad, fn);
    }
    if (st != SFR_OK)
        return st;
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        struct sfri_layer full;
        parked_layer(full_plan, i, &full);
        if (l->plain != NULL && full.plain != NULL) {
            if (l->out == l->plain)
                l->out = full.plain;
            l->plain = full.plain;
        }
        if (l->tap != NULL) {
            sfri_free(l->tap->grad);
            l->tap->grad = full_plan->taps[i].grad;
            l->tap->data = l->plain;
        }
    }
    net->borrowed_taps = 1;
    return SFR_OK;
}

/* Compiles the plan for batch n with the full plan live (which is then
 * parked) and a free place; on failure the full plan is live again. */
static sfr_status build_partial(sfr_net *net, int64_t n, const char *fn)
{
    struct sfri_plan_store *full = new_store(net);
    if (full == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    net->parked[net->n_parked++] = full;
    swap_plans(net, full);   /* the full plan parked, zeros live */
    sfri_net_release_live(net);
    sfr_status st = sfri_net_compile_plan(net, n, fn);
    if (st == SFR_OK && (st = share_host_buffers(net, full, fn)) != SFR_OK)
        sfri_net_release_live(net);
    if (st != SFR_OK) {
        swap_plans(net, full);
        free_store(full);
        net->parked[--net->n_parked] = NULL;
    }
    return st;
}

sfr_status sfri_net_use_batch(sfr_net *net, int64_t n, const char *func)
{
    if (n == net->batch)
        return SFR_OK;
    int i = find_parked(net, n);
    if (i >= 0) {
        swap_plans(net, net->parked[i]);
        return SFR_OK;
    }
    make_full_live(net);
    if (n == net->batch)
        return SFR_OK;
    if (net->n_parked == SFRI_PARKED_PLANS)
        release_parked_at(net, 0);   /* the oldest place: a partial plan, the full one is live */
    return build_partial(net, n, func);
}
