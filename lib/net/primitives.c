/*
 * What every layer kind's compile builds its steps from: the plan's buffers
 * and memory objects, primitive descriptors, steps bound to their
 * memories, reorders, and a layer's layout and output buffers. Kept apart
 * from compile.c (which orders the whole compile) so that the layer kinds
 * (compile_ops.c, layer_*.c) and compile.c each depend on this file, not on
 * each other.
 */
#include <string.h>

#include "compile_impl.h"

#define ALIGN 64

void sfri_destroy_step(struct sfri_step *s)
{
    if (s->prim != NULL)
        dnnl_primitive_destroy(s->prim);
    memset(s, 0, sizeof *s);
}

/* Appends p to a growable array of pointers. */
static int push_ptr(void ***arr, int *n, int *cap, void *p)
{
    if (*n == *cap) {
        int new_cap = *cap ? 2 * *cap : 64;
        void **grown = sfri_malloc(sfri_mul_size((size_t)new_cap, sizeof *grown));
        if (grown == NULL)
            return 0;
        if (*n > 0)
            memcpy(grown, *arr, (size_t)*n * sizeof *grown);
        sfri_free(*arr);
        *arr = grown;
        *cap = new_cap;
    }
    (*arr)[(*n)++] = p;
    return 1;
}

void *sfri_net_buffer(sfr_net *net, size_t bytes, const char *fn)
{
    void *p = sfri_aligned_alloc(ALIGN, bytes == 0 ? ALIGN : bytes);
    if (p == NULL) {
        sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for a %zu-byte buffer", bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    if (!push_ptr(&net->bufs, &net->n_bufs, &net->cap_bufs, p)) {
        sfri_free(p);
        sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
        return NULL;
    }
    return p;
}

static sfr_status keep_mem(sfr_net *net, dnnl_memory_t m, const char *fn)
{
    void **arr = (void **)net->mems;
    if (!push_ptr(&arr, &net->n_mems, &net->cap_mems, m)) {
        dnnl_memory_destroy(m);
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    }
    net->mems = (dnnl_memory_t *)arr;
    return SFR_OK;
}

/* Creates a memory object over ptr (DNNL_MEMORY_NONE when NULL) that the net destroys. */
static sfr_status new_mem(sfr_net *net, const dnnl_memory_desc_t *md, void *ptr, dnnl_memory_t *m,
                          const char *fn)
{
    dnnl_status_t st = dnnl_memory_create(m, md, net->engine, ptr == NULL ? DNNL_MEMORY_NONE : ptr);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "memory creation");
    return keep_mem(net, *m, fn);
}

static void add_arg(struct sfri_step *s, int arg, dnnl_memory_t m)
{
    s->args[s->nargs].arg = arg;
    s->args[s->nargs].memory = m;
    s->nargs++;
}

sfr_status sfri_bind(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd, int arg,
                     void *ptr, size_t bytes, const char *fn)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (md == NULL || dnnl_memory_desc_get_size(md) != bytes)
        return sfri_fail(SFR_ERR_BACKEND, fn,
                         "oneDNN chose an unexpected layout for argument %d (%zu bytes, expected %zu)",
                         arg, md == NULL ? (size_t)0 : dnnl_memory_desc_get_size(md), bytes);
    if (ptr == NULL && bytes > net->accum_size) {
        net->accum_size = bytes;
        net->accum_layer = s->layer;
    }
    dnnl_memory_t m;
    sfr_status st = new_mem(net, md, ptr, &m, fn);
    if (st == SFR_OK)
        add_arg(s, arg, m);
    return st;
}

sfr_status sfri_make_bound_step(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                                int layer, int pass, const struct sfri_arg *args, int n,
                                const char *fn)
{
    sfr_status st = sfri_make_step(net, s, pd, layer, pass, fn);
    for (int i = 0; st == SFR_OK && i < n; i++)
        if (args[i].bytes > 0)
            st = sfri_bind(net, s, pd, args[i].arg, args[i].ptr, args[i].bytes, fn);
    return st;
}

/* A primitive descriptor with a user-managed scratchpad and, with post, an
 * element-wise function applied to its destination as a post-op. */
struct post_eltwise {
    dnnl_alg_kind_t alg;
    float alpha, beta;
};

static sfr_status make_pd(sfr_net *net, const void *op, const_dnnl_primitive_desc_t hint,
                          const struct post_eltwise *post, dnnl_primitive_desc_t *pd,
                          const char *what, const char *fn)
{
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t ops = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "attribute creation");
    st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && post != NULL) {
        st = dnnl_post_ops_create(&ops);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_eltwise(ops, 1.0f, post->alg, post->alpha, post->beta);
        if (st == dnnl_success)
            st = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(pd, op, attr, net->engine, hint);
    dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        *pd = NULL;
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, what);
}

sfr_status sfri_make_pd(sfr_net *net, const void *op, const_dnnl_primitive_desc_t hint,
                        dnnl_primitive_desc_t *pd, const char *what, const char *fn)
{
    return make_pd(net, op, hint, NULL, pd, what, fn);
}

