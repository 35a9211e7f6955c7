/*
 * Self-distillation heads and the weights over training (docs/sfr.md,
 * "Heads" and "Warm-up"): the fast term against the reference, the
 * reference against finite differences and a hand-worked case, and every
 * bad input with nothing written.
 */
#include "reg_fixture.h"

enum { N = 6, K = 5 };

/* A regularizer with one wrapped head tap (N, K, 1, 1) and random logits. */
struct head_case {
    sfr_reg *reg;
    sfr_tap *tap;
    float zh[N * K], gh[N * K], z[N * K], dz[N * K];
    int32_t labels[N];
};

static void head_case_make(struct head_case *c, double ce_w, double kl_w)
{
    int64_t dims[4] = {N, K, 1, 1};
    fx_fill(c->zh, N * K, 0);
    fx_fill(c->z, N * K, 0);
    for (int i = 0; i < N * K; i++) {
        c->zh[i] *= 2.0f;
        c->z[i] *= 3.0f;
        c->gh[i] = 0.25f;   /* the head's gradient is added to what is there */
    }
    for (int i = 0; i < N; i++)
        c->labels[i] = (int32_t)((i * 3) % (K - 1));   /* every label also fits K - 1 */
    ck_assert_int_eq(sfr_reg_create(&c->reg), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dims, c->zh, c->gh, &c->tap), SFR_OK);
    int index = -1;
    ck_assert_int_eq(sfr_reg_add_head(c->reg, c->tap, ce_w, kl_w, &index), SFR_OK);
    ck_assert_int_eq(index, 0);
}

static void head_case_free(struct head_case *c)
{
    sfr_reg_destroy(c->reg);
    sfr_tap_destroy(c->tap);
}

/* Fast against reference at three temperatures, with and without the mutual
 * term: losses, the head's gradient, and the mutual gradient in dlogits (the
 * difference from a compute without it, which holds the label term alone). */
START_TEST(head_matches_reference)
{
    const double temps[] = {1, 3, 0.5}, mutuals[] = {0, 0.6, 2.5};
    for (int ti = 0; ti < 3; ti++) {
        fx_seed(40 + (uint64_t)ti);
        struct head_case c;
        head_case_make(&c, 0.7, 0.3);
        ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_HEAD_TEMPERATURE, temps[ti]), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_HEAD_MUTUAL, 0), SFR_OK);
        double loss, label;
        float label_dz[N * K];
        ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, label_dz, &loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_HEAD_MUTUAL, mutuals[ti]), SFR_OK);
        for (int i = 0; i < N * K; i++)
            c.gh[i] = 0.25f;
        ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, c.dz, &loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_label_loss(c.reg, &label), SFR_OK);
        double *zh = fx_to_double(c.zh, N * K), *z = fx_to_double(c.z, N * K);
        double want_g[N * K], want_dz[N * K];
        struct sfri_ref_head_weights wt = {temps[ti], 0.7, 0.3, mutuals[ti], 1.0};
        struct sfri_ref_head_loss want;
        ck_assert_int_eq(sfri_ref_head(zh, z, c.labels, N, K, &wt, want_g, want_dz, &want), 0);
        double got_ce, got_kl;
        ck_assert_int_eq(sfr_reg_head_loss(c.reg, 0, &got_ce, &got_kl), SFR_OK);
        ck_assert_double_eq_tol(got_ce, want.ce, 1e-12 * (1 + want.ce));
        /* The reported KL holds both directions. */
        const double kl = want.kl + want.mutual;
        ck_assert_double_eq_tol(got_kl, kl, 1e-12 * (1 + kl));
        ck_assert(want.kl > 0 && want.ce > 0 && (mutuals[ti] == 0) == (want.mutual == 0));
        ck_assert_double_eq_tol(loss, label + want.ce + kl, 1e-12 * (1 + loss));
        for (int i = 0; i < N * K; i++)
            want_g[i] += 0.25;
        fx_assert_close(c.gh, want_g, N * K, 1e-6, "head gradient");
        float mutual_dz[N * K];
        for (int i = 0; i < N * K; i++)
            mutual_dz[i] = c.dz[i] - label_dz[i];
        if (mutuals[ti] > 0)
            fx_assert_close(mutual_dz, want_dz, N * K, 1e-5, "mutual gradient");
        else
            for (int i = 0; i < N * K; i++)
                ck_assert_float_eq(mutual_dz[i], 0.0f);
        free(zh);
        free(z);
        head_case_free(&c);
    }
}
END_TEST

