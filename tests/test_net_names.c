/*
 * Layer names: defaults, renaming and the tensors' names that follow, lookup,
 * the rules on names; and the buffers (batch norm's running statistics) with
 * their names, offsets and values as a training forward leaves them.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "sfr/sfr.h"

/* input 2x4x4 - conv 3 (bias) - BN - ReLU - conv 2 - BN - GAP - linear 2. */
static sfr_net *small_net(void)
{
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 4, 4, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 3, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 2, 1, 1, 0, 0, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, id, 2, &id), SFR_OK);
    return net;
}

static const char *param_name(const sfr_net *net, int i)
{
    const char *name = NULL;
    ck_assert_int_eq(sfr_net_param_info(net, i, &name, NULL, NULL), SFR_OK);
    return name;
}

START_TEST(names_default_rename_and_follow_into_tensors)
{
    sfr_net *net = small_net();
    const char *name;
    ck_assert_int_eq(sfr_net_layer_name(net, 2, &name), SFR_OK);
    ck_assert_str_eq(name, "layer2");
    ck_assert_str_eq(param_name(net, 0), "layer1.weight");
    ck_assert_int_eq(sfr_net_set_layer_name(net, 1, "features.0"), SFR_OK);
    ck_assert_int_eq(sfr_net_set_layer_name(net, 2, "features.1"), SFR_OK);
    ck_assert_str_eq(param_name(net, 0), "features.0.weight");
    ck_assert_str_eq(param_name(net, 1), "features.0.bias");
    ck_assert_str_eq(param_name(net, 2), "features.1.weight");
    ck_assert_str_eq(param_name(net, 3), "features.1.bias");
    ck_assert_str_eq(param_name(net, 4), "layer4.weight");
    int id = -1;
    ck_assert_int_eq(sfr_net_find_layer(net, "features.1", &id), SFR_OK);
    ck_assert_int_eq(id, 2);
    ck_assert_int_eq(sfr_net_find_layer(net, "layer7", &id), SFR_OK);
    ck_assert_int_eq(id, 7);
    /* Renaming a layer to its own name is fine; a taken one is not. */
    ck_assert_int_eq(sfr_net_set_layer_name(net, 2, "features.1"), SFR_OK);
    ck_assert_int_eq(sfr_net_set_layer_name(net, 3, "features.0"), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_set_layer_name: layer 1 is already called 'features.0'");
    ck_assert_int_eq(sfr_net_set_layer_name(net, 3, "layer5"), SFR_ERR_INVALID_ARG);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(bad_names_and_lookups_change_nothing)
{
    sfr_net *net = small_net();
    static const char *const bad[] = {"", "has space", "slash/", "tab\t",
                                      "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(sfr_net_set_layer_name(net, 1, bad[i]), SFR_ERR_INVALID_ARG);
        ck_assert_str_eq(sfr_last_error(), "sfr_net_set_layer_name: a name is 1 to 63 letters, "
                                           "digits, '_', '.' or '-'");
    }
    ck_assert_int_eq(sfr_net_set_layer_name(net, 1, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_set_layer_name(net, 99, "x"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_set_layer_name(NULL, 1, "x"), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(param_name(net, 0), "layer1.weight");
    int id = -5;
    ck_assert_int_eq(sfr_net_find_layer(net, "nope", &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_find_layer: no layer is called 'nope'");
    ck_assert_int_eq(sfr_net_find_layer(net, NULL, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_find_layer(net, "layer1", NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, -5);
    const char *name = "unchanged";
    ck_assert_int_eq(sfr_net_layer_name(net, -1, &name), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(name, "unchanged");
    uint32_t dead = 0xDEADF00Du;
    ck_assert_int_eq(sfr_net_layer_name((sfr_net *)&dead, 0, &name), SFR_ERR_MISUSE);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(buffers_are_the_running_statistics)
{
    sfr_net *net = small_net();
    ck_assert_int_eq(sfr_net_set_layer_name(net, 2, "bn1"), SFR_OK);
    int count = 0;
    ck_assert_int_eq(sfr_net_buffer_tensors(net, &count), SFR_OK);
    ck_assert_int_eq(count, 4);
    static const char *const names[4] = {"bn1.running_mean", "bn1.running_var",
                                         "layer5.running_mean", "layer5.running_var"};
    static const int64_t offsets[4] = {0, 3, 6, 8}, sizes[4] = {3, 3, 2, 2};
    for (int i = 0; i < 4; i++) {
        const char *name;
        int64_t off, size;
        ck_assert_int_eq(sfr_net_buffer_info(net, i, &name, &off, &size), SFR_OK);
        ck_assert_str_eq(name, names[i]);
        ck_assert_int_eq(off, offsets[i]);
        ck_assert_int_eq(size, sizes[i]);
    }
    ck_assert_int_eq(sfr_net_buffer_info(net, 4, NULL, NULL, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_buffer_tensors(net, NULL), SFR_ERR_INVALID_ARG);
    float *values;
    int64_t n;
    ck_assert_int_eq(sfr_net_buffers(net, &values, &n), SFR_OK);
    ck_assert_int_eq(n, 10);
    /* Mean 0, variance 1 at first; a training forward moves them by
     * momentum 0.1 toward the batch's (a constant input: the first BN's
     * input is the conv's bias per channel, its batch variance 0). */
    for (int c = 0; c < 3; c++)
        ck_assert(values[c] == 0.0f && values[3 + c] == 1.0f);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 1), SFR_OK);
    float *params;
    ck_assert_int_eq(sfr_net_params(net, &params, NULL, NULL), SFR_OK);
    memset(params, 0, 3 * 2 * 9 * sizeof(float)); /* conv weights 0: its output is its bias */
    float x[2 * 2 * 4 * 4];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i;
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq_tol(values[c], 0.1f * params[54 + c], 1e-6f);
        ck_assert_float_eq_tol(values[3 + c], 0.9f, 1e-6f);
    }
    sfr_net_destroy(net);
}
END_TEST

Suite *net_names_suite(void)
{
    Suite *s = suite_create("net_names");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, names_default_rename_and_follow_into_tensors);
    tcase_add_test(tc, bad_names_and_lookups_change_nothing);
    tcase_add_test(tc, buffers_are_the_running_statistics);
    suite_add_tcase(s, tc);
    return s;
}
