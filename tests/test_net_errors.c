/* Misuse of every net function: the exact status, and nothing written. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net_impl.h"
#include "sfr/sfr.h"
#include "test_heap.h"

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


/* The case: every size of this conv overflowed 32 bits (and its
 * weight count 64), the builder accepted it with a negative parameter count
 * and sfr_net_init_params wrote out of bounds. */
START_TEST(huge_conv_is_refused_before_any_size_overflows)
{
    int x, id = UNTOUCHED;
    sfr_net *net = with_input(&x);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, INT_MAX, 1, INT_MAX - 1, 1, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(id, UNTOUCHED);
    int64_t np = -1;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    ck_assert_int_eq(np, 0);
    ck_assert_int_eq(sfr_net_init_params(net, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, INT_MAX, INT_MAX, INT_MAX, &id), SFR_ERR_STATE);
    sfr_net_destroy(net);
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, INT_MAX, INT_MAX, INT_MAX, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_input(net, 65536, 65536, 2, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(id, UNTOUCHED);
    sfr_net_destroy(net);
}
END_TEST

/* An allocator that refuses blocks over BLOCK_CAP bytes: layers the rule
 * accepts but whose parameters would take gigabytes give SFR_ERR_NOMEM
 * instead of taking them. */
#define BLOCK_CAP ((size_t)64 << 20)

static void *capped_alloc(size_t size, size_t alignment, void *user)
{
    (void)user;
    void *p = NULL;
    return size > BLOCK_CAP || posix_memalign(&p, alignment, size) != 0 ? NULL : p;
}

static void capped_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/* Host values from one end of int to the other, and around the limits. */
static const int extremes[] = {INT_MIN, -1, 0, 1, 2, 3, 5, 6, 7, 32767, 65535,
                               INT_MAX / 2, INT_MAX - 1, INT_MAX};
#define N_EXTREMES ((int)(sizeof extremes / sizeof extremes[0]))

/* Largest per-sample tensor and parameter tensor (net.h: 2^31 - 1 elements). */
#define LIMIT ((__int128)INT_MAX)

/* The documented window rule along one axis, in 128-bit arithmetic:
 * the output size, or -1 when the builder must refuse. */
static __int128 window_rule(__int128 size, __int128 k, __int128 s, __int128 p, __int128 max_pad)
{
    if (k < 1 || s < 1 || p < 0 || p > max_pad || p > size)
        return -1;
    __int128 padded = size + 2 * p;
    if (k > padded || s > padded)
        return -1;
    __int128 n = (padded - k) / s + 1;
    return n > LIMIT ? -1 : n;
}

/* The layer just added has shape c x h x w and the net np_added more parameters. */
static void assert_added(sfr_net *net, int id, __int128 c, __int128 h, __int128 w,
                         __int128 np_added, int64_t np_before)
{
    const struct sfri_layer *l = sfri_net_layer(net, id);
    ck_assert_ptr_nonnull(l);
    ck_assert(l->c == c && l->h == h && l->w == w);
    int64_t np = -1;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    ck_assert(np - np_before == np_added);
}

/* Whether the parameter buffer, grown by added floats, fits BLOCK_CAP. */
static int fits_cap(int64_t np_before, __int128 added)
{
    return (np_before + added) * (__int128)sizeof(float) <= (__int128)BLOCK_CAP;
}

/* Every windowed builder call over every combination of extreme values:
 * accepted exactly when the documented rule (computed here without any
 * overflow) says so, with the shape and parameter count it gives. */
static void sweep_windows(int c, int h, int w)
{
    sfr_net *net;
    int x;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, c, h, w, &x), SFR_OK);
    const int out_cs[] = {1, 3, INT_MAX};
    for (int ik = 0; ik < N_EXTREMES; ik++)
        for (int is = 0; is < N_EXTREMES; is++)
            for (int ip = 0; ip < N_EXTREMES; ip++) {
                int k = extremes[ik], s = extremes[is], p = extremes[ip];
                for (int kind = 0; kind < 2 + 3; kind++) {
                    int conv = kind >= 2, out_c = conv ? out_cs[kind - 2] : c;
                    __int128 max_pad = conv ? (__int128)k - 1 : (__int128)k / 2;
                    __int128 oh = window_rule(h, k, s, p, max_pad);
                    __int128 ow = window_rule(w, k, s, p, max_pad);
                    __int128 weights = conv ? (__int128)out_c * c * k * k : 0;
                    int64_t np_before = 0;
                    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np_before), SFR_OK);
                    int valid = oh > 0 && ow > 0 && (__int128)out_c * oh * ow <= LIMIT &&
                                weights <= LIMIT;
                    sfr_status want = !valid ? SFR_ERR_SHAPE
                                      : fits_cap(np_before, conv ? weights + out_c : 0)
                                          ? SFR_OK
                                          : SFR_ERR_NOMEM;
                    int id = UNTOUCHED;
                    sfr_status st = kind == 0 ? sfr_net_maxpool(net, x, k, s, p, &id)
                                    : kind == 1 ? sfr_net_avgpool(net, x, k, s, p, &id)
                                                : sfr_net_conv2d(net, x, out_c, k, s, p, 1, &id);
                    ck_assert_msg(st == want,
                                  "input %dx%dx%d kind %d out_c %d k %d s %d p %d: %d (%s)", c, h,
                                  w, kind, out_c, k, s, p, st, sfr_last_error());
                    if (want == SFR_OK)
                        assert_added(net, id, out_c, oh, ow, conv ? weights + out_c : 0,
                                     np_before);
                    else
                        ck_assert_int_eq(id, UNTOUCHED);
                }
            }
    for (int io = 0; io < N_EXTREMES; io++) {
        int out = extremes[io], id = UNTOUCHED;
        int64_t np_before = 0;
        ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np_before), SFR_OK);
        __int128 weights = (__int128)out * c * h * w;
        sfr_status want = out < 1 || weights > LIMIT          ? SFR_ERR_SHAPE
                          : fits_cap(np_before, weights + out) ? SFR_OK
                                                              : SFR_ERR_NOMEM;
        ck_assert_int_eq(sfr_net_linear(net, x, out, &id), want);
        if (want == SFR_OK)
            assert_added(net, id, out, 1, 1, weights + out, np_before);
    }
    ck_assert_int_eq(sfr_net_init_params(net, 7), SFR_OK);
    sfr_net_destroy(net);
}

