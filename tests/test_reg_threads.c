/* Threads and workspace: independent handles, thread-count independence, no allocation. */
#include <pthread.h>

#include "reg_fixture.h"

/* One regularizer's whole job: fixed data, three computes, the final outputs. */
struct job {
    uint64_t seed;
    double loss;
    float *gs;   /* student gradient after the computes */
    int64_t ns;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, 1), SFR_OK);
    /* The fixture's generator is shared: fill from a local one. */
    struct fx_pair p;
    p.sh = (struct fx_shape){4, 8, 8, 8, 16, 4, 4};
    p.ns = 4 * 8 * 8 * 8;
    p.nt = 4 * 16 * 4 * 4;
    p.s = malloc((size_t)p.ns * sizeof(float));
    p.t = malloc((size_t)p.nt * sizeof(float));
    p.gs = calloc((size_t)p.ns, sizeof(float));
    p.gt = calloc((size_t)p.nt, sizeof(float));
    uint64_t r = j->seed;
    for (int64_t i = 0; i < p.ns + p.nt; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        float v = (float)((r >> 40) & 0xFFFF) / 65536.0f;
        if (i < p.ns)
            p.s[i] = v;
        else
            p.t[i - p.ns] = v;
    }
    int64_t ds[4] = {4, 8, 8, 8}, dt[4] = {4, 16, 4, 4};
    ck_assert_int_eq(sfr_tap_wrap(ds, p.s, p.gs, &p.ts), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dt, p.t, p.gt, &p.tt), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1, NULL), SFR_OK);
    for (int rep = 0; rep < 3; rep++)
        ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &j->loss), SFR_OK);
    j->ns = p.ns;
    j->gs = malloc((size_t)p.ns * sizeof(float));
    memcpy(j->gs, p.gs, (size_t)p.ns * sizeof(float));
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
    return NULL;
}

START_TEST(two_regularizers_in_two_threads_match_sequential)
{
    struct job seq[2] = {{.seed = 1}, {.seed = 2}}, par[2] = {{.seed = 1}, {.seed = 2}};
    run_job(&seq[0]);
    run_job(&seq[1]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_job, &par[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert(memcmp(&seq[i].loss, &par[i].loss, sizeof(double)) == 0);
        ck_assert(memcmp(seq[i].gs, par[i].gs, (size_t)seq[i].ns * sizeof(float)) == 0);
        free(seq[i].gs);
        free(par[i].gs);
    }
    ck_assert(seq[0].loss != seq[1].loss);
}
END_TEST

START_TEST(results_do_not_depend_on_thread_count)
{
    struct job one = {.seed = 3}, two = {.seed = 3};
    ck_assert_int_eq(sfr_set_num_threads(1), SFR_OK);
    run_job(&one);
    ck_assert_int_eq(sfr_set_num_threads(2), SFR_OK);
    run_job(&two);
    ck_assert(memcmp(&one.loss, &two.loss, sizeof(double)) == 0);
    ck_assert(memcmp(one.gs, two.gs, (size_t)one.ns * sizeof(float)) == 0);
    free(one.gs);
    free(two.gs);
}
END_TEST

START_TEST(same_shapes_allocate_nothing_and_shapes_may_change)
{
    fx_seed(61);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_BANK_SIZE, 16), SFR_OK);
    /* The class-wise and last-batch terms keep grow-only buffers too. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, 1), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){4, 8, 8, 8, 16, 4, 4}, 1);
    /* A net's tap, as after a compile for batch 4, reading the same buffers. */
    sfr_tap *owned = sfri_tap_new_owned(fx_forwarded_net(), 1);
    ck_assert_ptr_nonnull(owned);
    memcpy(owned->dims, p.ts->dims, sizeof owned->dims);
    owned->data = p.s;
    owned->grad = p.gs;
    ck_assert_int_eq(sfr_reg_add_pair(reg, owned, p.tt, 1, NULL), SFR_OK);
    float z[4 * 5], dz[4 * 5];
    int32_t y[4] = {0, 1, 2, 3};
    int64_t ids[4] = {0, 1, 2, 3};
    for (int i = 0; i < 20; i++)
        z[i] = (float)fx_gauss();
    double loss;
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, 4), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 4, 5, dz, &loss), SFR_OK);
    size_t before = sfri_alloc_count();
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, 4), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 4, 5, dz, &loss), SFR_OK);
    ck_assert_uint_eq(sfri_alloc_count(), before);
    /* Recompiled for batch 2: validated again, and matches the reference on 2 samples. */
    owned->dims[0] = 2;
    p.tt->dims[0] = 2;
    memset(p.gs, 0, (size_t)p.ns * sizeof(float));
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    struct fx_pair half = p;
    half.sh.n = 2;
    half.ns = p.ns / 2;
    half.nt = p.nt / 2;
    double *ds = malloc((size_t)half.ns * sizeof(double));
    double want = fx_ref_pair(reg, &half, 1, ds, NULL, NULL, NULL);
    ck_assert_double_eq_tol(loss, want, 1e-5 * want);
    fx_assert_close(p.gs, ds, half.ns, 1e-4, "student grad, batch 2");
    for (int64_t i = half.ns; i < p.ns; i++)
        ck_assert(p.gs[i] == 0);
    /* Back to batch 4: the workspace only grew, nothing to allocate. */
    owned->dims[0] = 4;
    p.tt->dims[0] = 4;
    before = sfri_alloc_count();
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_uint_eq(sfri_alloc_count(), before);
    free(ds);
    sfr_reg_destroy(reg);
    sfri_tap_free_owned(owned);
    fx_pair_free(&p);
}
END_TEST

