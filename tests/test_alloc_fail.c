/*
 * Allocation failures, SQLite style: a chain of public calls is run once to
 * count its allocations, then again for every k failing the k-th one. Each
 * time the failing call must return SFR_ERR_NOMEM and leave its handles as
 * they were: either the same call, repeated, succeeds and the chain ends with
 * exactly the results of the run without failure (bitwise), or everything is
 * destroyed at once; in both cases every block libsfr took is given back.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sfr/sfr.h"
#include "tap/tap.h"
#include "test_heap.h"

enum { N = 2, K = 3, IN_C = 2, IN_HW = 6, WIDE = 16, RESULT_MAX = 8192 };

/* Everything a chain creates, and what it measures at its end. */
struct world {
    float s_data[N * 4 * 4 * 4], s_grad[N * 4 * 4 * 4]; // (N, 4, 4, 4) student
    float t_data[N * 8 * 2 * 2], t_grad[N * 8 * 2 * 2]; // (N, 8, 2, 2) teacher
    float logits[N * K], dlogits[N * K];                // (N, K)
    int32_t labels[N];
    float input[N * IN_C * IN_HW * IN_HW]; // (N, C, H, W)
    sfr_tap *ts, *tt, *net_tap;
    sfr_reg *reg;
    sfr_net *net, *net2, *net3;
    int built, built2, built3; /* builder calls done so far on net, net2 and net3 */
    sfr_tap *late[3];          /* net3's taps, asked for after compile */
    sfr_sgd *sgd;
    sfr_adamw *adamw;
    char path[64];
    float result[RESULT_MAX];
    int n_result;
};

typedef sfr_status (*step_fn)(struct world *w);

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < sizeof w->s_data / sizeof w->s_data[0]; i++)
        w->s_data[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
    for (size_t i = 0; i < sizeof w->t_data / sizeof w->t_data[0]; i++)
        w->t_data[i] = (float)((i * 53) % 29) / 13.0f - 1.0f;
    for (int i = 0; i < N * K; i++)
        w->logits[i] = (float)(i % 5) * 0.5f - 1.0f;
    for (int i = 0; i < N; i++)
        w->labels[i] = i % K;
    for (size_t i = 0; i < sizeof w->input / sizeof w->input[0]; i++)
        w->input[i] = (float)((i * 17) % 31) / 15.0f - 1.0f;
    snprintf(w->path, sizeof w->path, "/tmp/sfr-allocfail-%ld.ckpt", (long)getpid());
}

static void world_destroy(struct world *w)
{
    sfr_sgd_destroy(w->sgd);
    sfr_adamw_destroy(w->adamw);
    sfr_reg_destroy(w->reg);
    sfr_tap_destroy(w->ts);
    sfr_tap_destroy(w->tt);
    sfr_net_destroy(w->net);
    sfr_net_destroy(w->net2);
    sfr_net_destroy(w->net3);
    unlink(w->path);
    w->sgd = NULL;
    w->adamw = NULL;
    w->reg = NULL;
    w->ts = w->tt = w->net_tap = NULL;
    w->net = w->net2 = w->net3 = NULL;
    memset(w->late, 0, sizeof w->late);
}

static void record(struct world *w, const float *v, int64_t n)
{
    ck_assert_int_le(w->n_result + n, RESULT_MAX);
    memcpy(w->result + w->n_result, v, (size_t)n * sizeof *v);
    w->n_result += (int)n;
}

/* ---- the regularizer: taps, create, parameters, pairs, compute ---- */

static sfr_status wrap_student(struct world *w)
{
    const int64_t dims[4] = {N, 4, 4, 4};
    return sfr_tap_wrap(dims, w->s_data, w->s_grad, &w->ts);
}

static sfr_status wrap_teacher(struct world *w)
{
    const int64_t dims[4] = {N, 8, 2, 2};
    return sfr_tap_wrap(dims, w->t_data, w->t_grad, &w->tt);
}

static sfr_status reg_create(struct world *w)
{
    return sfr_reg_create(&w->reg);
}

static sfr_status reg_params(struct world *w)
{
    /* The `self` label source and a grid finer than the teacher's exercise
     * more of the workspace; the class-wise term allocates its partner list,
     * the last-batch term its stored batches. */
    sfr_status st = sfr_reg_set_param(w->reg, SFR_PARAM_LS_SOURCE, SFR_LS_SELF);
    if (st == SFR_OK)
        st = sfr_reg_set_param(w->reg, SFR_PARAM_TEACHER_GRAD, 1);
    if (st == SFR_OK)
        st = sfr_reg_set_param(w->reg, SFR_PARAM_CLASSWISE, 0.5);
    if (st == SFR_OK)
        st = sfr_reg_set_param(w->reg, SFR_PARAM_LAST_BATCH, 0.5);
    return st;
}

