/*
 * bench_bf16_chain: what bf16 activations between layers could give
 * fmnist-resnet, measured on oneDNN itself (issue #14). libsfr's bf16 mode
 * converts each convolution's input and output gradient to bf16 and keeps
 * every tensor between layers in f32; the design that would remove those
 * copies keeps the activations and their gradients in bf16 end to end, with
 * batch norm and ReLU in bf16. This program times, for every convolution
 * of fmnist-resnet at batch 128, the passes such a net runs on oneDNN's
 * kernels, once with every tensor in f32 and once with activations,
 * weights and gradients in bf16 (weight gradients f32):
 *
 *   convolution forward, backward data, backward weights
 *   batch norm forward (training, ReLU fused) and backward
 *
 * Residual adds, pooling, the linear layer, the regularizer and the
 * optimizer are left out (about 2 ms of the 40 ms f32 step, the same in
 * both). The stem (one input channel) stays f32 in both, as in libsfr.
 * Each primitive runs on its own buffers in the layout oneDNN picks, so the
 * sums are a floor: a net adds its layout copies and cache misses.
 *
 * Then it sweeps the weight gradients of stride-2 convolutions over batch,
 * width and channels, f32 against bf16, beside the choice of the rule by
 * which libsfr's bf16 mode picks one per layer (lib/net/bf16_rule.h).
 *
 *   bench_bf16_chain [repetitions]      (default 30; median of each)
 */
#define BENCH_NAME "bench_bf16_chain"
#include <dnnl.h>
#include <stdint.h>

#include "bench_util.h"
#include "net/bf16_rule.h"

#define BATCH 128
#define BN_EPS 1e-5f

static dnnl_engine_t engine;
static dnnl_stream_t stream;

#define DN(call)                                                                          \
    do {                                                                                  \
        dnnl_status_t s_ = (call);                                                        \
        if (s_ != dnnl_success) {                                                         \
            fprintf(stderr, "bench_bf16_chain: %s: oneDNN status %d\n", #call, (int)s_); \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* A buffer for md, filled with small values (bf16 or f32 bit patterns of about 0.01-1). */
static dnnl_memory_t memory(const dnnl_memory_desc_t *md)
{
    dnnl_memory_t m;
    DN(dnnl_memory_create(&m, md, engine, DNNL_MEMORY_ALLOCATE));
    void *p;
    DN(dnnl_memory_get_data_handle(m, &p));
    size_t bytes = dnnl_memory_desc_get_size(md);
    if (md->data_type == dnnl_bf16) {
        uint16_t *h = p;
        for (size_t i = 0; i < bytes / 2; i++)
            h[i] = (uint16_t)(0x3C00 + (i * 37) % 0x300);   /* about 0.008 to 0.9 */
    } else {
        float *f = p;
        for (size_t i = 0; i < bytes / 4; i++)
            f[i] = 0.01f + (float)((i * 37) % 97) / 100.0f;
    }
    return m;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static const dnnl_memory_desc_t *arg_md(const_dnnl_primitive_desc_t pd, int arg)
{
    return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

/* Median milliseconds of reps runs of prim with args (after 3 warm-up runs). */
static double time_prim(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args, int reps)
{
    double *t = xalloc((size_t)reps * sizeof *t);
    for (int r = -3; r < reps; r++) {
        double t0 = clock_ms(CLOCK_MONOTONIC);
        DN(dnnl_primitive_execute(prim, stream, nargs, args));
        DN(dnnl_stream_wait(stream));
        if (r >= 0)
            t[r] = clock_ms(CLOCK_MONOTONIC) - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double m = t[reps / 2];
    free(t);
    return m;
}

static double run(const_dnnl_primitive_desc_t pd, int nargs, dnnl_exec_arg_t *args, int reps)
{
    dnnl_primitive_t prim;
    DN(dnnl_primitive_create(&prim, pd));
    double ms = time_prim(prim, nargs, args, reps);
    dnnl_primitive_destroy(prim);
    return ms;
}

struct conv { int n, ic, oc, h, w, k, stride; };

/* A convolution's forward, backward-data (unless NULL) and backward-weights
 * primitive descriptors, in type dt (weight gradients f32), the backward
 * ones hinted by the forward one as libsfr does. */
static void conv_pds(const struct conv *c, dnnl_data_type_t dt, dnnl_primitive_desc_t *fpd,
                     dnnl_primitive_desc_t *bdpd, dnnl_primitive_desc_t *bwpd)
{
    const int pad = c->k / 2, oh = (c->h + 2 * pad - c->k) / c->stride + 1,
              ow = (c->w + 2 * pad - c->k) / c->stride + 1;
    dnnl_dims_t src_d = {c->n, c->ic, c->h, c->w}, wei_d = {c->oc, c->ic, c->k, c->k},
                dst_d = {c->n, c->oc, oh, ow}, strides = {c->stride, c->stride},
                pads = {pad, pad};
    dnnl_memory_desc_t src, wei, dst, dwei;
    DN(dnnl_memory_desc_init_by_tag(&src, 4, src_d, dt, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&wei, 4, wei_d, dt, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dst, 4, dst_d, dt, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&dwei, 4, wei_d, dnnl_f32, dnnl_format_tag_any));
    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                          &src, &wei, NULL, &dst, strides, pads, pads));
    DN(dnnl_primitive_desc_create(fpd, &fd, NULL, engine, NULL));
    const dnnl_memory_desc_t *dst_md = query(*fpd, dnnl_query_dst_md);
    if (bdpd != NULL) {
        DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src, &wei,
                                                    dst_md, strides, pads, pads));
        DN(dnnl_primitive_desc_create(bdpd, &bdd, NULL, engine, *fpd));
    }
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
                                                   query(*fpd, dnnl_query_src_md), &dwei, NULL,
                                                   dst_md, strides, pads, pads));
    DN(dnnl_primitive_desc_create(bwpd, &bwd, NULL, engine, *fpd));
}

