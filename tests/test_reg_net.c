/*
 * The regularizer on a net: sfr_reg_compute_net takes the logits and their
 * shape from the net (a host cannot pass a K that overruns its buffers), and
 * a compute on net taps before any forward is a state error, not a loss of 0.
 */
#include "reg_fixture.h"

enum { N = 3, K = 4, IN = 6 };

struct small_net {
    sfr_net *net;
    sfr_tap *student, *teacher;   /* 4 x 6 x 6, 8 x 3 x 3 */
    float input[N * IN * IN];
};

/* input 1x6x6 -> conv 4 -> ReLU (student) -> conv 8 /2 -> ReLU (teacher)
 * -> global pool -> linear K, compiled for N. */
static void small_net_make(struct small_net *s)
{
    int x, c1, r1, c2, r2, gap, fc;
    ck_assert_int_eq(sfr_net_create(&s->net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(s->net, 1, IN, IN, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(s->net, x, 4, 3, 1, 1, 1, &c1), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(s->net, c1, &r1), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(s->net, r1, 8, 3, 2, 1, 1, &c2), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(s->net, c2, &r2), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(s->net, r2, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(s->net, gap, K, &fc), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(s->net, r1, &s->student), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(s->net, r2, &s->teacher), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(s->net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(s->net, 5), SFR_OK);
    fx_fill(s->input, N * IN * IN, 0);
}

START_TEST(compute_on_net_taps_before_a_forward_is_a_state_error)
{
    fx_seed(71);
    struct small_net s;
    small_net_make(&s);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s.student, s.teacher, 1, NULL), SFR_OK);
    int32_t y[N] = {0, 3, 1};
    float dz[N * K];
    memset(dz, 0x5A, sizeof dz);
    double loss = -7;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_reg_compute_net(reg, s.net, y, dz, &loss), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute_net: the net has no output: run "
                                       "sfr_net_forward first");
    ck_assert(loss == -7);
    for (int i = 0; i < N * K; i++)
        ck_assert_uint_eq(((unsigned char *)dz)[4 * i], 0x5A);
    ck_assert_int_eq(sfr_net_forward(s.net, s.input, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert(loss > 0);
    /* A recompile empties the outputs again. */
    ck_assert_int_eq(sfr_net_compile(s.net, N), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_STATE);
    sfr_reg_destroy(reg);
    sfr_net_destroy(s.net);
}
END_TEST

START_TEST(compute_net_is_compute_on_the_net_output)
{
    fx_seed(72);
    struct small_net s;
    small_net_make(&s);
    sfr_reg *a, *b;
    ck_assert_int_eq(sfr_reg_create(&a), SFR_OK);
    ck_assert_int_eq(sfr_reg_create(&b), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(a, s.student, s.teacher, 0.5, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(b, s.student, s.teacher, 0.5, NULL), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(s.net, s.input, 1), SFR_OK);
    const float *logits;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_output(s.net, &logits, dims), SFR_OK);
    ck_assert(dims[0] == N && dims[1] == K);
    int32_t y[N] = {2, 0, 3};
    /* Sentinels after the N x K gradient: nothing past it is written. */
    float dz[N * K + 4], want[N * K];
    for (int i = 0; i < N * K + 4; i++)
        dz[i] = -99;
    double loss = 0, want_loss = 0;
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, y, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(b, logits, y, N, K, want, &want_loss), SFR_OK);
    ck_assert(loss == want_loss && loss > 0);
    ck_assert(memcmp(dz, want, sizeof want) == 0);
    for (int i = N * K; i < N * K + 4; i++)
        ck_assert(dz[i] == -99);
    /* Its argument errors, nothing written. */
    float keep[N * K + 4];
    memcpy(keep, dz, sizeof dz);
    loss = -7;
    ck_assert_int_eq(sfr_reg_compute_net(a, NULL, y, dz, &loss), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_compute_net(a, (sfr_net *)s.student, y, dz, &loss), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, NULL, dz, &loss), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, y, NULL, &loss), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, y, (float *)logits + 1, &loss),
                     SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, y, dz, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_compute_net(NULL, s.net, y, dz, &loss), SFR_ERR_INVALID_ARG);
    int32_t bad_y[N] = {0, K, 1};
    ck_assert_int_eq(sfr_reg_compute_net(a, s.net, bad_y, dz, &loss), SFR_ERR_INVALID_ARG);
    ck_assert(loss == -7);
    ck_assert(memcmp(keep, dz, sizeof dz) == 0);
    sfr_reg_destroy(a);
    sfr_reg_destroy(b);
    sfr_net_destroy(s.net);
}
END_TEST

Suite *reg_net_suite(void)
{
    Suite *s = suite_create("reg_net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, compute_on_net_taps_before_a_forward_is_a_state_error);
    tcase_add_test(tc, compute_net_is_compute_on_the_net_output);
    suite_add_tcase(s, tc);
    return s;
}