sfr_status sfri_make_backward_step(sfr_net *net, struct sfri_step *s, const void *op,
                                   const_dnnl_primitive_desc_t hint, int layer,
                                   const struct sfri_arg *args, int n, const char *what,
                                   const char *fn)
{
    dnnl_primitive_desc_t pd = NULL;
    sfr_status st = sfri_make_pd(net, op, hint, &pd, what, fn);
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, s, pd, layer, SFRI_PASS_BWD_DATA, args, n, fn);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

sfr_status sfri_make_pd_relu(sfr_net *net, const void *op, dnnl_primitive_desc_t *pd,
                             const char *what, const char *fn)
{
    const struct post_eltwise relu = {dnnl_eltwise_relu, 0.f, 0.f};
    return make_pd(net, op, NULL, &relu, pd, what, fn);
}

sfr_status sfri_make_pd_eltwise(sfr_net *net, const void *op, dnnl_alg_kind_t alg, float alpha,
                                float beta, dnnl_primitive_desc_t *pd, const char *what,
                                const char *fn)
{
    const struct post_eltwise post = {alg, alpha, beta};
    return make_pd(net, op, NULL, &post, pd, what, fn);
}

/* Step s's scratchpad memory gets a buffer once every step is made and the
 * largest scratchpad is known. */
sfr_status sfri_make_step(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                          int layer, int pass, const char *fn)
{
    dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
    if (st != dnnl_success) {
        s->prim = NULL;
        return sfri_dnnl_fail(st, fn, "primitive creation");
    }
    s->layer = layer;
    s->pass = pass;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = md == NULL ? 0 : dnnl_memory_desc_get_size(md);
    if (size == 0)
        return SFR_OK;
    if (size > net->scratch_size) {
        net->scratch_size = size;
        net->scratch_layer = layer;
    }
    dnnl_memory_t m;
    sfr_status ss = new_mem(net, md, NULL, &m, fn);
    if (ss == SFR_OK)
        add_arg(s, DNNL_ARG_SCRATCHPAD, m);
    return ss;
}

/* Reorders keep oneDNN's own scratchpad (they rarely need one), so that a
 * tap bound after compile does not have to grow the shared one. */
sfr_status sfri_make_reorder(sfr_net *net, struct sfri_step *s, int layer,
                             const dnnl_memory_desc_t *src_md, void *src,
                             const dnnl_memory_desc_t *dst_md, void *dst, int accumulate,
                             dnnl_memory_t *src_mem, const char *fn)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_success;
    if (accumulate) {
        st = dnnl_primitive_attr_create(&attr);
        if (st == dnnl_success)
            st = dnnl_post_ops_create(&ops);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_sum(ops, 1.0f);
        if (st == dnnl_success)
            st = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (st == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(&pd, src_md, net->engine, dst_md, net->engine, attr);
    dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "reorder descriptor");
    st = dnnl_primitive_create(&s->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        s->prim = NULL;
        return sfri_dnnl_fail(st, fn, "reorder creation");
    }
    s->layer = layer;
    s->pass = SFRI_PASS_LAYOUT;
    dnnl_memory_t from, to;
    sfr_status ss = new_mem(net, src_md, src, &from, fn);
    if (ss == SFR_OK)
        ss = new_mem(net, dst_md, dst, &to, fn);
    if (ss != SFR_OK) {
        sfri_destroy_step(s); /* no half-made step to run or to make again over */
        return ss;
    }
    add_arg(s, DNNL_ARG_FROM, from);
    add_arg(s, DNNL_ARG_TO, to);
    if (src_mem != NULL)
        *src_mem = from;
    return SFR_OK;
}

sfr_status sfri_plain_md(const sfr_net *net, const struct sfri_layer *l, dnnl_memory_desc_t *md,
                         const char *fn)
{
    const dnnl_dims_t dims = {net->batch, l->c, l->h, l->w};
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_nchw);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, "memory descriptor");
}

sfr_status sfri_set_layout(sfr_net *net, struct sfri_layer *l, const dnnl_memory_desc_t *md,
                           const char *fn)
{
    dnnl_memory_desc_t plain;
    sfr_status st = sfri_plain_md(net, l, &plain, fn);
    if (st != SFR_OK)
        return st;
    l->md = *md;
    l->bytes = dnnl_memory_desc_get_size(md);
    l->plain_md = dnnl_memory_desc_equal(md, &plain);
    if (l->in_place) {
        const struct sfri_layer *src = net->layers[l->in[0]];
        if (!dnnl_memory_desc_equal(md, &src->md))
            return sfri_fail(SFR_ERR_BACKEND, fn, "oneDNN chose another layout for an in-place layer");
        l->out = src->out;
        l->diff = src->diff;
        return SFR_OK;
    }
    l->out = sfri_net_buffer(net, l->bytes, fn);
    if (l->out == NULL)
        return SFR_ERR_NOMEM;
    if (l->diff_from >= 0) {
        const struct sfri_layer *other = net->layers[l->diff_from];
        if (dnnl_memory_desc_equal(md, &other->md)) {
            l->diff = other->diff;
            return SFR_OK;
        }
        l->diff_from = -1;   /* another layout: the add copies between them */
    }
    if (l->kind != SFRI_LAYER_INPUT && (l->diff = sfri_net_buffer(net, l->bytes, fn)) == NULL)
        return SFR_ERR_NOMEM;
    return SFR_OK;
}