/* Median milliseconds of a weight gradient's pass alone. */
static double time_weight_grad(const struct conv *c, dnnl_data_type_t dt, int reps)
{
    dnnl_primitive_desc_t fpd, bwpd;
    conv_pds(c, dt, &fpd, NULL, &bwpd);
    dnnl_memory_t m_src = memory(query(fpd, dnnl_query_src_md));
    dnnl_memory_t m_ddst = memory(query(fpd, dnnl_query_dst_md));
    dnnl_memory_t m_dwei = memory(query(bwpd, dnnl_query_diff_weights_md));
    dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, m_src}, {DNNL_ARG_DIFF_DST, m_ddst},
                            {DNNL_ARG_DIFF_WEIGHTS, m_dwei}};
    double ms = run(bwpd, 3, wa, reps);
    dnnl_memory_destroy(m_src);
    dnnl_memory_destroy(m_ddst);
    dnnl_memory_destroy(m_dwei);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bwpd);
    return ms;
}

/* Milliseconds of one convolution's passes and its batch norm's, by pass. */
struct times { double fwd, bwd_d, bwd_w, bn_fwd, bn_bwd; };

static struct times time_layer(const struct conv *c, dnnl_data_type_t dt, int reps)
{
    struct times t;
    dnnl_primitive_desc_t fpd, bdpd, bwpd;
    conv_pds(c, dt, &fpd, &bdpd, &bwpd);
    dnnl_memory_t m_src = memory(query(fpd, dnnl_query_src_md));
    dnnl_memory_t m_wei = memory(query(fpd, dnnl_query_weights_md));
    const dnnl_memory_desc_t *dst_md = query(fpd, dnnl_query_dst_md);
    dnnl_memory_t m_dst = memory(dst_md), m_ddst = memory(dst_md);
    dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, m_src}, {DNNL_ARG_WEIGHTS, m_wei},
                            {DNNL_ARG_DST, m_dst}};
    t.fwd = run(fpd, 3, fa, reps);

    dnnl_memory_t m_dsrc = memory(query(bdpd, dnnl_query_diff_src_md));
    dnnl_memory_t m_wei_b = memory(query(bdpd, dnnl_query_weights_md));
    dnnl_exec_arg_t ba[] = {{DNNL_ARG_DIFF_DST, m_ddst}, {DNNL_ARG_WEIGHTS, m_wei_b},
                            {DNNL_ARG_DIFF_SRC, m_dsrc}};
    t.bwd_d = run(bdpd, 3, ba, reps);

    dnnl_memory_t m_dwei = memory(query(bwpd, dnnl_query_diff_weights_md));
    dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, m_src}, {DNNL_ARG_DIFF_DST, m_ddst},
                            {DNNL_ARG_DIFF_WEIGHTS, m_dwei}};
    t.bwd_w = run(bwpd, 3, wa, reps);

    /* Batch norm with its ReLU on the convolution's output, in its layout and type. */
    unsigned flags = dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu;
    dnnl_batch_normalization_desc_t nf, nb;
    dnnl_primitive_desc_t nfpd, nbpd;
    DN(dnnl_batch_normalization_forward_desc_init(&nf, dnnl_forward_training, dst_md, BN_EPS,
                                                  flags));
    DN(dnnl_primitive_desc_create(&nfpd, &nf, NULL, engine, NULL));
    DN(dnnl_batch_normalization_backward_desc_init(&nb, dnnl_backward, dst_md, dst_md, BN_EPS,
                                                   flags));
    DN(dnnl_primitive_desc_create(&nbpd, &nb, NULL, engine, nfpd));
    dnnl_memory_t m_y = memory(dst_md), m_dx = memory(dst_md);
    dnnl_memory_t m_mean = memory(arg_md(nfpd, DNNL_ARG_MEAN));
    dnnl_memory_t m_var = memory(arg_md(nfpd, DNNL_ARG_VARIANCE));
    dnnl_memory_t m_scale = memory(arg_md(nfpd, DNNL_ARG_SCALE));
    dnnl_memory_t m_shift = memory(arg_md(nfpd, DNNL_ARG_SHIFT));
    dnnl_memory_t m_dscale = memory(arg_md(nbpd, DNNL_ARG_DIFF_SCALE));
    dnnl_memory_t m_dshift = memory(arg_md(nbpd, DNNL_ARG_DIFF_SHIFT));
    dnnl_memory_t m_ws = memory(query(nfpd, dnnl_query_workspace_md));
    dnnl_exec_arg_t na[] = {{DNNL_ARG_SRC, m_dst},   {DNNL_ARG_DST, m_y},
                            {DNNL_ARG_MEAN, m_mean}, {DNNL_ARG_VARIANCE, m_var},
                            {DNNL_ARG_SCALE, m_scale}, {DNNL_ARG_SHIFT, m_shift},
                            {DNNL_ARG_WORKSPACE, m_ws}};
    t.bn_fwd = run(nfpd, 7, na, reps);
    dnnl_exec_arg_t nba[] = {{DNNL_ARG_SRC, m_dst},         {DNNL_ARG_MEAN, m_mean},
                             {DNNL_ARG_VARIANCE, m_var},    {DNNL_ARG_DIFF_DST, m_ddst},
                             {DNNL_ARG_SCALE, m_scale},     {DNNL_ARG_SHIFT, m_shift},
                             {DNNL_ARG_DIFF_SRC, m_dx},     {DNNL_ARG_DIFF_SCALE, m_dscale},
                             {DNNL_ARG_DIFF_SHIFT, m_dshift}, {DNNL_ARG_WORKSPACE, m_ws}};
    t.bn_bwd = run(nbpd, 10, nba, reps);

    dnnl_memory_t all[] = {m_src, m_wei, m_dst, m_ddst, m_dsrc, m_wei_b, m_dwei, m_y, m_dx,
                           m_mean, m_var, m_scale, m_shift, m_dscale, m_dshift, m_ws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        dnnl_memory_destroy(all[i]);
    dnnl_primitive_desc_t pds[] = {fpd, bdpd, bwpd, nfpd, nbpd};
    for (size_t i = 0; i < sizeof pds / sizeof pds[0]; i++)
        dnnl_primitive_desc_destroy(pds[i]);
    return t;
}