/* The reference's gradient is the derivative of its loss (central differences in double). */
START_TEST(reference_gradient_finite_differences)
{
    fx_seed(47);
    double zh[N * K], z[N * K], g[N * K];
    int32_t labels[N];
    for (int i = 0; i < N * K; i++) {
        zh[i] = 2 * fx_gauss();
        z[i] = 3 * fx_gauss();
    }
    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)(i % K);
    const struct sfri_ref_head_weights wt = {2.5, 0.6, 0.9, 0.7, 0.4};
    double gz[N * K];
    struct sfri_ref_head_loss at, plus, minus;
    ck_assert_int_eq(sfri_ref_head(zh, z, labels, N, K, &wt, g, gz, &at), 0);
    ck_assert(at.mutual > 0);
    const double h = 1e-5;
    /* ce + kl in the head's logits, the deepest held. */
    for (int i = 0; i < N * K; i++) {
        const double keep = zh[i];
        zh[i] = keep + h;
        ck_assert_int_eq(sfri_ref_head(zh, z, labels, N, K, &wt, NULL, NULL, &plus), 0);
        zh[i] = keep - h;
        ck_assert_int_eq(sfri_ref_head(zh, z, labels, N, K, &wt, NULL, NULL, &minus), 0);
        zh[i] = keep;
        double fd = (plus.ce + plus.kl - minus.ce - minus.kl) / (2 * h);
        ck_assert_msg(fabs(fd - g[i]) < 1e-8, "dzh[%d]: %.12g, finite differences %.12g", i,
                      g[i], fd);
    }
    /* The mutual term in the deepest logits, the head held. */
    for (int i = 0; i < N * K; i++) {
        const double keep = z[i];
        z[i] = keep + h;
        ck_assert_int_eq(sfri_ref_head(zh, z, labels, N, K, &wt, NULL, NULL, &plus), 0);
        z[i] = keep - h;
        ck_assert_int_eq(sfri_ref_head(zh, z, labels, N, K, &wt, NULL, NULL, &minus), 0);
        z[i] = keep;
        double fd = (plus.mutual - minus.mutual) / (2 * h);
        ck_assert_msg(fabs(fd - gz[i]) < 1e-8, "dz[%d]: %.12g, finite differences %.12g", i,
                      gz[i], fd);
    }
}
END_TEST