/* One of two threads computing on one shared regularizer. */
struct hammer {
    sfr_reg *reg;
    const float *z;
    const int32_t *y;
    double want;   /* the loss of the same compute alone */
    int tries, ok, misuse, wrong;
    pthread_barrier_t *start;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    float dz[4 * 5];   /* each thread its own: only the reg is shared */
    ck_assert_int_eq(sfr_set_num_threads(1), SFR_OK);
    pthread_barrier_wait(h->start);
    for (h->tries = 0; h->tries < 4000 && (h->misuse == 0 || h->tries < 300); h->tries++) {
        double loss = 0;
        sfr_status st = sfr_reg_compute(h->reg, h->z, h->y, 4, 5, dz, &loss);
        if (st == SFR_OK) {
            h->ok++;
            h->wrong += memcmp(&loss, &h->want, sizeof loss) != 0;
        } else {
            ck_assert_int_eq(st, SFR_ERR_MISUSE);
            ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: the regularizer is in use by "
                             "another call: a regularizer is used by one thread at a time");
            h->misuse++;
        }
    }
    return NULL;
}

/*
 * Two threads hammering one regularizer (forbidden, and detected): every
 * compute either is refused with MISUSE or gives exactly the loss of the
 * same compute alone; over a bounded number of tries the overlap happens.
 */
START_TEST(a_regularizer_shared_by_two_threads_is_refused_never_wrong)
{
    fx_seed(81);
    struct fx_pair p;
    sfr_reg *reg = fx_reg_one_pair(&p, (struct fx_shape){4, 8, 8, 8, 16, 4, 4});
    float z[4 * 5], dz[4 * 5];
    int32_t y[4] = {0, 1, 4, 2};
    fx_fill(z, 20, 0);
    double want;
    ck_assert_int_eq(sfr_set_num_threads(1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 4, 5, dz, &want), SFR_OK);
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
    struct hammer h[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        h[i] = (struct hammer){.reg = reg, .z = z, .y = y, .want = want, .start = &start};
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    ck_assert_int_eq(h[0].wrong + h[1].wrong, 0);
    ck_assert_msg(h[0].misuse + h[1].misuse > 0, "no overlap detected in %d + %d computes",
                  h[0].tries, h[1].tries);
    ck_assert_int_gt(h[0].ok + h[1].ok, 0);
    /* The flag is released: the reg works alone again. */
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 4, 5, dz, &loss), SFR_OK);
    ck_assert(loss == want);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

/* While a call holds the flag, every call that changes the reg is refused
 * and changes nothing; the queries still answer. */
START_TEST(every_changing_call_is_refused_while_the_reg_is_busy)
{
    fx_seed(82);
    struct fx_pair p;
    sfr_reg *reg = fx_reg_one_pair(&p, (struct fx_shape){2, 4, 4, 4, 8, 2, 2});
    double loss = -7, v;
    int idx = 77;
    int64_t ids[2] = {0, 1};
    atomic_store(&reg->busy, 1);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 3), SFR_ERR_MISUSE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_set_param: the regularizer is in use by another "
                                       "call: a regularizer is used by one thread at a time");
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.tt, p.ts, 1, &idx), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_add_head(reg, p.ts, 1, 1, &idx), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_set_progress(reg, 0.5), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, 2), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_MISUSE);
    int net_word = SFRI_MAGIC_NET;
    ck_assert_int_eq(sfr_reg_compute_net(reg, (sfr_net *)&net_word, NULL, NULL, &loss),
                     SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_get_param(reg, SFR_PARAM_GAMMA, &v), SFR_OK);
    ck_assert(v == 1 && loss == -7 && idx == 77 && reg->npairs == 1 && reg->nheads == 0 &&
              reg->progress == 0 && !reg->ids_pending);
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 0, &v), SFR_OK);
    ck_assert(v == 0);
    atomic_store(&reg->busy, 0);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_int_eq(atomic_load(&reg->busy), 0);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

Suite *reg_threads_suite(void)
{
    Suite *s = suite_create("reg_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_regularizers_in_two_threads_match_sequential);
    tcase_add_test(tc, results_do_not_depend_on_thread_count);
    tcase_add_test(tc, same_shapes_allocate_nothing_and_shapes_may_change);
    tcase_add_test(tc, a_regularizer_shared_by_two_threads_is_refused_never_wrong);
    tcase_add_test(tc, every_changing_call_is_refused_while_the_reg_is_busy);
    suite_add_tcase(s, tc);
    return s;
}