/* The ids of two batches that share a sample: the second's sample 0 is the
 * first's sample 1, and learns from it. */
static sfr_status reg_first_ids(struct world *w)
{
    const int64_t ids[N] = {0, 1};
    return sfr_reg_set_sample_ids(w->reg, ids, N);
}

static sfr_status reg_second_ids(struct world *w)
{
    const int64_t ids[N] = {1, 2};
    return sfr_reg_set_sample_ids(w->reg, ids, N);
}

static sfr_status reg_pair(struct world *w)
{
    return sfr_reg_add_pair(w->reg, w->ts, w->tt, 0.5, NULL);
}

static sfr_status reg_second_pair(struct world *w)
{
    return sfr_reg_add_pair(w->reg, w->ts, w->tt, 1.0, NULL);
}

static sfr_status reg_compute(struct world *w)
{
    double loss = 0;
    sfr_status st = sfr_reg_compute(w->reg, w->logits, w->labels, N, K, w->dlogits, &loss);
    if (st != SFR_OK)
        return st;
    float l = (float)loss;
    record(w, &l, 1);
    record(w, w->dlogits, N * K);
    record(w, w->s_grad, N * 4 * 4 * 4);
    record(w, w->t_grad, N * 8 * 2 * 2);
    return SFR_OK;
}

static const step_fn reg_chain[] = {wrap_student, wrap_teacher,    reg_create,
                                    reg_params,   reg_pair,        reg_second_pair,
                                    reg_first_ids, reg_compute,    reg_second_ids,
                                    reg_compute};

/* ---- the net: builder, compile, init, tap, forward, backward, SGD, save, load ---- */

/* One more builder call on net, *built being the number done: a repeated
 * call after a failure picks up where the failed one was. conv - bn - relu -
 * maxpool - conv - add (residual) - global pool - linear. */
static sfr_status build_next(sfr_net *net, int *built)
{
    int id = -1;
    sfr_status st;
    switch (*built) {
    case 0: st = sfr_net_input(net, IN_C, IN_HW, IN_HW, &id); break;
    case 1: st = sfr_net_conv2d(net, 0, 4, 3, 1, 1, 1, &id); break;
    case 2: st = sfr_net_batchnorm(net, 1, &id); break;
    case 3: st = sfr_net_relu(net, 2, &id); break;
    case 4: st = sfr_net_maxpool(net, 3, 2, 2, 0, &id); break;
    case 5: st = sfr_net_conv2d(net, 4, 4, 3, 1, 1, 0, &id); break;
    case 6: st = sfr_net_add(net, 4, 5, &id); break;
    case 7: st = sfr_net_global_avgpool(net, 6, &id); break;
    case 8: st = sfr_net_linear(net, 7, K, &id); break;
    default: return SFR_OK;
    }
    if (st == SFR_OK) {
        ck_assert_int_eq(id, *built);
        (*built)++;
    }
    return st;
}

/* The builder calls of net, then net2, one call per step. */
static sfr_status build1(struct world *w) { return build_next(w->net, &w->built); }
static sfr_status build2(struct world *w) { return build_next(w->net2, &w->built2); }

static sfr_status net_create(struct world *w) { return sfr_net_create(&w->net); }
static sfr_status net2_create(struct world *w) { return sfr_net_create(&w->net2); }
static sfr_status net_tap(struct world *w) { return sfr_net_tap(w->net, 3, &w->net_tap); }
static sfr_status net_compile(struct world *w) { return sfr_net_compile(w->net, N); }
static sfr_status net2_compile(struct world *w) { return sfr_net_compile(w->net2, N); }
static sfr_status net_init(struct world *w) { return sfr_net_init_params(w->net, 7); }
static sfr_status net_forward(struct world *w) { return sfr_net_forward(w->net, w->input, 1); }
static sfr_status sgd_create(struct world *w) { return sfr_sgd_create(&w->sgd, 0.1, 0.9, 1e-4, 1); }
static sfr_status sgd_step(struct world *w) { return sfr_sgd_step(w->sgd, w->net); }
static sfr_status adamw_create(struct world *w)
{
    return sfr_adamw_create(&w->adamw, 1e-3, 0.9, 0.999, 1e-8, 1e-2);
}
static sfr_status adamw_step(struct world *w) { return sfr_adamw_step(w->adamw, w->net); }
static sfr_status net_save(struct world *w) { return sfr_net_save(w->net, w->path); }
static sfr_status net2_load(struct world *w) { return sfr_net_load(w->net2, w->path); }