/* Two classes, one sample, T = 1, head logits (0, 0), deepest (log 3, 0), label 0. */
START_TEST(head_by_hand)
{
    float zh[2] = {0, 0}, gh[2] = {0, 0}, z[2] = {(float)log(3.0), 0}, dz[2];
    int32_t label = 0;
    int64_t dims[4] = {1, 2, 1, 1};
    sfr_reg *reg;
    sfr_tap *tap;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_HEAD_TEMPERATURE, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_HEAD_MUTUAL, 0), SFR_OK);   /* one-way first */
    ck_assert_int_eq(sfr_tap_wrap(dims, zh, gh, &tap), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_head(reg, tap, 2.0, 1.0, NULL), SFR_OK);
    double loss, ce, kl;
    ck_assert_int_eq(sfr_reg_compute(reg, z, &label, 1, 2, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_head_loss(reg, 0, &ce, &kl), SFR_OK);
    /* CE = -log(1/2); teacher (3/4, 1/4) against (1/2, 1/2). */
    ck_assert_double_eq_tol(ce, 2 * log(2.0), 1e-12);
    ck_assert_double_eq_tol(kl, 0.75 * log(1.5) + 0.25 * log(0.5), 1e-7);
    /* 2 * (1/2 - 1) + (1/2 - 3/4) and 2 * (1/2) + (1/2 - 1/4). */
    ck_assert_double_eq_tol(gh[0], -1.25, 1e-6);
    ck_assert_double_eq_tol(gh[1], 1.25, 1e-6);
    /* Label term alone in dz: (3/4 - 1, 1/4). */
    ck_assert_double_eq_tol(dz[0], -0.25, 1e-6);
    ck_assert_double_eq_tol(dz[1], 0.25, 1e-6);
    /* Mutual weight 2: the deepest (3/4, 1/4) learns from the head (1/2, 1/2),
     * adding 2 * KL(head || deepest) to the KL and 2 * (3/4 - 1/2, 1/4 - 1/2) to dz. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_HEAD_MUTUAL, 2), SFR_OK);
    gh[0] = gh[1] = 0;
    ck_assert_int_eq(sfr_reg_compute(reg, z, &label, 1, 2, dz, &loss), SFR_OK);
    double ce2, kl2;
    ck_assert_int_eq(sfr_reg_head_loss(reg, 0, &ce2, &kl2), SFR_OK);
    ck_assert_double_eq_tol(ce2, ce, 1e-15);
    ck_assert_double_eq_tol(kl2 - kl, 2 * (0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25)), 1e-7);
    ck_assert_double_eq_tol(dz[0], 0.25, 1e-6);
    ck_assert_double_eq_tol(dz[1], -0.25, 1e-6);
    ck_assert_double_eq_tol(gh[0], -1.25, 1e-6);   /* the head's own gradient is unchanged */
    sfr_reg_destroy(reg);
    sfr_tap_destroy(tap);
}
END_TEST

/* Computes at each progress ts[i] and checks that the pair and head losses are
 * factor[i] times their full-weight values (factor[0] must not be 0; at ts[0]
 * the pair is also checked against the reference, which applies its own
 * factor), and that the label term keeps its weight. Fails the test on a miss. */
static void check_weight_factors(struct head_case *c, struct fx_pair *p, const double *ts,
                                 const double *factor, int count)
{
    double full_pair = 0, full_ce = 0, full_kl = 0, full_label = 0;
    for (int i = 0; i < count; i++) {
        ck_assert_int_eq(sfr_reg_set_progress(c->reg, ts[i]), SFR_OK);
        double loss, pair, ce, kl, label;
        ck_assert_int_eq(sfr_reg_compute(c->reg, c->z, c->labels, N, K, c->dz, &loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_pair_loss(c->reg, 0, &pair), SFR_OK);
        ck_assert_int_eq(sfr_reg_head_loss(c->reg, 0, &ce, &kl), SFR_OK);
        ck_assert_int_eq(sfr_reg_label_loss(c->reg, &label), SFR_OK);
        if (i == 0) {
            full_pair = pair / factor[0], full_ce = ce / factor[0], full_kl = kl / factor[0];
            full_label = label;
            ck_assert(pair > 0 && ce > 0 && kl > 0);
            double want = fx_ref_pair(c->reg, p, 2.0, NULL, NULL, NULL, NULL);
            ck_assert_double_eq_tol(pair, want, 1e-6 * want);
        }
        ck_assert_msg(fabs(pair - factor[i] * full_pair) <= 1e-12 * full_pair,
                      "t %g: pair %.17g, expected %g x %.17g", ts[i], pair, factor[i], full_pair);
        ck_assert_double_eq_tol(ce, factor[i] * full_ce, 1e-12 * full_ce);
        ck_assert_double_eq_tol(kl, factor[i] * full_kl, 1e-12 * full_kl);
        ck_assert_double_eq_tol(label, full_label, 1e-12 * full_label);
        ck_assert_double_eq_tol(loss, label + pair + ce + kl, 1e-12 * loss);
    }
}

/* A head case with one pair of beta 2 beside the head, the label term constant over t. */
static void weighted_case_make(struct head_case *c, struct fx_pair *p)
{
    head_case_make(c, 1.0, 1.0);
    fx_pair_make(p, (struct fx_shape){N, 4, 6, 6, 8, 3, 3}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(c->reg, p->ts, p->tt, 2.0, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(c->reg, SFR_PARAM_LS_SCHEDULE, SFR_LS_CONSTANT), SFR_OK);
}

/* The warm-up scales pairs and heads by min(1, t / warmup); the label term keeps its weight. */
START_TEST(warmup_scales_pairs_and_heads)
{
    fx_seed(48);
    struct head_case c;
    struct fx_pair p;
    weighted_case_make(&c, &p);
    ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_WARMUP, 0.4), SFR_OK);
    const double ts[] = {0.4, 0.1, 0.0, 0.9, 1.0};
    const double factor[] = {1.0, 0.25, 0.0, 1.0, 1.0};
    check_weight_factors(&c, &p, ts, factor, 5);
    /* The pair's gradient at t = 0.1 is a quarter of the reference's at full weight. */
    ck_assert_int_eq(sfr_reg_set_progress(c.reg, 0.1), SFR_OK);
    memset(p.gs, 0, (size_t)p.ns * sizeof *p.gs);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, c.dz, &loss), SFR_OK);
    double *want = malloc((size_t)p.ns * sizeof *want);
    ck_assert_ptr_nonnull(want);
    fx_ref_pair(c.reg, &p, 2.0, want, NULL, NULL, NULL);
    fx_assert_close(p.gs, want, p.ns, 1e-5, "warmed-up student gradient");
    ck_assert(fx_max_abs(want, p.ns) > 0);
    free(want);
    fx_pair_free(&p);
    head_case_free(&c);
}
END_TEST

