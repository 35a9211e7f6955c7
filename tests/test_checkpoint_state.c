/*
 * Full training state (sfr/checkpoint.h): a run resumed from a checkpoint
 * continues bit for bit as the uninterrupted run (net with batch norm and
 * dropout, SGD with momentum or AdamW, a regularizer with a `past` bank,
 * a learning rate changed midway), a failed load changes nothing, and every
 * bad argument or damaged byte is a clear status.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_bytes.h"
#include "sfr/sfr.h"
#include "temp_dir.h"

enum { N = 4, C = 2, H = 6, K = 3, BANK = 8, IN = N * C * H * H };

struct run {
    sfr_net *net;
    sfr_sgd *sgd;
    sfr_adamw *adamw;
    sfr_reg *reg;
    sfr_checkpoint *ck;
};

static sfr_net *small_net(uint64_t seed)
{
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, C, H, H, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 4, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_dropout(net, id, 0.3, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, id, K, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, seed), SFR_OK);
    return net;
}

/* A run's objects, with init seed seed, in one checkpoint handle. */
static void run_open(struct run *r, int adamw, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->net = small_net(seed);
    ck_assert_int_eq(sfr_reg_create(&r->reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(r->reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(r->reg, SFR_PARAM_LS_BANK_SIZE, BANK), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_create(&r->ck), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(r->ck, r->net), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_reg(r->ck, r->reg), SFR_OK);
    if (adamw) {
        ck_assert_int_eq(sfr_adamw_create(&r->adamw, 1e-2, 0.9, 0.999, 1e-8, 0.01), SFR_OK);
        ck_assert_int_eq(sfr_checkpoint_add_adamw(r->ck, r->adamw), SFR_OK);
    } else {
        ck_assert_int_eq(sfr_sgd_create(&r->sgd, 0.1, 0.9, 5e-4, 1), SFR_OK);
        ck_assert_int_eq(sfr_checkpoint_add_sgd(r->ck, r->sgd), SFR_OK);
    }
}

static void run_close(struct run *r)
{
    sfr_checkpoint_destroy(r->ck);
    sfr_sgd_destroy(r->sgd);
    sfr_adamw_destroy(r->adamw);
    sfr_reg_destroy(r->reg);
    sfr_net_destroy(r->net);
}

/* Training steps [from, to): inputs, labels and ids depend on the step only. */
static void run_steps(struct run *r, int from, int to)
{
    static float x[IN];
    float dlogits[N * K];
    int32_t labels[N];
    int64_t ids[N];
    for (int s = from; s < to; s++) {
        for (int i = 0; i < IN; i++)
            x[i] = sinf(0.1f * (float)i + (float)s);
        for (int i = 0; i < N; i++) {
            labels[i] = (s + i) % K;
            ids[i] = (N * s + i) % BANK;
        }
        if (s == 2) /* a schedule's change before the save: the checkpoint keeps it */
            ck_assert_int_eq(r->sgd ? sfr_sgd_set_lr(r->sgd, 0.05) :
                                      sfr_adamw_set_lr(r->adamw, 5e-3), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_progress(r->reg, s / 8.0), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_sample_ids(r->reg, ids, N), SFR_OK);
        ck_assert_int_eq(sfr_net_forward(r->net, x, 1), SFR_OK);
        double loss;
        ck_assert_int_eq(sfr_reg_compute_net(r->reg, r->net, labels, dlogits, &loss), SFR_OK);
        ck_assert_int_eq(sfr_net_backward(r->net, dlogits), SFR_OK);
        ck_assert_int_eq(r->sgd ? sfr_sgd_step(r->sgd, r->net) :
                                  sfr_adamw_step(r->adamw, r->net), SFR_OK);
    }
}

/* The run's whole state as checkpoint bytes (malloc'ed). */
static unsigned char *state_bytes(const struct run *r, size_t *size)
{
    ck_assert_int_eq(sfr_checkpoint_save_memory(r->ck, NULL, 0, size), SFR_OK);
    unsigned char *buf = malloc(*size);
    ck_assert_ptr_nonnull(buf);
    size_t written = 0;
    ck_assert_int_eq(sfr_checkpoint_save_memory(r->ck, buf, *size, &written), SFR_OK);
    ck_assert_uint_eq(written, *size);
    return buf;
}

/* Steps 0-6 at once equal steps 0-3, save, load into fresh objects, steps 3-6. */
static void check_resume(int adamw)
{
    struct run whole, first, second;
    run_open(&whole, adamw, 1);
    run_steps(&whole, 0, 6);
    ck_assert_int_eq(sfr_checkpoint_set_meta(whole.ck, "step", "6"), SFR_OK);

    run_open(&first, adamw, 1);
    run_steps(&first, 0, 3);
    ck_assert_int_eq(sfr_checkpoint_set_meta(first.ck, "step", "3"), SFR_OK);
    size_t size;
    unsigned char *saved = state_bytes(&first, &size);
    run_close(&first);

    run_open(&second, adamw, 77); /* other weights, fresh optimizer and bank */
    ck_assert_int_eq(sfr_checkpoint_load_memory(second.ck, saved, size), SFR_OK);
    const char *step;
    ck_assert_int_eq(sfr_checkpoint_get_meta(second.ck, "step", &step), SFR_OK);
    ck_assert_str_eq(step, "3");
    run_steps(&second, 3, 6);
    ck_assert_int_eq(sfr_checkpoint_set_meta(second.ck, "step", "6"), SFR_OK);

    /* The parameters, then the whole state (optimizer, bank, counters). */
    float *va, *ga, *vb, *gb;
    int64_t na, nb;
    ck_assert_int_eq(sfr_net_params(whole.net, &va, &ga, &na), SFR_OK);
    ck_assert_int_eq(sfr_net_params(second.net, &vb, &gb, &nb), SFR_OK);
    ck_assert_int_eq(memcmp(va, vb, (size_t)na * sizeof *va), 0);
    size_t a_size, b_size;
    unsigned char *a = state_bytes(&whole, &a_size), *b = state_bytes(&second, &b_size);
    ck_assert_uint_eq(a_size, b_size);
    ck_assert_int_eq(memcmp(a, b, a_size), 0);
    free(a);
    free(b);
    free(saved);
    run_close(&whole);
    run_close(&second);
}

START_TEST(an_sgd_run_resumes_bit_for_bit)
{
    check_resume(0);
}
END_TEST

START_TEST(an_adamw_run_resumes_bit_for_bit)
{
    check_resume(1);
}
END_TEST

/* The payload of the section tagged tag in container bytes, or NULL. */
static unsigned char *section(unsigned char *data, size_t size, const char *tag, size_t *len)
{
    size_t off = 24;
    while (off + 16 <= size - 8) {
        uint64_t l = 0;
        for (int i = 0; i < 8; i++)
            l |= (uint64_t)data[off + 8 + (size_t)i] << (8 * i);
        if (memcmp(data + off, tag, 4) == 0) {
            *len = (size_t)l;
            return data + off + 16;
        }
        off += 16 + (size_t)l;
    }
    return NULL;
}

static void put_f64(unsigned char *p, double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(b >> (8 * i));
}

/* Loading bytes fails with SFR_ERR_FORMAT and a message holding what, and
 * the run's state (every object, the metadata) is as it was. */
static void expect_refused(struct run *r, const unsigned char *data, size_t size, const char *what)
{
    size_t before_size, after_size;
    unsigned char *before = state_bytes(r, &before_size);
    ck_assert_int_eq(sfr_checkpoint_load_memory(r->ck, data, size), SFR_ERR_FORMAT);
    if (what != NULL && strstr(sfr_last_error(), what) == NULL)
        ck_abort_msg("message '%s' lacks '%s'", sfr_last_error(), what);
    unsigned char *after = state_bytes(r, &after_size);
    ck_assert_uint_eq(before_size, after_size);
    ck_assert_int_eq(memcmp(before, after, before_size), 0);
    free(before);
    free(after);
}

START_TEST(a_failed_load_changes_nothing)
{
    struct run src, dst;
    run_open(&src, 0, 1);
    run_steps(&src, 0, 2);
    size_t size, len;
    unsigned char *data = state_bytes(&src, &size);
    run_open(&dst, 0, 5);
    run_steps(&dst, 0, 1);
    ck_assert_int_eq(sfr_checkpoint_set_meta(dst.ck, "kept", "yes"), SFR_OK);

    /* The regularizer's section comes after the net's and the optimizer's:
     * those were prepared, and must not be applied. */
    unsigned char *reg = section(data, size, "REG ", &len);
    ck_assert_ptr_nonnull(reg);
    uint32_t params = reg[0] | (uint32_t)reg[1] << 8;
    unsigned char *progress = reg + 4 + 12 * params;
    put_f64(progress, 2.0);
    reseal(data, size);
    expect_refused(&dst, data, size, "progress 2 is outside [0, 1]");
    put_f64(progress, 0.25);
    reseal(data, size);

    /* A damaged byte anywhere: the checksum. */
    data[size / 2] ^= 0x10;
    expect_refused(&dst, data, size, "checksum mismatch");
    data[size / 2] ^= 0x10;

    /* Momentum buffer value not finite (resealed). */
    unsigned char *sgd = section(data, size, "SGD ", &len);
    ck_assert_ptr_nonnull(sgd);
    unsigned char saved[4];
    memcpy(saved, sgd + 28, 4);
    memcpy(sgd + 28, "\x00\x00\xc0\x7f", 4);
    reseal(data, size);
    expect_refused(&dst, data, size, "momentum buffer value 0 is not finite");
    memcpy(sgd + 28, saved, 4);

    /* An unknown section tag. */
    memcpy(sgd - 16, "XYZ!", 4);
    reseal(data, size);
    expect_refused(&dst, data, size, "unknown section 'XYZ!'");
    memcpy(sgd - 16, "SGD ", 4);

    /* Every truncation. */
    for (size_t cut = 0; cut < size; cut += 1 + cut / 16)
        expect_refused(&dst, data, cut, NULL);

    /* The intact bytes load, metadata replaced by the file's (none). */
    reseal(data, size);
    ck_assert_int_eq(sfr_checkpoint_load_memory(dst.ck, data, size), SFR_OK);
    int count = -1;
    ck_assert_int_eq(sfr_checkpoint_meta_count(dst.ck, &count), SFR_OK);
    ck_assert_int_eq(count, 0);
    free(data);
    run_close(&src);
    run_close(&dst);
}
END_TEST

START_TEST(the_objects_a_handle_holds_decide_what_loads)
{
    struct run sgd_run, adamw_run;
    run_open(&sgd_run, 0, 1);
    run_steps(&sgd_run, 0, 1);
    run_open(&adamw_run, 1, 1);
    size_t size;
    unsigned char *data = state_bytes(&sgd_run, &size);
    expect_refused(&adamw_run, data, size,
                   "holds the state of an SGD optimizer, this one has an AdamW optimizer");

    /* A handle with the net alone takes the net's part of a full checkpoint. */
    sfr_net *net = small_net(9);
    sfr_checkpoint *ck;
    ck_assert_int_eq(sfr_checkpoint_create(&ck), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, net), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load_memory(ck, data, size), SFR_OK);
    float *va, *ga, *vb, *gb;
    int64_t na, nb;
    ck_assert_int_eq(sfr_net_params(sgd_run.net, &va, &ga, &na), SFR_OK);
    ck_assert_int_eq(sfr_net_params(net, &vb, &gb, &nb), SFR_OK);
    ck_assert_int_eq(memcmp(va, vb, (size_t)na * sizeof *va), 0);

    /* sfr_net_save's bytes load into it too, not into a handle with an optimizer. */
    size_t net_size;
    ck_assert_int_eq(sfr_net_save_memory(sgd_run.net, NULL, 0, &net_size), SFR_OK);
    unsigned char *net_bytes = malloc(net_size);
    ck_assert_int_eq(sfr_net_save_memory(sgd_run.net, net_bytes, net_size, &net_size), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load_memory(ck, net_bytes, net_size), SFR_OK);
    expect_refused(&sgd_run, net_bytes, net_size, "holds no SGD optimizer state");

    /* A net of another architecture. */
    sfr_net *other;
    int id;
    ck_assert_int_eq(sfr_net_create(&other), SFR_OK);
    ck_assert_int_eq(sfr_net_input(other, C, H, H, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(other, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(other, id, K, &id), SFR_OK);
    sfr_checkpoint *ck_other;
    ck_assert_int_eq(sfr_checkpoint_create(&ck_other), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck_other, other), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load_memory(ck_other, data, size), SFR_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(sfr_last_error(), "parameters"));

    free(net_bytes);
    free(data);
    sfr_checkpoint_destroy(ck_other);
    sfr_net_destroy(other);
    sfr_checkpoint_destroy(ck);
    sfr_net_destroy(net);
    run_close(&sgd_run);
    run_close(&adamw_run);
}
END_TEST

START_TEST(a_0_1_0_net_checkpoint_loads_through_a_handle)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/net-0.1.0.ckpt", SFR_SOURCE_DIR);
    sfr_net *net, *fresh;
    int id;
    sfr_net **nets[2] = {&net, &fresh};
    for (int i = 0; i < 2; i++) { /* the net of tests/test_net_compat.c */
        ck_assert_int_eq(sfr_net_create(nets[i]), SFR_OK);
        ck_assert_int_eq(sfr_net_input(*nets[i], 3, 8, 8, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_conv2d(*nets[i], id, 4, 3, 1, 1, 1, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_batchnorm(*nets[i], id, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_relu(*nets[i], id, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_maxpool(*nets[i], id, 2, 2, 0, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_global_avgpool(*nets[i], id, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_linear(*nets[i], id, 5, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(*nets[i], 2), SFR_OK);
    }
    sfr_checkpoint *ck;
    ck_assert_int_eq(sfr_checkpoint_create(&ck), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, net), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "gone", "after the load"), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load(ck, path), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(fresh, 42), SFR_OK);
    float *v, *g, *fv, *fg;
    int64_t n, fn;
    ck_assert_int_eq(sfr_net_params(net, &v, &g, &n), SFR_OK);
    ck_assert_int_eq(sfr_net_params(fresh, &fv, &fg, &fn), SFR_OK);
    ck_assert_int_eq(memcmp(v, fv, (size_t)n * sizeof *v), 0);
    const char *value = "set";
    ck_assert_int_eq(sfr_checkpoint_get_meta(ck, "gone", &value), SFR_OK);
    ck_assert_ptr_null(value);
    sfr_checkpoint_destroy(ck);
    sfr_net_destroy(net);
    sfr_net_destroy(fresh);
}
END_TEST

START_TEST(metadata_keeps_order_and_limits)
{
    sfr_checkpoint *ck;
    ck_assert_int_eq(sfr_checkpoint_create(&ck), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "epoch", "3"), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "seed", "1"), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "note", ""), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "epoch", "4"), SFR_OK); /* keeps its place */
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "seed", NULL), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "absent", NULL), SFR_OK);
    char key[300], *value = malloc(70000);
    memset(key, 'k', sizeof key);
    key[256] = '\0';
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, key, "v"), SFR_ERR_INVALID_ARG);
    key[255] = '\0';
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, key, "longest key"), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "", "v"), SFR_ERR_INVALID_ARG);
    memset(value, 'v', 70000);
    value[65536] = '\0';
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "big", value), SFR_ERR_INVALID_ARG);
    value[65535] = '\0';
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, "big", value), SFR_OK);

    /* Round trip through memory into another handle. */
    size_t size;
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, NULL, 0, &size), SFR_OK);
    unsigned char *data = malloc(size);
    size_t small = size - 1;
    memset(data, 0xAB, size);
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, data, small, &small), SFR_ERR_SHAPE);
    ck_assert_uint_eq(small, size - 1);
    ck_assert_uint_eq(data[0], 0xAB);
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, data, size, &size), SFR_OK);
    sfr_checkpoint *copy;
    ck_assert_int_eq(sfr_checkpoint_create(&copy), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load_memory(copy, data, size), SFR_OK);
    int count;
    ck_assert_int_eq(sfr_checkpoint_meta_count(copy, &count), SFR_OK);
    ck_assert_int_eq(count, 4);
    const char *k, *v;
    static const char *const keys[] = {"epoch", "note", NULL, "big"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(sfr_checkpoint_meta_at(copy, i, &k, &v), SFR_OK);
        if (keys[i] != NULL)
            ck_assert_str_eq(k, keys[i]);
        else
            ck_assert_int_eq((int)strlen(k), 255);
    }
    ck_assert_int_eq(sfr_checkpoint_get_meta(copy, "epoch", &v), SFR_OK);
    ck_assert_str_eq(v, "4");
    ck_assert_int_eq(sfr_checkpoint_get_meta(copy, "big", &v), SFR_OK);
    ck_assert_int_eq((int)strlen(v), 65535);
    ck_assert_int_eq(sfr_checkpoint_meta_at(copy, 4, &k, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_meta_at(copy, -1, &k, &v), SFR_ERR_INVALID_ARG);

    /* The entry count is bounded. */
    for (int i = count; i < 1024; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%d", i);
        ck_assert_int_eq(sfr_checkpoint_set_meta(copy, name, "x"), SFR_OK);
    }
    ck_assert_int_eq(sfr_checkpoint_set_meta(copy, "one too many", "x"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_set_meta(copy, "epoch", "5"), SFR_OK); /* a replacement fits */
    free(value);
    free(data);
    sfr_checkpoint_destroy(copy);
    sfr_checkpoint_destroy(ck);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    sfr_checkpoint *ck = NULL;
    ck_assert_int_eq(sfr_checkpoint_create(NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_create(&ck), SFR_OK);
    sfr_net *net = small_net(1);
    sfr_sgd *sgd;
    sfr_adamw *adamw;
    ck_assert_int_eq(sfr_sgd_create(&sgd, 0.1, 0.9, 0, 0), SFR_OK);
    ck_assert_int_eq(sfr_adamw_create(&adamw, 1e-3, 0.9, 0.999, 1e-8, 0), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(NULL, net), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, (sfr_net *)sgd), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, net), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_net(ck, net), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_add_sgd(ck, sgd), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_adamw(ck, adamw), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sfr_last_error(), "already holds its SGD optimizer"));
    ck_assert_int_eq(sfr_checkpoint_add_reg(ck, NULL), SFR_ERR_INVALID_ARG);
    const char *v;
    int count;
    size_t size = 7;
    ck_assert_int_eq(sfr_checkpoint_set_meta(ck, NULL, "v"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_get_meta(ck, "k", NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_get_meta(NULL, "k", &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_meta_count(ck, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_meta_count(NULL, &count), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, NULL, 0, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_save_memory(NULL, NULL, 0, &size), SFR_ERR_INVALID_ARG);
    ck_assert_uint_eq(size, 7);
    ck_assert_int_eq(sfr_checkpoint_save(ck, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_save(ck, ""), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_load(ck, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_checkpoint_load_memory(ck, NULL, 10), SFR_ERR_INVALID_ARG);

    /* A file round trip, then files that are not checkpoints. */
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/run.state", dir);
    ck_assert_int_eq(sfr_checkpoint_load(ck, path), SFR_ERR_IO);
    ck_assert_int_eq(sfr_checkpoint_save(ck, path), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load(ck, path), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load(ck, dir), SFR_ERR_IO);
    FILE *f = fopen(path, "wb");
    fputs("SFRSTAT\nnot really", f);
    fclose(f);
    ck_assert_int_eq(sfr_checkpoint_load(ck, path), SFR_ERR_FORMAT);
    snprintf(path, sizeof path, "%s/missing/run.state", dir);
    ck_assert_int_eq(sfr_checkpoint_save(ck, path), SFR_ERR_IO);
    remove_tree(dir);

    /* A NaN in the momentum buffer is not saved. */
    float *values, *grads;
    int64_t n;
    static float x[IN];
    float dlogits[N * K] = {0.5f};
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
    ck_assert_int_eq(sfr_net_params(net, &values, &grads, &n), SFR_OK);
    grads[0] = NAN;
    ck_assert_int_eq(sfr_sgd_step(sgd, net), SFR_OK);
    values[0] = 0.0f; /* the net is finite again, the buffer is not */
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, NULL, 0, &size), SFR_ERR_NONFINITE);
    ck_assert_ptr_nonnull(strstr(sfr_last_error(), "SGD momentum buffer value 0"));

    ck_assert_int_eq(sfr_checkpoint_meta_count((sfr_checkpoint *)net, &count), SFR_ERR_MISUSE);
    sfr_checkpoint_destroy(ck);
    sfr_sgd_destroy(sgd);
    sfr_adamw_destroy(adamw);
    sfr_net_destroy(net);
}
END_TEST

Suite *checkpoint_state_suite(void)
{
    Suite *s = suite_create("checkpoint_state");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, an_sgd_run_resumes_bit_for_bit);
    tcase_add_test(tc, an_adamw_run_resumes_bit_for_bit);
    tcase_add_test(tc, a_failed_load_changes_nothing);
    tcase_add_test(tc, the_objects_a_handle_holds_decide_what_loads);
    tcase_add_test(tc, a_0_1_0_net_checkpoint_loads_through_a_handle);
    tcase_add_test(tc, metadata_keeps_order_and_limits);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
