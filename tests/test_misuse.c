/*
 * Misuse: every public function that takes a handle, given a handle of
 * another kind, a destroyed one, or a block that was never a handle,
 * returns SFR_ERR_MISUSE (destroy functions do nothing), names itself in
 * the message, and writes none of its outputs. Destroyed handles stay
 * readable because the test allocator keeps freed blocks, so the test
 * itself has no use-after-free. Then: calls after an error leave their
 * handle as documented, usable and unchanged.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sfr/sfr.h"
#include "test_heap.h"

enum { N = 2, K = 3, HW = 4 };

struct handles {
    sfr_net *net;
    sfr_reg *reg;
    sfr_tap *tap;
    sfr_sgd *sgd;
};

/* Everything a failing call could write, filled with a pattern first. */
struct outputs {
    int id, count_i, iters;
    int64_t dims2[2], dims4[4], count, off, size;
    const float *cdata;
    float *data, *grad, *values;
    const char *name;
    sfr_tap *tap;
    double value, loss, err;
    float dlogits[N * K];
};

/* Inputs shared by the calls: all valid, so only the handle is wrong. */
struct inputs {
    float image[N * 1 * HW * HW]; // (N, 1, H, W)
    float dlogits[N * K], logits[N * K];
    int32_t labels[N];
    int64_t ids[N];
    float tap_data[N * 2 * HW * HW], tap_grad[N * 2 * HW * HW]; // (N, 2, H, W)
    char path[64];
};

static void inputs_init(struct inputs *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < N * HW * HW; i++)
        in->image[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < N * K; i++)
        in->logits[i] = (float)i * 0.25f;
    for (int i = 0; i < N; i++) {
        in->labels[i] = i;
        in->ids[i] = i;
    }
    for (int i = 0; i < N * 2 * HW * HW; i++)
        in->tap_data[i] = (float)(i % 5) - 2.0f;
    snprintf(in->path, sizeof in->path, "/tmp/sfr-misuse-%ld.ckpt", (long)getpid());
}

/* input 1x4x4 - conv 3x3 to 2 channels (the tap) - relu - global pool - linear 3,
 * compiled for N, initialised, one training forward and backward done; a
 * regularizer with one pair, a wrapped tap taught by the net's conv tap; an
 * SGD optimizer. */
