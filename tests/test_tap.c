/* Taps: wrap, rebind, accessors and destroy, with every argument error. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "sfr/sfr.h"
#include "tap/tap.h"

START_TEST(wrap_and_accessors)
{
    float data[2 * 3 * 4 * 5] = {0}, grad[2 * 3 * 4 * 5] = {0};
    int64_t dims[4] = {2, 3, 4, 5}, got[4];
    sfr_tap *tap;
    ck_assert_int_eq(sfr_tap_wrap(dims, data, grad, &tap), SFR_OK);
    ck_assert_int_eq(sfr_tap_dims(tap, got), SFR_OK);
    ck_assert(memcmp(got, dims, sizeof dims) == 0);
    const float *d;
    float *g;
    ck_assert_int_eq(sfr_tap_data(tap, &d), SFR_OK);
    ck_assert_ptr_eq(d, data);
    ck_assert_int_eq(sfr_tap_grad(tap, &g), SFR_OK);
    ck_assert_ptr_eq(g, grad);
    ck_assert_int_eq(sfri_tap_numel(tap), 120);
    /* Rebind to other buffers, grad may be NULL. */
    float other[120] = {0};
    ck_assert_int_eq(sfr_tap_rebind(tap, other, NULL), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(tap, &d), SFR_OK);
    ck_assert_ptr_eq(d, other);
    ck_assert_int_eq(sfr_tap_grad(tap, &g), SFR_OK);
    ck_assert_ptr_null(g);
    sfr_tap_destroy(tap);
    sfr_tap_destroy(NULL);
}
END_TEST

START_TEST(wrap_errors_write_nothing)
{
    float data[4] = {0};
    int64_t dims[4] = {1, 1, 2, 2};
    sfr_tap *sentinel = (sfr_tap *)(uintptr_t)0x1234, *out = sentinel;
    ck_assert_int_eq(sfr_tap_wrap(NULL, data, NULL, &out), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_tap_wrap: dims is NULL");
    ck_assert_int_eq(sfr_tap_wrap(dims, NULL, NULL, &out), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_wrap(dims, data, NULL, NULL), SFR_ERR_INVALID_ARG);
    for (int i = 0; i < 4; i++) {
        int64_t bad[4] = {1, 1, 2, 2};
        bad[i] = i % 2 ? 0 : -3;
        ck_assert_int_eq(sfr_tap_wrap(bad, data, NULL, &out), SFR_ERR_SHAPE);
    }
    int64_t huge[4] = {INT64_MAX / 2, 4, 4, 4};
    ck_assert_int_eq(sfr_tap_wrap(huge, data, NULL, &out), SFR_ERR_SHAPE);
    ck_assert_ptr_eq(out, sentinel);
}
END_TEST

START_TEST(accessor_errors_write_nothing)
{
    float data[4] = {0};
    int64_t dims[4] = {1, 1, 2, 2}, got[4] = {9, 9, 9, 9};
    sfr_tap *tap;
    ck_assert_int_eq(sfr_tap_wrap(dims, data, NULL, &tap), SFR_OK);
    const float *d = (const float *)(uintptr_t)0x99;
    float *g = (float *)(uintptr_t)0x99;
    ck_assert_int_eq(sfr_tap_dims(NULL, got), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_dims(tap, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_data(NULL, &d), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_data(tap, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_grad(NULL, &g), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_grad(tap, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_rebind(NULL, data, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_tap_rebind(tap, NULL, NULL), SFR_ERR_INVALID_ARG);
    /* A dead or foreign handle. */
    uint32_t dead[16] = {SFRI_MAGIC_DEAD}, reg_word[16] = {SFRI_MAGIC_REG};
    ck_assert_int_eq(sfr_tap_dims((sfr_tap *)dead, got), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_tap_data((sfr_tap *)reg_word, &d), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_tap_grad((sfr_tap *)dead, &g), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_tap_rebind((sfr_tap *)dead, data, NULL), SFR_ERR_MISUSE);
    sfr_tap_destroy((sfr_tap *)reg_word);   /* not a tap: ignored */
    ck_assert_uint_eq(reg_word[0], SFRI_MAGIC_REG);
    ck_assert(got[0] == 9 && got[3] == 9);
    ck_assert_ptr_eq(d, (const float *)(uintptr_t)0x99);
    ck_assert_ptr_eq(g, (float *)(uintptr_t)0x99);
    /* The tap is untouched by the failed rebind. */
    const float *now;
    ck_assert_int_eq(sfr_tap_data(tap, &now), SFR_OK);
    ck_assert_ptr_eq(now, data);
    sfr_tap_destroy(tap);
}
END_TEST

START_TEST(net_owned_tap)
{
    int net_stub;
    sfr_tap *tap = sfri_tap_new_owned((struct sfr_net *)&net_stub, 4);
    ck_assert_ptr_nonnull(tap);
    int64_t got[4] = {9, 9, 9, 9};
    const float *d = NULL;
    float *g = NULL;
    /* Before compile: no buffers. */
    ck_assert_int_eq(sfr_tap_dims(tap, got), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_tap_dims: tap of layer 4 has no buffers: compile the net first");
    ck_assert_int_eq(sfr_tap_data(tap, &d), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_tap_grad(tap, &g), SFR_ERR_STATE);
    ck_assert(got[0] == 9 && d == NULL && g == NULL);
    float data[4] = {0};
    ck_assert_int_eq(sfr_tap_rebind(tap, data, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_null(tap->data);
    /* Destroy ignores a net's tap; the net frees it. */
    sfr_tap_destroy(tap);
    ck_assert_uint_eq(tap->magic, SFRI_MAGIC_TAP);
    sfri_tap_free_owned(tap);
    sfri_tap_free_owned(NULL);
}
END_TEST

Suite *tap_suite(void)
{
    Suite *s = suite_create("tap");
    TCase *tc = tcase_create("tap");
    tcase_add_test(tc, wrap_and_accessors);
    tcase_add_test(tc, wrap_errors_write_nothing);
    tcase_add_test(tc, accessor_errors_write_nothing);
    tcase_add_test(tc, net_owned_tap);
    suite_add_tcase(s, tc);
    return s;
}