/* A backward from dlogits made of the logits, plain or accumulating. */
static sfr_status run_backward(struct world *w, int accumulate)
{
    const float *logits = NULL;
    int64_t dims[2];
    sfr_status st = sfr_net_output(w->net, &logits, dims);
    if (st != SFR_OK)
        return st;
    float dlogits[N * K];
    for (int i = 0; i < N * K; i++)
        dlogits[i] = logits[i] * 0.25f - (i % K == 0 ? 0.5f : 0.0f);
    return accumulate ? sfr_net_backward_accumulate(w->net, dlogits)
                      : sfr_net_backward(w->net, dlogits);
}

static sfr_status net_backward(struct world *w) { return run_backward(w, 0); }
static sfr_status net_backward_accumulate(struct world *w) { return run_backward(w, 1); }
static sfr_status net_zero_grads(struct world *w) { return sfr_net_zero_grads(w->net); }

/* The loaded net's parameters, its eval output, and the tap's data. */
static sfr_status measure(struct world *w)
{
    float *values = NULL, *grads = NULL;
    int64_t count = 0;
    sfr_status st = sfr_net_params(w->net2, &values, &grads, &count);
    if (st == SFR_OK)
        st = sfr_net_forward(w->net2, w->input, 0);
    const float *out = NULL, *tap = NULL;
    int64_t dims[2], tdims[4];
    if (st == SFR_OK)
        st = sfr_net_output(w->net2, &out, dims);
    if (st == SFR_OK)
        st = sfr_tap_data(w->net_tap, &tap);
    if (st == SFR_OK)
        st = sfr_tap_dims(w->net_tap, tdims);
    if (st != SFR_OK)
        return st;
    record(w, values, count);
    record(w, out, dims[0] * dims[1]);
    record(w, tap, tdims[0] * tdims[1] * tdims[2] * tdims[3]);
    return SFR_OK;
}

static const step_fn net_chain[] = {
    net_create,  build1,   build1,   build1,      build1,      net_tap,      build1,   build1,
    build1,      build1,   build1,   net_compile, net_init,    net_forward,  net_backward,
    net_backward_accumulate,  net_zero_grads,  net_backward_accumulate,
    sgd_create,  sgd_step, adamw_create, adamw_step, net_save, net2_create, build2, build2,
    build2,      build2,   build2,   build2,      build2,      build2,       build2,   net2_compile,
    net2_load,   measure};

/* ---- taps asked for after compile: bound at once, or by compiling again ---- */

/* One more builder call on net3: conv - BN - ReLU - conv - global pool -
 * linear, WIDE channels, which oneDNN keeps in a blocked layout (the taps'
 * blocked view on AVX-512 and AVX2 machines). */
static sfr_status build3(struct world *w)
{
    int id = -1;
    sfr_status st;
    switch (w->built3) {
    case 0: st = sfr_net_input(w->net3, IN_C, IN_HW, IN_HW, &id); break;
    case 1: st = sfr_net_conv2d(w->net3, 0, WIDE, 3, 1, 1, 0, &id); break;
    case 2: st = sfr_net_batchnorm(w->net3, 1, &id); break;
    case 3: st = sfr_net_relu(w->net3, 2, &id); break;
    case 4: st = sfr_net_conv2d(w->net3, 3, WIDE, 1, 1, 0, 1, &id); break;
    case 5: st = sfr_net_global_avgpool(w->net3, 4, &id); break;
    case 6: st = sfr_net_linear(w->net3, 5, K, &id); break;
    default: return SFR_OK;
    }
    if (st == SFR_OK) {
        ck_assert_int_eq(id, w->built3);
        w->built3++;
    }
    return st;
}

static sfr_status net3_create(struct world *w) { return sfr_net_create(&w->net3); }
static sfr_status net3_compile(struct world *w) { return sfr_net_compile(w->net3, N); }
static sfr_status net3_compile_1(struct world *w) { return sfr_net_compile(w->net3, 1); }
static sfr_status net3_init(struct world *w) { return sfr_net_init_params(w->net3, 5); }
static sfr_status net3_forward(struct world *w) { return sfr_net_forward(w->net3, w->input, 1); }
/* After a forward: bound at once (conv), by a compile again (the BN, whose
 * ReLU its primitive computes), bound at once (the last conv). */