static struct handles live_handles(struct inputs *in)
{
    struct handles h = {0};
    int id = 0;
    ck_assert_int_eq(sfr_net_create(&h.net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(h.net, 1, HW, HW, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(h.net, id, 2, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(h.net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(h.net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(h.net, id, K, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(h.net, N), SFR_OK);
    sfr_tap *conv_tap = NULL;
    ck_assert_int_eq(sfr_net_tap(h.net, 1, &conv_tap), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(h.net, 3), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(h.net, in->image, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(h.net, in->dlogits), SFR_OK);
    const int64_t dims[4] = {N, 2, HW, HW};
    ck_assert_int_eq(sfr_tap_wrap(dims, in->tap_data, in->tap_grad, &h.tap), SFR_OK);
    ck_assert_int_eq(sfr_reg_create(&h.reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(h.reg, h.tap, conv_tap, 1.0, NULL), SFR_OK);
    ck_assert_int_eq(sfr_sgd_create(&h.sgd, 0.1, 0.9, 0.0, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_save(h.net, in->path), SFR_OK);
    return h;
}

static void destroy_handles(struct handles h)
{
    sfr_sgd_destroy(h.sgd);
    sfr_reg_destroy(h.reg);
    sfr_tap_destroy(h.tap);
    sfr_net_destroy(h.net);
}

#define MISUSE(call)                                                                          \
    do {                                                                                      \
        sfr_status st_ = (call);                                                              \
        ck_assert_msg(st_ == SFR_ERR_MISUSE, "%s: status %d (%s)", #call, st_,                \
                      sfr_last_error());                                                      \
        ck_assert_msg(strncmp(sfr_last_error(), "sfr_", 4) == 0, "%s: message '%s'", #call,   \
                      sfr_last_error());                                                      \
    } while (0)

/*
 * Calls every handle-taking function with one bad handle at a time (the
 * other handles good) and checks the status, that no output was written,
 * that the destroy functions did nothing, and that the file at in->path is
 * unchanged.
 */
static void expect_misuse_everywhere(struct handles bad, struct handles good, struct inputs *in,
                                     const struct test_heap *heap)
{
    struct outputs o, pattern;
    memset(&pattern, 0x5A, sizeof pattern);
    memcpy(&o, &pattern, sizeof o);
    FILE *f = fopen(in->path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char before[4096], after[4096];
    size_t n_before = fread(before, 1, sizeof before, f);
    fclose(f);

    MISUSE(sfr_net_input(bad.net, 1, HW, HW, &o.id));
    MISUSE(sfr_net_conv2d(bad.net, 0, 2, 3, 1, 1, 1, &o.id));
    MISUSE(sfr_net_batchnorm(bad.net, 0, &o.id));
    MISUSE(sfr_net_relu(bad.net, 0, &o.id));
    MISUSE(sfr_net_maxpool(bad.net, 0, 2, 2, 0, &o.id));
    MISUSE(sfr_net_avgpool(bad.net, 0, 2, 2, 0, &o.id));
    MISUSE(sfr_net_global_avgpool(bad.net, 0, &o.id));
    MISUSE(sfr_net_linear(bad.net, 0, K, &o.id));
    MISUSE(sfr_net_add(bad.net, 0, 0, &o.id));
    MISUSE(sfr_net_compile(bad.net, N));
    MISUSE(sfr_net_init_params(bad.net, 1));
    MISUSE(sfr_net_forward(bad.net, in->image, 1));
    MISUSE(sfr_net_output(bad.net, &o.cdata, o.dims2));
    MISUSE(sfr_net_backward(bad.net, in->dlogits));
    MISUSE(sfr_net_tap(bad.net, 1, &o.tap));
    MISUSE(sfr_net_params(bad.net, &o.values, &o.grad, &o.count));
    MISUSE(sfr_net_param_tensors(bad.net, &o.count_i));
    MISUSE(sfr_net_param_info(bad.net, 0, &o.name, &o.off, &o.size));
    MISUSE(sfr_net_save(bad.net, in->path));
    MISUSE(sfr_net_load(bad.net, in->path));
    MISUSE(sfr_sgd_step(good.sgd, bad.net));

    MISUSE(sfr_reg_set_param(bad.reg, SFR_PARAM_GAMMA, 0.5));
    MISUSE(sfr_reg_get_param(bad.reg, SFR_PARAM_GAMMA, &o.value));
    MISUSE(sfr_reg_add_pair(bad.reg, good.tap, good.tap, 1.0, &o.id));
    MISUSE(sfr_reg_add_pair(good.reg, bad.tap, good.tap, 1.0, &o.id));
    MISUSE(sfr_reg_add_pair(good.reg, good.tap, bad.tap, 1.0, &o.id));
    MISUSE(sfr_reg_set_progress(bad.reg, 0.5));
    MISUSE(sfr_reg_set_sample_ids(bad.reg, in->ids, N));
    MISUSE(sfr_reg_compute(bad.reg, in->logits, in->labels, N, K, o.dlogits, &o.loss));
    MISUSE(sfr_reg_compute_net(bad.reg, good.net, in->labels, o.dlogits, &o.loss));
    MISUSE(sfr_reg_compute_net(good.reg, bad.net, in->labels, o.dlogits, &o.loss));
    MISUSE(sfr_reg_pair_loss(bad.reg, 0, &o.value));
    MISUSE(sfr_reg_label_loss(bad.reg, &o.value));
    MISUSE(sfr_reg_pair_stats(bad.reg, 0, &o.iters, &o.err));

    MISUSE(sfr_tap_rebind(bad.tap, in->tap_data, in->tap_grad));
    MISUSE(sfr_tap_dims(bad.tap, o.dims4));
    MISUSE(sfr_tap_data(bad.tap, &o.cdata));
    MISUSE(sfr_tap_grad(bad.tap, &o.grad));

    MISUSE(sfr_sgd_step(bad.sgd, good.net));
    MISUSE(sfr_sgd_set_lr(bad.sgd, 0.01));

    long live = atomic_load(&heap->live);
    sfr_net_destroy(bad.net);
    sfr_reg_destroy(bad.reg);
    sfr_tap_destroy(bad.tap);
    sfr_sgd_destroy(bad.sgd);
    ck_assert_int_eq(atomic_load(&heap->live), live);

    ck_assert_msg(memcmp(&o, &pattern, sizeof o) == 0, "a failing call wrote an output");
    f = fopen(in->path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n_after = fread(after, 1, sizeof after, f);
    fclose(f);
    ck_assert_uint_eq(n_after, n_before);
    ck_assert_int_eq(memcmp(before, after, n_before), 0);
}

/* The good handles still work after all that. */
static void expect_usable(struct handles h, struct inputs *in)
{
    double loss = 0;
    float dlogits[N * K];
    ck_assert_int_eq(sfr_net_forward(h.net, in->image, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(h.net, in->dlogits), SFR_OK);
    ck_assert_int_eq(sfr_sgd_step(h.sgd, h.net), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(h.reg, in->logits, in->labels, N, K, dlogits, &loss),
                     SFR_OK);
    int64_t dims[4];
    ck_assert_int_eq(sfr_tap_dims(h.tap, dims), SFR_OK);
    ck_assert_int_eq(dims[1], 2);
}

START_TEST(handles_of_another_kind)
{
    struct test_heap heap;
    static struct inputs in;
    inputs_init(&in);
    test_heap_install(&heap, 0);
    struct handles good = live_handles(&in);
    struct handles bad = {(sfr_net *)good.reg, (sfr_reg *)good.sgd, (sfr_tap *)good.net,
                          (sfr_sgd *)good.tap};
    expect_misuse_everywhere(bad, good, &in, &heap);
    expect_usable(good, &in);
    destroy_handles(good);
    unlink(in.path);
    test_heap_uninstall(&heap);
}
END_TEST

START_TEST(destroyed_handles)
{
    struct test_heap heap;
    static struct inputs in;
    inputs_init(&in);
    test_heap_install(&heap, 1);
    struct handles dead = live_handles(&in);
    sfr_tap *net_tap = NULL;
    ck_assert_int_eq(sfr_net_tap(dead.net, 1, &net_tap), SFR_OK);
    destroy_handles(dead);
    struct handles good = live_handles(&in);
    expect_misuse_everywhere(dead, good, &in, &heap);
    /* The net's own tap died with its net. */
    dead.tap = net_tap;
    expect_misuse_everywhere(dead, good, &in, &heap);
    expect_usable(good, &in);
    destroy_handles(good);
    unlink(in.path);
    test_heap_uninstall(&heap);
}
END_TEST

START_TEST(blocks_that_never_were_handles)
{
    struct test_heap heap;
    static struct inputs in;
    static uint64_t junk[64];
    memset(junk, 0x3C, sizeof junk);
    inputs_init(&in);
    test_heap_install(&heap, 0);
    struct handles good = live_handles(&in);
    struct handles bad = {(sfr_net *)junk, (sfr_reg *)junk, (sfr_tap *)junk, (sfr_sgd *)junk};
    expect_misuse_everywhere(bad, good, &in, &heap);
    expect_usable(good, &in);
    destroy_handles(good);
    unlink(in.path);
    test_heap_uninstall(&heap);
}
END_TEST

/* ---- after an error, a handle behaves as documented: unchanged and usable ---- */

START_TEST(net_after_errors)
{
    static struct inputs in;
    inputs_init(&in);
    struct handles h = live_handles(&in);
    int count = 0, id = 77;
    ck_assert_int_eq(sfr_net_param_tensors(h.net, &count), SFR_OK);
    /* Adding a layer to a compiled net: STATE, no layer, id untouched. */
    ck_assert_int_eq(sfr_net_relu(h.net, 0, &id), SFR_ERR_STATE);
    ck_assert_int_eq(id, 77);
    int count_after = 0;
    ck_assert_int_eq(sfr_net_param_tensors(h.net, &count_after), SFR_OK);
    ck_assert_int_eq(count_after, count);
    /* Backward after an eval forward: STATE; a training forward makes it work. */
    ck_assert_int_eq(sfr_net_forward(h.net, in.image, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(h.net, in.dlogits), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_forward(h.net, in.image, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(h.net, in.dlogits), SFR_OK);
    /* A corrupt checkpoint: FORMAT and the parameters are as they were. */
    float *values = NULL, *grads = NULL;
    int64_t n = 0;
    ck_assert_int_eq(sfr_net_params(h.net, &values, &grads, &n), SFR_OK);
    float saved[256];
    ck_assert_int_le(n, 256);
    FILE *f = fopen(in.path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 40, SEEK_SET), 0);
    ck_assert_int_ne(fputc(0xFF ^ fgetc(f), f), EOF);
    fclose(f);
    ck_assert_int_eq(sfr_net_init_params(h.net, 99), SFR_OK);
    memcpy(saved, values, (size_t)n * sizeof *values);
    ck_assert_int_eq(sfr_net_load(h.net, in.path), SFR_ERR_FORMAT);
    ck_assert_int_eq(memcmp(saved, values, (size_t)n * sizeof *values), 0);
    ck_assert_int_eq(sfr_net_save(h.net, in.path), SFR_OK);
    ck_assert_int_eq(sfr_net_load(h.net, in.path), SFR_OK);
    ck_assert_int_eq(memcmp(saved, values, (size_t)n * sizeof *values), 0);
    destroy_handles(h);
    unlink(in.path);
}
END_TEST

START_TEST(reg_and_sgd_after_errors)
{
    static struct inputs in;
    inputs_init(&in);
    struct handles h = live_handles(&in), fresh = live_handles(&in);
    /* Non-finite logits: NONFINITE, nothing written; the same call with
     * finite logits then gives exactly what a fresh regularizer gives. */
    float dlogits[N * K], want_d[N * K];
    double loss = -1, want_loss = 0;
    memset(dlogits, 0x5A, sizeof dlogits);
    float bad_logits[N * K];
    memcpy(bad_logits, in.logits, sizeof bad_logits);
    bad_logits[4] = (float)NAN;
    ck_assert_int_eq(sfr_reg_compute(h.reg, bad_logits, in.labels, N, K, dlogits, &loss),
                     SFR_ERR_NONFINITE);
    ck_assert_double_eq(loss, -1);
    for (int i = 0; i < N * K; i++)
        ck_assert_uint_eq(((unsigned char *)dlogits)[i * 4], 0x5A);
    ck_assert_int_eq(sfr_reg_compute(h.reg, in.logits, in.labels, N, K, dlogits, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(fresh.reg, in.logits, in.labels, N, K, want_d, &want_loss),
                     SFR_OK);
    ck_assert_double_eq(loss, want_loss);
    ck_assert_int_eq(memcmp(dlogits, want_d, sizeof want_d), 0);
    /* An optimizer serves one net: another net's size is SHAPE, and its own
     * net still steps. */
    sfr_net *other = NULL;
    int id = 0;
    ck_assert_int_eq(sfr_net_create(&other), SFR_OK);
    ck_assert_int_eq(sfr_net_input(other, 1, HW, HW, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(other, id, 5, &id), SFR_OK);
    ck_assert_int_eq(sfr_sgd_step(h.sgd, h.net), SFR_OK);
    ck_assert_int_eq(sfr_sgd_step(h.sgd, other), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_sgd_step(h.sgd, h.net), SFR_OK);
    sfr_net_destroy(other);
    destroy_handles(h);
    destroy_handles(fresh);
    unlink(in.path);
}
END_TEST

Suite *misuse_suite(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("bad_handles");
    tcase_add_test(tc, handles_of_another_kind);
    tcase_add_test(tc, destroyed_handles);
    tcase_add_test(tc, blocks_that_never_were_handles);
    suite_add_tcase(s, tc);
    tc = tcase_create("after_errors");
    tcase_add_test(tc, net_after_errors);
    tcase_add_test(tc, reg_and_sgd_after_errors);
    suite_add_tcase(s, tc);
    return s;
}