/* The cool-down scales pairs and heads by min(1, (1 - t) / cooldown), and with a
 * warm-up the smaller factor wins (here the two ramps overlap). */
START_TEST(cooldown_scales_pairs_and_heads)
{
    fx_seed(49);
    struct head_case c;
    struct fx_pair p;
    weighted_case_make(&c, &p);
    ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_COOLDOWN, 0.5), SFR_OK);
    const double ts[] = {0.5, 0.0, 0.75, 0.9, 1.0};
    const double factor[] = {1.0, 1.0, 0.5, 0.2, 0.0};
    check_weight_factors(&c, &p, ts, factor, 5);
    ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_WARMUP, 0.8), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(c.reg, SFR_PARAM_COOLDOWN, 0.25), SFR_OK);
    /* Warm-up t / 0.8, cool-down (1 - t) / 0.25: they cross at t = 0.8 / 1.05. */
    const double ts2[] = {0.8 / 1.05, 0.4, 0.7, 0.9};
    const double factor2[] = {1.0 / 1.05, 0.5, 0.875, 0.4};
    check_weight_factors(&c, &p, ts2, factor2, 4);
    fx_pair_free(&p);
    head_case_free(&c);
}
END_TEST

START_TEST(add_head_bad_input)
{
    float x[N * K] = {0}, g[N * K] = {0};
    int64_t dims[4] = {N, K, 1, 1}, dims2[4] = {N, K, 2, 1};
    sfr_reg *reg;
    sfr_tap *tap, *nograd, *tall;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dims, x, g, &tap), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dims, x, NULL, &nograd), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dims2, x, g, &tall), SFR_OK);
    int index = 77;
    ck_assert_int_eq(sfr_reg_add_head(NULL, tap, 1, 1, &index), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_head(reg, NULL, 1, 1, &index), SFR_ERR_INVALID_ARG);
    const double bad[] = {-1e-9, NAN, INFINITY, 1e6 * 1.0000001, -INFINITY};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(sfr_reg_add_head(reg, tap, bad[i], 1, &index), SFR_ERR_INVALID_ARG);
        ck_assert_int_eq(sfr_reg_add_head(reg, tap, 1, bad[i], &index), SFR_ERR_INVALID_ARG);
    }
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_add_head: ce_weight = 1 and kl_weight = -inf "
                                       "must be in [0, 1e+06]");
    ck_assert_int_eq(sfr_reg_add_head(reg, nograd, 1, 1, &index), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_head(reg, tall, 1, 1, &index), SFR_ERR_SHAPE);
    uint32_t dead = SFRI_MAGIC_DEAD;
    ck_assert_int_eq(sfr_reg_add_head(reg, (sfr_tap *)&dead, 1, 1, &index), SFR_ERR_MISUSE);
    ck_assert_int_eq(index, 77);
    double ce = 5, kl = 6;
    ck_assert_int_eq(sfr_reg_head_loss(reg, 0, &ce, &kl), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_head(reg, tap, 0, 1e6, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_head_loss(reg, 1, &ce, &kl), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_head_loss(reg, -1, &ce, &kl), SFR_ERR_INVALID_ARG);
    ck_assert(ce == 5 && kl == 6);
    ck_assert_int_eq(sfr_reg_head_loss(reg, 0, &ce, NULL), SFR_OK);
    ck_assert(ce == 0);
    ck_assert_int_eq(sfr_reg_head_loss(NULL, 0, &ce, &kl), SFR_ERR_INVALID_ARG);
    sfr_reg_destroy(reg);
    sfr_tap_destroy(tap);
    sfr_tap_destroy(nograd);
    sfr_tap_destroy(tall);
}
END_TEST

