/*
 * The regularizer's workspace: one slab of doubles and one of pooling
 * windows, laid out per pair for the resolved shapes, plus per-thread
 * regions for one sample's features and the transport problems (a sample's
 * features stay in that thread's cache instead of travelling to memory
 * and back). The slabs only grow, so a compute with the shapes of an
 * earlier one allocates nothing.
 */
#include "common/common.h"
#include "reg_internal.h"

/*
 * Doubles of per-thread scratch a pair needs: pooling's, or cost, plan,
 * group sums and Sinkhorn's.
 */
static size_t pair_scratch(const struct sfri_pair_shape *sh, int debias)
{
    /* The debiased divergence also solves A x A and B x B problems (transport_one). */
    int64_t side = sh->a > sh->b ? sh->a : sh->b;
    size_t square = debias ? (size_t)(side * side) : (size_t)(sh->a * sh->b);
    size_t transport = 2 * square + (size_t)((sh->a + sh->b + 4) * sh->g) +
                       (debias ? (size_t)(side * sh->cs) : 0) +
                       (debias ? sfri_sinkhorn_scratch(side, side)
                               : sfri_sinkhorn_scratch(sh->a, sh->b));
    size_t pool = sfri_pool_scratch(sh->ws, sh->gh, sh->gw);
    size_t sides[3] = {sfri_pool_scratch(sh->wt, sh->tgh, sh->tgw),
                       sfri_pool_backward_scratch(sh->ws, sh->gh, sh->gw),
                       sfri_pool_backward_scratch(sh->wt, sh->tgh, sh->tgw)};
    for (int i = 0; i < 3; i++)
        pool = sides[i] > pool ? sides[i] : pool;
    return transport > pool ? transport : pool;
}

/* Replaces *slab by a block of need elements when it holds fewer (contents not kept). */
static int grow(void **slab, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    void *p = sfri_aligned_alloc(64, sfri_mul_size(need, elem));
    if (p == NULL)
        return -1;
    sfri_free(*slab);
    *slab = p;
    *cap = need;
    return 0;
}

sfr_status sfri_reg_workspace(sfr_reg *reg, int threads)
{
    size_t nd = 0, ni = 0, feat = 0, scratch = 0;
    int teacher_grad = reg->param[SFRI_P_TEACHER_GRAD] != 0;
    for (int p = 0; p < reg->npairs; p++) {
        struct sfri_pair_shape *sh = &reg->pairs[p].shape;
        size_t n = (size_t)sh->n, a = (size_t)sh->a, b = (size_t)sh->b;
        sh->xs = feat, feat += a * (size_t)sh->cs;
        sh->rs = feat, feat += a;
        sh->dxs = nd, nd += n * a * (size_t)sh->cs;
        sh->dys = nd, nd += teacher_grad ? n * b * (size_t)sh->ct : 0;
        /* Pairs that share a teacher tap (the usual case) pool it once. */
        sh->teacher_from = p;
        for (int q = 0; q < p && sh->teacher_from == p; q++)
            if (reg->pairs[q].teacher == reg->pairs[p].teacher)
                sh->teacher_from = q;
        if (sh->teacher_from == p) {
            sh->ys = feat, feat += b * (size_t)sh->ct;
            sh->rt = feat, feat += b;
        } else {
            sh->ys = reg->pairs[sh->teacher_from].shape.ys;
            sh->rt = reg->pairs[sh->teacher_from].shape.rt;
        }
        sh->loss = nd, nd += n;
        sh->err = nd, nd += n;
        sh->iters = nd, nd += n;
        sh->capped = nd, nd += n;
        sh->win_sh = ni, ni += 2 * (size_t)sh->gh;
        sh->win_sw = ni, ni += 2 * (size_t)sh->gw;
        sh->win_th = ni, ni += 2 * (size_t)sh->tgh;
        sh->win_tw = ni, ni += 2 * (size_t)sh->tgw;
        size_t need = pair_scratch(sh, reg->param[SFRI_P_DEBIAS] != 0);
        if (need > scratch)
            scratch = need;
    }
    /* Keep each thread's region, and the scratch in it, on its own cache lines. */
    feat = (feat + 7) & ~(size_t)7;
    scratch = (scratch + 7) & ~(size_t)7;
    nd = (nd + 7) & ~(size_t)7;
    size_t total = nd + (feat + scratch) * (size_t)threads;
    if (grow((void **)&reg->ws, &reg->ws_cap, total, sizeof(double)) != 0 ||
        grow((void **)&reg->wi, &reg->wi_cap, ni, sizeof(int64_t)) != 0)
        return sfri_fail(SFR_ERR_NOMEM, "sfr_reg_compute", "out of memory for the workspace "
                         "(%zu doubles)", total);
    reg->thread_off = nd;
    reg->per_thread = feat + scratch;
    reg->feat_per_thread = feat;
    for (int p = 0; p < reg->npairs; p++) {
        const struct sfri_pair_shape *sh = &reg->pairs[p].shape;
        sfri_pool_windows(sh->hs, sh->gh, reg->wi + sh->win_sh);
        sfri_pool_windows(sh->ws, sh->gw, reg->wi + sh->win_sw);
        sfri_pool_windows(sh->ht, sh->tgh, reg->wi + sh->win_th);
        sfri_pool_windows(sh->wt, sh->tgw, reg->wi + sh->win_tw);
    }
    return SFR_OK;
}
