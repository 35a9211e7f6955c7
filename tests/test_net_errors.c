/* Misuse of every net function: the exact status, and nothing written. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sfr/sfr.h"

#define UNTOUCHED 12345

static sfr_net *with_input(int *x)
{
    sfr_net *net;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 5, 5, x), SFR_OK);
    return net;
}

START_TEST(builder_rejects_bad_arguments_and_writes_no_id)
{
    int x, id = UNTOUCHED;
    sfr_net *net = with_input(&x);
    int64_t np_before;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np_before), SFR_OK);

    ck_assert_int_eq(sfr_net_create(NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_input(NULL, 1, 1, 1, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_input(net, 1, 1, 1, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_input(net, 1, 1, 1, &id), SFR_ERR_STATE); /* a second input */
    ck_assert_int_eq(sfr_net_conv2d(net, 7, 4, 3, 1, 1, 0, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_conv2d(net, -1, 4, 3, 1, 1, 0, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 0, 3, 1, 1, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 0, 1, 0, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 0, 1, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 1, -1, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 1, 3, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 8, 1, 1, 0, &id), SFR_ERR_SHAPE); /* 8 > 5 + 2 */
    ck_assert_int_eq(sfr_net_batchnorm(net, 3, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_relu(net, 3, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_maxpool(net, x, 3, 1, 2, &id), SFR_ERR_SHAPE); /* pad > kernel/2 */
    ck_assert_int_eq(sfr_net_maxpool(net, x, 6, 1, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_maxpool(net, x, 2, 0, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_avgpool(net, x, 0, 1, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_avgpool(net, x, 2, 1, 2, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_global_avgpool(net, 1, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_linear(net, x, 0, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_linear(net, 9, 3, &id), SFR_ERR_INVALID_ARG);
    int pooled;
    ck_assert_int_eq(sfr_net_maxpool(net, x, 2, 2, 0, &pooled), SFR_OK);
    ck_assert_int_eq(sfr_net_add(net, x, pooled, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_add(net, x, 42, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, UNTOUCHED);
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    ck_assert_int_eq(np, np_before);
    ck_assert_ptr_ne(strstr(sfr_last_error(), "sfr_net_add"), NULL);

    /* Building after compile. */
    ck_assert_int_eq(sfr_net_compile(net, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, x, &id), SFR_ERR_STATE);
    ck_assert_int_eq(id, UNTOUCHED);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(before_compile_and_bad_calls_are_refused)
{
    sfr_net *empty;
    ck_assert_int_eq(sfr_net_create(&empty), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(empty, 2), SFR_ERR_STATE);
    sfr_net_destroy(empty);

    int x, fc;
    sfr_net *net = with_input(&x);
    ck_assert_int_eq(sfr_net_linear(net, x, 3, &fc), SFR_OK);
    float in[2 * 50] = {0}, dl[6] = {0};
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_ERR_STATE);
    const float *logits = (const float *)&x;
    int64_t dims[2] = {UNTOUCHED, UNTOUCHED};
    ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_compile(net, 0), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_compile(net, -3), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_compile(NULL, 2), SFR_ERR_INVALID_ARG);

    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_ERR_STATE); /* no forward yet */
    ck_assert_int_eq(sfr_net_forward(net, NULL, 1), SFR_ERR_INVALID_ARG);
    in[17] = NAN;
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_ERR_NONFINITE);
    in[17] = INFINITY;
    ck_assert_int_eq(sfr_net_forward(net, in, 0), SFR_ERR_NONFINITE);
    ck_assert_ptr_eq(logits, (const float *)&x);
    ck_assert_int_eq(dims[0], UNTOUCHED);
    in[17] = 0;
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, NULL, dims), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_output(net, &logits, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_backward(net, NULL), SFR_ERR_INVALID_ARG);
    float *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, &g, &np), SFR_OK);
    dl[4] = NAN;
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_ERR_NONFINITE);
    for (int64_t i = 0; i < np; i++)
        ck_assert_float_eq(g[i], 0.0f); /* nothing written */
    sfr_net_destroy(net);
}
END_TEST

START_TEST(tap_and_param_queries_reject_bad_arguments)
{
    int x, c;
    sfr_net *net = with_input(&x);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 3, 3, 1, 1, 1, &c), SFR_OK);
    sfr_tap *tap = (sfr_tap *)&x;
    ck_assert_int_eq(sfr_net_tap(net, 5, &tap), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_tap(net, -1, &tap), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_tap(net, c, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_tap(NULL, c, &tap), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_eq(tap, (sfr_tap *)&x);
    ck_assert_int_eq(sfr_net_tap(net, c, &tap), SFR_OK);
    sfr_tap_destroy(tap); /* a net's tap: a no-op */
    sfr_tap *again;
    ck_assert_int_eq(sfr_net_tap(net, c, &again), SFR_OK);
    ck_assert_ptr_eq(again, tap);

    int count = UNTOUCHED;
    ck_assert_int_eq(sfr_net_param_tensors(net, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_param_tensors(NULL, &count), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(count, UNTOUCHED);
    ck_assert_int_eq(sfr_net_param_tensors(net, &count), SFR_OK);
    ck_assert_int_eq(count, 2);
    const char *name = "untouched";
    int64_t off = UNTOUCHED, size = UNTOUCHED;
    ck_assert_int_eq(sfr_net_param_info(net, 2, &name, &off, &size), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_param_info(net, -1, &name, &off, &size), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(name, "untouched");
    ck_assert_int_eq(off, UNTOUCHED);
    ck_assert_int_eq(size, UNTOUCHED);
    ck_assert_int_eq(sfr_net_param_info(net, 1, &name, &off, &size), SFR_OK);
    ck_assert_str_eq(name, "layer1.bias");
    ck_assert_int_eq(off, 54);
    ck_assert_int_eq(size, 3);
    ck_assert_int_eq(sfr_net_param_info(net, 0, NULL, NULL, NULL), SFR_OK);
    ck_assert_int_eq(sfr_net_params(NULL, NULL, NULL, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_init_params(NULL, 1), SFR_ERR_INVALID_ARG);
    sfr_net_destroy(net);
    sfr_net_destroy(NULL);
}
END_TEST

/* Another kind of handle passed as a net (a destroyed net takes the same
 * path, through its dead magic word, but reading freed memory is undefined). */
START_TEST(a_foreign_handle_is_misuse)
{
    int id = UNTOUCHED;
    int64_t dims[4] = {1, 1, 1, 1};
    float data[1] = {0};
    sfr_tap *tap;
    ck_assert_int_eq(sfr_tap_wrap(dims, data, NULL, &tap), SFR_OK);
    sfr_net *foreign = (sfr_net *)tap;
    ck_assert_int_eq(sfr_net_relu(foreign, 0, &id), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_compile(foreign, 1), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_forward(foreign, data, 1), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_backward(foreign, data), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_params(foreign, NULL, NULL, NULL), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_init_params(foreign, 1), SFR_ERR_MISUSE);
    sfr_tap *t;
    ck_assert_int_eq(sfr_net_tap(foreign, 0, &t), SFR_ERR_MISUSE);
    ck_assert_int_eq(id, UNTOUCHED);
    sfr_net_destroy(foreign); /* not a net: ignored */
    sfr_tap_destroy(tap);
}
END_TEST

Suite *net_errors_suite(void)
{
    Suite *s = suite_create("net_errors");
    TCase *tc = tcase_create("misuse");
    tcase_add_test(tc, builder_rejects_bad_arguments_and_writes_no_id);
    tcase_add_test(tc, before_compile_and_bad_calls_are_refused);
    tcase_add_test(tc, tap_and_param_queries_reject_bad_arguments);
    tcase_add_test(tc, a_foreign_handle_is_misuse);
    suite_add_tcase(s, tc);
    return s;
}