static sfr_status tap_conv1(struct world *w)
{
    sfr_status st = sfr_net_tap(w->net3, 1, &w->late[0]);
    if (st == SFR_OK)   /* otherwise the blocked view would not be tested */
        ck_assert_ptr_nonnull(w->late[0]->blocked);
    return st;
}
static sfr_status tap_bn(struct world *w) { return sfr_net_tap(w->net3, 2, &w->late[1]); }
static sfr_status tap_conv2(struct world *w) { return sfr_net_tap(w->net3, 4, &w->late[2]); }

/* Every late tap's data, recorded. */
static sfr_status record_late_taps(struct world *w)
{
    for (int t = 0; t < 3; t++) {
        const float *data = NULL;
        int64_t d[4];
        sfr_status st = sfr_tap_dims(w->late[t], d);
        if (st == SFR_OK)
            st = sfr_tap_data(w->late[t], &data);
        if (st != SFR_OK)
            return st;
        record(w, data, d[0] * d[1] * d[2] * d[3]);
    }
    return SFR_OK;
}

/* A gradient written into every late tap, then backward: the parameter
 * gradients show whether the taps' gradients reached the layers. */
static sfr_status net3_backward_with_tap_grads(struct world *w)
{
    for (int t = 0; t < 3; t++) {
        float *g = NULL;
        int64_t d[4];
        sfr_status st = sfr_tap_grad(w->late[t], &g);
        if (st == SFR_OK)
            st = sfr_tap_dims(w->late[t], d);
        if (st != SFR_OK)
            return st;
        for (int64_t i = 0; i < d[0] * d[1] * d[2] * d[3]; i++)
            g[i] = (float)((i * 7 + t) % 13) / 13.0f - 0.5f;
    }
    float dlogits[N * K];
    for (int i = 0; i < N * K; i++)
        dlogits[i] = (float)(i % 4) * 0.25f - 0.5f;
    float *grads = NULL;
    int64_t count = 0;
    sfr_status st = sfr_net_backward(w->net3, dlogits);
    if (st == SFR_OK)
        st = sfr_net_params(w->net3, NULL, &grads, &count);
    if (st != SFR_OK)
        return st;
    record(w, grads, count);
    return SFR_OK;
}

static const step_fn late_tap_chain[] = {
    net3_create,      build3,           build3,    build3,         build3,
    build3,           build3,           build3,    net3_compile,   net3_init,
    net3_forward,     tap_conv1,        tap_bn,    net3_forward,   tap_conv2,
    record_late_taps, net3_backward_with_tap_grads, net3_compile_1, net3_forward,
    record_late_taps};

/* ---- the driver ---- */

/* Runs every step, all expected to succeed, and returns the allocations made. */
static long run_clean(const step_fn *steps, int n_steps, struct world *w)
{
    struct test_heap heap;
    world_init(w);
    test_heap_install(&heap, 0);
    for (int i = 0; i < n_steps; i++) {
        sfr_status st = steps[i](w);
        ck_assert_msg(st == SFR_OK, "step %d: %s", i, sfr_last_error());
    }
    long calls = atomic_load(&heap.calls);
    world_destroy(w);
    test_heap_uninstall(&heap);
    return calls;
}

/*
 * Fails the k-th allocation of the chain. With retry, a failed step is
 * repeated (it must succeed) and the chain's results must equal want;
 * without, the world is destroyed right after the failure. Returns the step
 * that failed, or -1 when the failed allocation did not fail any call.
 */