/* A compute whose heads do not fit fails before writing anything. */
START_TEST(compute_with_bad_heads_writes_nothing)
{
    fx_seed(49);
    struct head_case c;
    head_case_make(&c, 1, 1);
    float keep_g[N * K], keep_dz[N * K];
    for (int i = 0; i < N * K; i++)
        c.dz[i] = 9.0f;
    memcpy(keep_g, c.gh, sizeof keep_g);
    memcpy(keep_dz, c.dz, sizeof keep_dz);
    double loss = 123;
    /* No logits: the heads have nothing to learn from. */
    ck_assert_int_eq(sfr_reg_compute(c.reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_INVALID_ARG);
    /* Logits of another K or N than the head's. */
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K - 1, c.dz, &loss), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N - 1, K, c.dz, &loss), SFR_ERR_SHAPE);
    /* A non-finite head logit. */
    c.zh[7] = NAN;
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, c.dz, &loss), SFR_ERR_NONFINITE);
    c.zh[7] = INFINITY;
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, c.dz, &loss), SFR_ERR_NONFINITE);
    /* A head tap that is no longer live (its magic word as destroy leaves it). */
    c.zh[7] = 0;
    c.tap->magic = SFRI_MAGIC_DEAD;
    ck_assert_int_eq(sfr_reg_compute(c.reg, c.z, c.labels, N, K, c.dz, &loss), SFR_ERR_MISUSE);
    c.tap->magic = SFRI_MAGIC_TAP;
    ck_assert(loss == 123);
    ck_assert_mem_eq(c.gh, keep_g, sizeof keep_g);
    ck_assert_mem_eq(c.dz, keep_dz, sizeof keep_dz);
    double ce = 1, kl = 1;
    ck_assert_int_eq(sfr_reg_head_loss(c.reg, 0, &ce, &kl), SFR_OK);
    ck_assert(ce == 0 && kl == 0);
    head_case_free(&c);
}
END_TEST

/*
 * Heads on net taps: a convolution to 16 channels pooled to 1 x 1, and a
 * linear head; the parameter gradients must
 * be those of a host that copies each head out, wraps the copy, and writes
 * the head's gradient back through sfr_tap_grad.
 */
enum { HN = 6, HK = 16, HIN = 4 };

static sfr_net *head_net(int *conv_head, int *linear_head)
{
    sfr_net *net;
    int x, c, r, gap;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, HIN, HIN, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 8, 3, 1, 1, 0, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, c, &r), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, r, HK, 3, 1, 1, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, c, conv_head), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, r, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, gap, HK, linear_head), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, gap, HK, &x), SFR_OK);
    return net;
}