START_TEST(builder_sizes_follow_the_rule_at_every_extreme)
{
    ck_assert_int_eq(sfr_set_allocator(capped_alloc, capped_free, NULL), SFR_OK);
    sweep_windows(2, 5, 5);
    sweep_windows(1, 1, 1);
    sweep_windows(3, 1, 7);
    sweep_windows(1, 1, INT_MAX);
    sweep_windows(1, 46341, 46340);
    for (int ic = 0; ic < N_EXTREMES; ic++)
        for (int ih = 0; ih < N_EXTREMES; ih++)
            for (int iw = 0; iw < N_EXTREMES; iw++) {
                int c = extremes[ic], h = extremes[ih], w = extremes[iw], id = UNTOUCHED;
                int want = c >= 1 && h >= 1 && w >= 1 && (__int128)c * h * w <= LIMIT;
                sfr_net *net;
                ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
                ck_assert_msg(sfr_net_input(net, c, h, w, &id) == (want ? SFR_OK : SFR_ERR_SHAPE),
                              "input %d x %d x %d", c, h, w);
                ck_assert_int_eq(id, want ? 0 : UNTOUCHED);
                sfr_net_destroy(net);
            }
    ck_assert_int_eq(sfr_set_allocator(NULL, NULL, NULL), SFR_OK);
}
END_TEST

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* A time limit scaled as libcheck scales its timeouts: make check-valgrind
 * sets CK_TIMEOUT_MULTIPLIER for a run that is tens of times slower. */
static double time_limit(double seconds)
{
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    double factor = m != NULL ? atof(m) : 1.0;
    return factor >= 1.0 ? seconds * factor : seconds;
}

/* Windows that cannot mean anything are refused by the builder, not found
 * out by a forward that runs for seconds or a compile that fails in oneDNN;
 * the windows at the limits of the rule build, compile and run at once. */