static int run_failing(const step_fn *steps, int n_steps, long k, int retry, const struct world *want)
{
    static struct world w;
    struct test_heap heap;
    world_init(&w);
    test_heap_install(&heap, 0);
    test_heap_fail_in(&heap, k);
    int failed_step = -1;
    for (int i = 0; i < n_steps; i++) {
        long failures = atomic_load(&heap.failed);
        sfr_status st = steps[i](&w);
        if (st == SFR_OK)
            continue;
        ck_assert_msg(st == SFR_ERR_NOMEM && atomic_load(&heap.failed) > failures,
                      "k = %ld, step %d: status %d (%s)", k, i, st, sfr_last_error());
        ck_assert_msg(strstr(sfr_last_error(), "sfr_") == sfr_last_error(),
                      "k = %ld, step %d: message '%s' does not name the function", k, i,
                      sfr_last_error());
        failed_step = i;
        if (!retry)
            break;
        st = steps[i](&w);
        ck_assert_msg(st == SFR_OK, "k = %ld, step %d repeated: %s", k, i, sfr_last_error());
    }
    ck_assert_int_eq(atomic_load(&heap.failed), 1);
    if (retry) {
        ck_assert_int_eq(w.n_result, want->n_result);
        ck_assert_msg(memcmp(w.result, want->result, (size_t)w.n_result * sizeof(float)) == 0,
                      "k = %ld: results differ from the run without failure", k);
    }
    world_destroy(&w);
    test_heap_uninstall(&heap); /* asserts every block came back */
    return failed_step;
}

static void fail_every_allocation(const step_fn *steps, int n_steps)
{
    static struct world want;
    ck_assert_int_eq(sfr_set_num_threads(1), SFR_OK);
    long total = run_clean(steps, n_steps, &want);
    ck_assert_int_gt(total, 0);
    int failing_calls = 0;
    for (long k = 1; k <= total; k++) {
        int a = run_failing(steps, n_steps, k, 1, &want);
        int b = run_failing(steps, n_steps, k, 0, &want);
        ck_assert_int_eq(a, b);
        failing_calls += a >= 0;
    }
    /* Every allocation of the chain belongs to a call that reports its failure. */
    ck_assert_int_eq(failing_calls, total);
}

START_TEST(regularizer_survives_every_allocation_failure)
{
    fail_every_allocation(reg_chain, (int)(sizeof reg_chain / sizeof reg_chain[0]));
}
END_TEST

START_TEST(net_optimizers_and_checkpoints_survive_every_allocation_failure)
{
    fail_every_allocation(net_chain, (int)(sizeof net_chain / sizeof net_chain[0]));
}
END_TEST

START_TEST(taps_asked_after_compile_survive_every_allocation_failure)
{
    fail_every_allocation(late_tap_chain, (int)(sizeof late_tap_chain / sizeof late_tap_chain[0]));
}
END_TEST

START_TEST(allocator_changes_only_when_nothing_is_allocated)
{
    struct test_heap heap;
    test_heap_install(&heap, 0);
    sfr_reg *reg = NULL;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(atomic_load(&heap.live), 1);
    ck_assert_int_eq(sfr_set_allocator(NULL, NULL, NULL), SFR_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(sfr_last_error(), "sfr_set_allocator"));
    /* Still the test heap: the destroy gives the block back to it. */
    sfr_reg_destroy(reg);
    ck_assert_int_eq(atomic_load(&heap.live), 0);
    test_heap_uninstall(&heap);
}
END_TEST

static void *never_alloc(size_t size, size_t alignment, void *user)
{
    (void)size, (void)alignment, (void)user;
    return NULL;
}

static void never_free(void *ptr, void *user)
{
    (void)ptr, (void)user;
    ck_abort_msg("never_free called");
}

START_TEST(allocator_pair_must_be_complete)
{
    ck_assert_int_eq(sfr_set_allocator(never_alloc, NULL, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_set_allocator(NULL, never_free, NULL), SFR_ERR_INVALID_ARG);
    /* Neither took effect: creation still succeeds with malloc. */
    sfr_reg *reg = NULL;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    sfr_reg_destroy(reg);
    /* An allocator that always fails: create reports it and writes nothing. */
    ck_assert_int_eq(sfr_set_allocator(never_alloc, never_free, NULL), SFR_OK);
    reg = (sfr_reg *)&reg;
    sfr_reg *before = reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_ERR_NOMEM);
    ck_assert_ptr_eq(reg, before);
    ck_assert_int_eq(sfr_set_allocator(NULL, NULL, NULL), SFR_OK);
}
END_TEST

Suite *alloc_fail_suite(void)
{
    Suite *s = suite_create("alloc_fail");
    TCase *tc = tcase_create("hook");
    tcase_add_test(tc, allocator_changes_only_when_nothing_is_allocated);
    tcase_add_test(tc, allocator_pair_must_be_complete);
    suite_add_tcase(s, tc);
    tc = tcase_create("every_k");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, regularizer_survives_every_allocation_failure);
    tcase_add_test(tc, net_optimizers_and_checkpoints_survive_every_allocation_failure);
    tcase_add_test(tc, taps_asked_after_compile_survive_every_allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}
