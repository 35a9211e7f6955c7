/*
 * Threads: four workers, each with its own tiny ResNet, regularizer and
 * optimizer, train 50 steps on their own synthetic data at the same time;
 * every loss and every final parameter equals, bitwise, the same four runs
 * made one after the other. Each worker uses one OpenMP thread in both runs,
 * so the arithmetic is the same and any difference is shared state.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

enum { WORKERS = 4, STEPS = 50, N = 8, K = 5, HW = 8, MAX_PARAMS = 8192 };

struct run {
    int worker;
    sfr_status status;
    char error[256];
    double loss[STEPS];
    float params[MAX_PARAMS];
    int64_t n_params;
};

/* A value in [-1, 1) from (seed, i), for synthetic images. */
static float synth(uint64_t seed, uint64_t i)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
    x ^= x >> 31;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 29;
    return (float)(x >> 40) / (float)(1u << 23) - 1.0f;
}

#define TRY(call)                 \
    do {                          \
        st = (call);              \
        if (st != SFR_OK)         \
            goto done;            \
    } while (0)

/* stem conv3x3(1->4) - BN - ReLU, BasicBlock(4, 8, 2), global pool, linear K;
 * SFR pair (stem, block); SGD with momentum; 50 steps. */
static void train(struct run *r)
{
    sfr_net *net = NULL;
    sfr_reg *reg = NULL;
    sfr_sgd *sgd = NULL;
    sfr_tap *stem_tap = NULL, *block_tap = NULL;
    sfr_status st;
    int x, c, b, stem, block, gap, out;
    float images[N * HW * HW], dlogits[N * K]; // (N, 1, H, W), (N, K)
    int32_t labels[N];
    TRY(sfr_set_num_threads(1));
    TRY(sfr_net_create(&net));
    TRY(sfr_net_input(net, 1, HW, HW, &x));
    TRY(sfr_net_conv2d(net, x, 4, 3, 1, 1, 0, &c));
    TRY(sfr_net_batchnorm(net, c, &b));
    TRY(sfr_net_relu(net, b, &stem));
    TRY(sfr_ref_basic_block(net, stem, 4, 8, 2, &block));
    TRY(sfr_net_global_avgpool(net, block, &gap));
    TRY(sfr_net_linear(net, gap, K, &out));
    TRY(sfr_net_compile(net, N));
    TRY(sfr_net_init_params(net, 100 + (uint64_t)r->worker));
    TRY(sfr_net_tap(net, stem, &stem_tap));
    TRY(sfr_net_tap(net, block, &block_tap));
    TRY(sfr_reg_create(&reg));
    TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, SFR_LS_SELF));
    TRY(sfr_reg_add_pair(reg, stem_tap, block_tap, 1.0, NULL));
    TRY(sfr_sgd_create(&sgd, 0.05, 0.9, 5e-4, 0));
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < N * HW * HW; i++)
            images[i] = synth((uint64_t)(r->worker * STEPS + step), (uint64_t)i);
        for (int i = 0; i < N; i++)
            labels[i] = (int32_t)((step + i + r->worker) % K);
        const float *logits = NULL;
        int64_t dims[2];
        TRY(sfr_reg_set_progress(reg, (double)step / STEPS));
        TRY(sfr_net_forward(net, images, 1));
        TRY(sfr_net_output(net, &logits, dims));
        TRY(sfr_reg_compute(reg, logits, labels, N, K, dlogits, &r->loss[step]));
        TRY(sfr_net_backward(net, dlogits));
        TRY(sfr_sgd_step(sgd, net));
    }
    float *values = NULL, *grads = NULL;
    TRY(sfr_net_params(net, &values, &grads, &r->n_params));
    if (r->n_params > MAX_PARAMS) {
        st = SFR_ERR_SHAPE;
        goto done;
    }
    memcpy(r->params, values, (size_t)r->n_params * sizeof *values);
done:
    r->status = st;
    if (st != SFR_OK)
        strncpy(r->error, sfr_last_error(), sizeof r->error - 1);
    sfr_sgd_destroy(sgd);
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
}

static void *train_thread(void *arg)
{
    train(arg);
    return NULL;
}

START_TEST(four_threads_equal_sequential_runs)
{
    static struct run seq[WORKERS], par[WORKERS];
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    for (int w = 0; w < WORKERS; w++) {
        seq[w].worker = par[w].worker = w;
        train(&seq[w]);
        ck_assert_msg(seq[w].status == SFR_OK, "sequential worker %d: %s", w, seq[w].error);
    }
    pthread_t t[WORKERS];
    for (int w = 0; w < WORKERS; w++)
        ck_assert_int_eq(pthread_create(&t[w], NULL, train_thread, &par[w]), 0);
    for (int w = 0; w < WORKERS; w++)
        ck_assert_int_eq(pthread_join(t[w], NULL), 0);
    for (int w = 0; w < WORKERS; w++) {
        ck_assert_msg(par[w].status == SFR_OK, "thread %d: %s", w, par[w].error);
        ck_assert_msg(memcmp(par[w].loss, seq[w].loss, sizeof seq[w].loss) == 0,
                      "worker %d: losses differ (last %.17g vs %.17g)", w, par[w].loss[STEPS - 1],
                      seq[w].loss[STEPS - 1]);
        ck_assert_int_eq(par[w].n_params, seq[w].n_params);
        ck_assert_msg(memcmp(par[w].params, seq[w].params,
                             (size_t)seq[w].n_params * sizeof(float)) == 0,
                      "worker %d: parameters differ", w);
    }
    /* The workers really are different runs that trained. */
    ck_assert_msg(memcmp(seq[0].params, seq[1].params, (size_t)seq[0].n_params * sizeof(float)) != 0,
                  "workers 0 and 1 ended equal");
    ck_assert_msg(seq[0].loss[STEPS - 1] != seq[0].loss[0], "the loss never moved");
}
END_TEST

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("workers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, four_threads_equal_sequential_runs);
    suite_add_tcase(s, tc);
    return s;
}