/*
 * The weight gradients of stride-2 convolutions (channels doubling, square
 * maps) in f32 and in bf16, beside the choice of libsfr's rule
 * (lib/net/bf16_rule.h); the rule is "missed" where its choice is more than
 * 10% slower than the other.
 */
static void sweep_strided_weight_grads(int reps, int amx)
{
    static const int batches[] = {32, 64, 128}, in_cs[] = {16, 32, 64, 128, 256},
                     widths[] = {7, 8, 14, 16, 28, 32}, kernels[] = {1, 3};
    int shapes = 0, missed = 0;
    printf("\nstride-2 weight gradients, ms (median of %d): f32, bf16, bf16/f32, the rule's choice\n",
           reps);
    printf("%-26s %8s %8s %6s  %s\n", "conv (n, ic->oc, hw, k)", "f32", "bf16", "ratio", "rule");
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
        for (size_t i = 0; i < sizeof in_cs / sizeof in_cs[0]; i++)
            for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
                for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
                    const struct conv c = {batches[b], in_cs[i], 2 * in_cs[i], widths[w],
                                           widths[w], kernels[k], 2};
                    /* Multiply-adds: too few to time, or too many for a bench. */
                    const int out = (c.h + 1) / 2;
                    double macs = (double)c.n * c.ic * c.oc * c.k * c.k * out * out;
                    if (macs < 2e7 || macs > 4e9)
                        continue;
                    double f = time_weight_grad(&c, dnnl_f32, reps);
                    double h = time_weight_grad(&c, dnnl_bf16, reps);
                    int bf16 = sfri_bf16_weight_grad(amx, c.ic, c.w, c.k, c.k, 2, 2);
                    int miss = (bf16 ? h : f) > 1.1 * (bf16 ? f : h);
                    shapes++;
                    missed += miss;
                    char name[40];
                    snprintf(name, sizeof name, "%d, %d->%d, %d, %d", c.n, c.ic, c.oc, c.h, c.k);
                    printf("%-26s %8.3f %8.3f %6.2f  %s%s\n", name, f, h, h / f,
                           bf16 ? "bf16" : "f32", miss ? " (missed)" : "");
                }
    printf("the rule chose within 10%% of the faster on %d of %d shapes\n", shapes - missed,
           shapes);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    if (reps < 1 || reps > 100000) {
        fprintf(stderr, "usage: bench_bf16_chain [repetitions 1..100000]\n");
        return 2;
    }
    DN(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DN(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    /* fmnist-resnet's convolutions (NETWORKS.md): stem, then each block's two
     * 3x3 and, where the shape changes, its 1x1 shortcut. */
    static const struct conv convs[] = {
#define B BATCH
        {B, 1, 16, 28, 28, 3, 1},                                                        /* stem */
        {B, 16, 16, 28, 28, 3, 1}, {B, 16, 16, 28, 28, 3, 1},                          /* stage 1 */
        {B, 16, 32, 28, 28, 3, 2}, {B, 32, 32, 14, 14, 3, 1}, {B, 16, 32, 28, 28, 1, 2}, /* 2 */
        {B, 32, 64, 14, 14, 3, 2}, {B, 64, 64, 7, 7, 3, 1},   {B, 32, 64, 14, 14, 1, 2}, /* 3 */
        {B, 64, 128, 7, 7, 3, 2},  {B, 128, 128, 4, 4, 3, 1}, {B, 64, 128, 7, 7, 1, 2},  /* 4 */
#undef B
    };
    const int n = (int)(sizeof convs / sizeof convs[0]);
    struct times sum[3] = {{0}};   /* f32, bf16, the faster of the two per pass */
    printf("fmnist-resnet b%d, ms per pass (median of %d), f32 | bf16 activations\n", BATCH,
           reps);
    printf("%-22s %13s %13s %13s %13s %13s\n", "conv (ic->oc, hw, k/s)", "fwd", "bwd data",
           "bwd weights", "bn fwd", "bn bwd");
    for (int i = 0; i < n; i++) {
        const struct conv *c = &convs[i];
        struct times t[2];
        t[0] = time_layer(c, dnnl_f32, reps);
        /* The stem stays f32: one input channel has nothing for bf16 to speed up. */
        t[1] = c->ic < 16 ? t[0] : time_layer(c, dnnl_bf16, reps);
        if (i == 0)   /* the net's input needs no gradient: no backward data */
            t[0].bwd_d = t[1].bwd_d = 0;
        char name[32];
        snprintf(name, sizeof name, "%d->%d, %d, %d/%d", c->ic, c->oc, c->h, c->k, c->stride);
        printf("%-22s %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f\n", name,
               t[0].fwd, t[1].fwd, t[0].bwd_d, t[1].bwd_d, t[0].bwd_w, t[1].bwd_w, t[0].bn_fwd,
               t[1].bn_fwd, t[0].bn_bwd, t[1].bn_bwd);
        for (int p = 0; p < 2; p++) {
            sum[p].fwd += t[p].fwd;
            sum[p].bwd_d += t[p].bwd_d;
            sum[p].bwd_w += t[p].bwd_w;
            sum[p].bn_fwd += t[p].bn_fwd;
            sum[p].bn_bwd += t[p].bn_bwd;
        }
        sum[2].fwd += t[0].fwd < t[1].fwd ? t[0].fwd : t[1].fwd;
        sum[2].bwd_d += t[0].bwd_d < t[1].bwd_d ? t[0].bwd_d : t[1].bwd_d;
        sum[2].bwd_w += t[0].bwd_w < t[1].bwd_w ? t[0].bwd_w : t[1].bwd_w;
        sum[2].bn_fwd += t[0].bn_fwd < t[1].bn_fwd ? t[0].bn_fwd : t[1].bn_fwd;
        sum[2].bn_bwd += t[0].bn_bwd < t[1].bn_bwd ? t[0].bn_bwd : t[1].bn_bwd;
    }
    double total[3];
    for (int p = 0; p < 3; p++)
        total[p] = sum[p].fwd + sum[p].bwd_d + sum[p].bwd_w + sum[p].bn_fwd + sum[p].bn_bwd;
    printf("%-22s %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f %6.2f|%6.2f\n", "sum", sum[0].fwd,
           sum[1].fwd, sum[0].bwd_d, sum[1].bwd_d, sum[0].bwd_w, sum[1].bwd_w, sum[0].bn_fwd,
           sum[1].bn_fwd, sum[0].bn_bwd, sum[1].bn_bwd);
    printf("convolutions and batch norm: f32 %.2f ms, bf16 activations %.2f ms (%.2fx), "
           "the faster of the two for each pass %.2f ms (%.2fx, no conversion counted)\n",
           total[0], total[1], total[1] / total[0], total[2], total[2] / total[0]);
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    sweep_strided_weight_grads(reps, (isa & dnnl_cpu_isa_avx512_core_amx) ==
                                         dnnl_cpu_isa_avx512_core_amx);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return 0;
}