/* One step with both heads on the net's taps (wrapped = 0) or on wrapped copies. */
static float *head_step(int wrapped, const float *in, const int32_t *labels)
{
    int heads_id[2];
    sfr_net *net = head_net(&heads_id[0], &heads_id[1]);
    sfr_tap *taps[2];
    for (int h = 0; h < 2; h++)
        ck_assert_int_eq(sfr_net_tap(net, heads_id[h], &taps[h]), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, HN), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 9), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_OK);
    const float *logits;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_OK);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    float copy[2][HN * HK], copy_grad[2][HN * HK];
    sfr_tap *wraps[2] = {NULL, NULL};
    for (int h = 0; h < 2; h++) {
        sfr_tap *head = taps[h];
        if (wrapped) {
            const float *data;
            int64_t d[4] = {HN, HK, 1, 1};
            ck_assert_int_eq(sfr_tap_data(taps[h], &data), SFR_OK);
            memcpy(copy[h], data, sizeof copy[h]);
            memset(copy_grad[h], 0, sizeof copy_grad[h]);
            ck_assert_int_eq(sfr_tap_wrap(d, copy[h], copy_grad[h], &wraps[h]), SFR_OK);
            head = wraps[h];
        }
        ck_assert_int_eq(sfr_reg_add_head(reg, head, 0.5, 1.5, NULL), SFR_OK);
    }
    float dlogits[HN * HK];
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, logits, labels, HN, HK, dlogits, &loss), SFR_OK);
    for (int h = 0; h < 2 && wrapped; h++) {
        float *grad;
        ck_assert_int_eq(sfr_tap_grad(taps[h], &grad), SFR_OK);
        for (int i = 0; i < HN * HK; i++)
            grad[i] += copy_grad[h][i];
    }
    ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
    float *values, *grads;
    int64_t count;
    ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
    float *out = malloc((size_t)count * sizeof *out);
    ck_assert_ptr_nonnull(out);
    memcpy(out, grads, (size_t)count * sizeof *out);
    sfr_reg_destroy(reg);
    for (int h = 0; h < 2; h++)
        sfr_tap_destroy(wraps[h]);
    sfr_net_destroy(net);
    return out;
}

START_TEST(heads_on_net_taps_match_wrapped_copies)
{
    fx_seed(50);
    float in[HN * 2 * HIN * HIN];
    fx_fill(in, HN * 2 * HIN * HIN, 0);
    int32_t labels[HN];
    for (int i = 0; i < HN; i++)
        labels[i] = (int32_t)((5 * i) % HK);
    int a, b;
    sfr_net *probe = head_net(&a, &b);
    int64_t count;
    ck_assert_int_eq(sfr_net_compile(probe, HN), SFR_OK);
    ck_assert_int_eq(sfr_net_params(probe, NULL, NULL, &count), SFR_OK);
    sfr_net_destroy(probe);
    float *on_net = head_step(0, in, labels), *on_copies = head_step(1, in, labels);
    double scale = 0;
    for (int64_t i = 0; i < count; i++)
        scale = fmax(scale, fabs(on_copies[i]));
    ck_assert(scale > 0);
    for (int64_t i = 0; i < count; i++)
        ck_assert_msg(fabs(on_net[i] - on_copies[i]) <= 1e-5 * scale, "grad[%lld]: %g vs %g",
                      (long long)i, (double)on_net[i], (double)on_copies[i]);
    free(on_net);
    free(on_copies);
}
END_TEST

Suite *reg_heads_suite(void)
{
    Suite *s = suite_create("reg_heads");
    TCase *tc = tcase_create("heads");
    tcase_add_test(tc, head_matches_reference);
    tcase_add_test(tc, reference_gradient_finite_differences);
    tcase_add_test(tc, head_by_hand);
    tcase_add_test(tc, warmup_scales_pairs_and_heads);
    tcase_add_test(tc, cooldown_scales_pairs_and_heads);
    tcase_add_test(tc, add_head_bad_input);
    tcase_add_test(tc, compute_with_bad_heads_writes_nothing);
    tcase_add_test(tc, heads_on_net_taps_match_wrapped_copies);
    suite_add_tcase(s, tc);
    return s;
}