START_TEST(pathological_windows_are_refused_at_build_time)
{
    int x, id = UNTOUCHED;
    sfr_net *net = with_input(&x); /* 2 x 5 x 5 */
    ck_assert_int_eq(sfr_net_maxpool(net, x, 65535, 1, 32767, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_maxpool: padding 32767 is larger than the input (5)");
    ck_assert_int_eq(sfr_net_avgpool(net, x, 13, 1, 6, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, INT_MAX, 1, 1, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_conv2d: stride 2147483647 is longer than the padded input (7)");
    ck_assert_int_eq(sfr_net_maxpool(net, x, 3, INT_MAX, 1, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(id, UNTOUCHED);
    int wide, deep, one, edge;
    ck_assert_int_eq(sfr_net_avgpool(net, x, 11, 1, 5, &edge), SFR_OK); /* pad == input */
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 7, 1, 1, &wide), SFR_OK); /* stride == 5 + 2 */
    ck_assert_int_eq(sfr_net_conv2d(net, wide, 2, 3, 1, 1, 0, &deep), SFR_OK); /* 3x3 on 1x1 */
    ck_assert_int_eq(sfr_net_maxpool(net, deep, 3, 3, 1, &one), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, one, 3, &id), SFR_OK);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 3), SFR_OK);
    float input[2 * 2 * 5 * 5];
    for (int i = 0; i < 2 * 2 * 5 * 5; i++)
        input[i] = (float)(i % 7) - 3.0f;
    ck_assert_int_eq(sfr_net_forward(net, input, 0), SFR_OK);
    ck_assert(seconds_since(&t0) < time_limit(5.0));
    sfr_net_destroy(net);
}
END_TEST

/* A compile that fails anywhere says in which layer, whatever the layer's
 * kind: every allocation of a compile of a net with every kind is failed in
 * turn. (oneDNN's own failures take the same path: the compile loop adds
 * the layer to whatever message the layer's code recorded.) */
START_TEST(every_compile_failure_names_the_layer)
{
    struct test_heap heap;
    test_heap_install(&heap, 0);
    sfr_net *net;
    int x, conv, bn, relu, maxp, avgp, add, gap, fc;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 3, 8, 8, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 16, 3, 1, 1, 1, &conv), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, conv, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, bn, &relu), SFR_OK);
    ck_assert_int_eq(sfr_net_maxpool(net, relu, 3, 1, 1, &maxp), SFR_OK);
    ck_assert_int_eq(sfr_net_avgpool(net, relu, 3, 1, 1, &avgp), SFR_OK);
    ck_assert_int_eq(sfr_net_add(net, maxp, avgp, &add), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, add, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, gap, 5, &fc), SFR_OK);
    sfr_tap *tap;
    ck_assert_int_eq(sfr_net_tap(net, avgp, &tap), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK); /* the streams, kept from now on */
    long before = atomic_load(&heap.calls);
    ck_assert_int_eq(sfr_net_compile(net, 3), SFR_OK);
    long allocations = atomic_load(&heap.calls) - before;
    ck_assert_int_gt(allocations, 20);
    int seen[16] = {0};
    for (long k = 1; k <= allocations; k++) {
        test_heap_fail_in(&heap, k);
        ck_assert_int_eq(sfr_net_compile(net, 2), SFR_ERR_NOMEM);
        int layer = -1, used = 0;
        char kind[16] = "";
        const char *msg = sfr_last_error();
        ck_assert_msg(sscanf(msg, "sfr_net_compile: layer %d (%15[a-z])%n", &layer, kind, &used) == 2 &&
                          used > 0 && strncmp(msg + used, ": ", 2) == 0,
                      "allocation %ld: '%s' names no layer", k, msg);
        ck_assert_int_ge(layer, 0);
        ck_assert_int_le(layer, fc);
        ck_assert_str_eq(kind, sfri_layer_kind_name(sfri_net_layer(net, layer)->kind));
        seen[layer] = 1;
    }
    test_heap_fail_in(&heap, 0);
    /* The in-place layers (ReLU, the residual add) borrow their buffers. */
    const int allocating[] = {conv, bn, maxp, avgp, gap, fc};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(seen[allocating[i]], "no failure was met in layer %d", allocating[i]);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    sfr_net_destroy(net);
    test_heap_uninstall(&heap);
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
    tc = tcase_create("sizes");
    tcase_add_test(tc, huge_conv_is_refused_before_any_size_overflows);
    tcase_add_test(tc, builder_sizes_follow_the_rule_at_every_extreme);
    tcase_add_test(tc, pathological_windows_are_refused_at_build_time);
    tcase_add_test(tc, every_compile_failure_names_the_layer);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
