/*
 * Compute-time checks of the pairs (SFR.md section 11): taps may have been
 * destroyed, rebound or recompiled since sfr_reg_add_pair, so everything is
 * checked again and each pair's shape resolved for this compute.
 */
#include "common/common.h"
#include "reg_internal.h"

static const char *const fn = "sfr_reg_compute";

/* Resolves one axis: teacher cells (0 = its size), then student cells (0 = teacher's). */
static sfr_status resolve_axis(int p, const char *axis, int64_t hs, int64_t ht, double grid,
                               double teacher_grid, int64_t *g, int64_t *tg)
{
    *tg = teacher_grid > 0 ? (int64_t)teacher_grid : ht;
    if (*tg > ht)
        return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: teacher grid %s %lld exceeds its size %lld",
                         p, axis, (long long)*tg, (long long)ht);
    *g = grid > 0 ? (int64_t)grid : *tg;
    if (*g > hs)
        return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: student grid %s %lld exceeds its size %lld",
                         p, axis, (long long)*g, (long long)hs);
    return SFR_OK;
}

static sfr_status check_tap(const sfr_tap *tap, int p, const char *role)
{
    sfr_status st = sfri_check_handle(tap, SFRI_MAGIC_TAP, fn, role);
    if (st != SFR_OK)
        return st;
    if (tap->data == NULL)
        return sfri_fail(SFR_ERR_STATE, fn, "pair %d: the %s tap (layer %d) has no buffers: "
                         "compile its net first", p, role, tap->layer);
    if (!sfri_tap_has_output(tap))
        return sfri_fail(SFR_ERR_STATE, fn, "pair %d: the %s tap (layer %d) holds no output: "
                         "no forward since its net was compiled", p, role, tap->layer);
    return SFR_OK;
}

sfr_status sfri_reg_validate_pairs(sfr_reg *reg, int64_t *n_out)
{
    const double *prm = reg->param;
    int64_t n = 0;
    for (int p = 0; p < reg->npairs; p++) {
        struct sfri_pair *pair = &reg->pairs[p];
        const sfr_tap *s = pair->student, *t = pair->teacher;
        sfr_status st;
        if ((st = check_tap(s, p, "student")) != SFR_OK ||
            (st = check_tap(t, p, "teacher")) != SFR_OK)
            return st;
        if (s->grad == NULL)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "pair %d: the student tap has no gradient "
                             "buffer", p);
        if (prm[SFRI_P_TEACHER_GRAD] != 0 && t->grad == NULL)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "pair %d: teacher_grad = 1 but the teacher "
                             "tap has no gradient buffer", p);
        if (p == 0)
            n = s->dims[0];
        if (s->dims[0] != n || t->dims[0] != n)
            return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: student N = %lld and teacher N = %lld, "
                             "the first pair has N = %lld", p, (long long)s->dims[0],
                             (long long)t->dims[0], (long long)n);
        struct sfri_pair_shape *sh = &pair->shape;
        sh->n = n;
        sh->cs = s->dims[1], sh->hs = s->dims[2], sh->ws = s->dims[3];
        sh->ct = t->dims[1], sh->ht = t->dims[2], sh->wt = t->dims[3];
        if ((sh->cs > sh->ct ? sh->cs % sh->ct : sh->ct % sh->cs) != 0)
            return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: teacher has %lld channels, student "
                             "%lld: one must divide the other", p, (long long)sh->ct,
                             (long long)sh->cs);
        if ((st = resolve_axis(p, "height", sh->hs, sh->ht, prm[SFRI_P_GRID_H],
                               prm[SFRI_P_TEACHER_GRID_H], &sh->gh, &sh->tgh)) != SFR_OK ||
            (st = resolve_axis(p, "width", sh->ws, sh->wt, prm[SFRI_P_GRID_W],
                               prm[SFRI_P_TEACHER_GRID_W], &sh->gw, &sh->tgw)) != SFR_OK)
            return st;
        if (prm[SFRI_P_MATCH] == SFR_MATCH_L2 && (sh->gh != sh->tgh || sh->gw != sh->tgw))
            return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: match l2 needs equal grids, student "
                             "%lldx%lld, teacher %lldx%lld", p, (long long)sh->gh,
                             (long long)sh->gw, (long long)sh->tgh, (long long)sh->tgw);
        if (prm[SFRI_P_DEBIAS] != 0 && prm[SFRI_P_MATCH] != SFR_MATCH_EMD)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "debias needs match emd: the debiased "
                             "divergence is made of transport problems");
        if (prm[SFRI_P_DEBIAS] != 0 && sh->cs != sh->ct)
            return sfri_fail(SFR_ERR_SHAPE, fn, "pair %d: debias compares features of equal "
                             "width, student %lld channels, teacher %lld (an adapter can map "
                             "one to the other)", p, (long long)sh->cs, (long long)sh->ct);
        sh->a = sh->gh * sh->gw;
        sh->b = sh->tgh * sh->tgw;
        sh->g = sh->cs < sh->ct ? sh->cs : sh->ct;
        sh->m = sh->cs < sh->ct ? sh->ct : sh->cs;
        sh->n_s = sh->cs / sh->g;
        sh->n_t = sh->ct / sh->g;
    }
    *n_out = n;
    return SFR_OK;
}
