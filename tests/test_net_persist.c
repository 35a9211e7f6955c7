/*
 * The SGD helper and checkpoints on real nets, through the public API:
 * sfr_sgd_step equals the hand update on sfr_net_params, a checkpoint
 * restores parameters and batch norm statistics bit for bit, and every
 * damaged, foreign or missing file is refused with the net untouched.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_bytes.h"
#include "common/common.h"
#include "net/net_state.h"
#include "sfr/sfr.h"
#include "temp_dir.h"

enum { BATCH = 3, IN_C = 2, IN_H = 6, IN_W = 6, CLASSES = 4 };

#define OK(call) ck_assert_int_eq((call), SFR_OK)

/*
 * input (2, 6, 6) -> conv 3x3, 3 channels, bias -> batchnorm -> relu
 * -> pool -> linear 4. other_pool picks a 6x6 average pool instead of the
 * global one: the same shapes and counts, another architecture.
 */
static sfr_net *build_net(int other_pool)
{
    sfr_net *net = NULL;
    int id = -1;
    OK(sfr_net_create(&net));
    OK(sfr_net_input(net, IN_C, IN_H, IN_W, &id));
    OK(sfr_net_conv2d(net, id, 3, 3, 1, 1, 1, &id));
    OK(sfr_net_batchnorm(net, id, &id));
    OK(sfr_net_relu(net, id, &id));
    if (other_pool)
        OK(sfr_net_avgpool(net, id, 6, 6, 0, &id));
    else
        OK(sfr_net_global_avgpool(net, id, &id));
    OK(sfr_net_linear(net, id, CLASSES, &id));
    return net;
}

static sfr_net *ready_net(uint64_t seed)
{
    sfr_net *net = build_net(0);
    OK(sfr_net_compile(net, BATCH));
    OK(sfr_net_init_params(net, seed));
    return net;
}

static void fill_input(float *x, int shift)
{
    for (int i = 0; i < BATCH * IN_C * IN_H * IN_W; i++)
        x[i] = (float)((i * 37 + shift * 11) % 29 - 14) / 7.0f;
}

/* A training forward and a backward with fixed dlogits. */
static void train_pass(sfr_net *net, int shift)
{
    float x[BATCH * IN_C * IN_H * IN_W], dl[BATCH * CLASSES];
    fill_input(x, shift);
    for (int i = 0; i < BATCH * CLASSES; i++)
        dl[i] = (float)(i % 5 - 2) / 4.0f;
    OK(sfr_net_forward(net, x, 1));
    OK(sfr_net_backward(net, dl));
}

/* Copies of a net's parameters and batch norm statistics. */
struct snapshot {
    float *params, *state;
    int64_t np, ns;
};

static struct snapshot take(const sfr_net *net)
{
    struct snapshot s;
    float *p = NULL, *st = NULL;
    sfri_net_param_buffer(net, &p, &s.np);
    sfri_net_state_buffer(net, &st, &s.ns);
    ck_assert_int_gt(s.np, 0);
    ck_assert_int_gt(s.ns, 0);
    s.params = malloc((size_t)s.np * sizeof(float));
    s.state = malloc((size_t)s.ns * sizeof(float));
    ck_assert(s.params != NULL && s.state != NULL);
    memcpy(s.params, p, (size_t)s.np * sizeof(float));
    memcpy(s.state, st, (size_t)s.ns * sizeof(float));
    return s;
}

static void assert_same(const sfr_net *net, const struct snapshot *s)
{
    float *p = NULL, *st = NULL;
    int64_t np = 0, ns = 0;
    sfri_net_param_buffer(net, &p, &np);
    sfri_net_state_buffer(net, &st, &ns);
    ck_assert_int_eq(np, s->np);
    ck_assert_int_eq(ns, s->ns);
    ck_assert_int_eq(memcmp(p, s->params, (size_t)np * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(st, s->state, (size_t)ns * sizeof(float)), 0);
}

static void drop(struct snapshot *s)
{
    free(s->params);
    free(s->state);
}

/* Writes size bytes of data to path. */
static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

START_TEST(sgd_step_equals_the_hand_update)
{
    const float lr = 0.1f, m = 0.9f, wd = 1e-3f;
    sfr_net *net = ready_net(3);
    sfr_sgd *opt = NULL;
    OK(sfr_sgd_create(&opt, lr, m, wd, 1));
    float *values = NULL, *grads = NULL;
    int64_t n = 0;
    OK(sfr_net_params(net, &values, &grads, &n));
    float *want = malloc((size_t)n * sizeof *want), *buf = malloc((size_t)n * sizeof *buf);
    ck_assert(want != NULL && buf != NULL);
    memcpy(want, values, (size_t)n * sizeof *want);
    for (int step = 0; step < 3; step++) {
        train_pass(net, step);
        int nonzero = 0;
        for (int64_t i = 0; i < n; i++) {
            float g = grads[i] + wd * want[i];
            buf[i] = step == 0 ? g : m * buf[i] + g;
            want[i] -= lr * (g + m * buf[i]);
            nonzero += grads[i] != 0.0f;
        }
        ck_assert_int_gt(nonzero, n / 2);
        OK(sfr_sgd_step(opt, net));
        ck_assert_int_eq(memcmp(values, want, (size_t)n * sizeof *want), 0);
    }
    free(want);
    free(buf);
    sfr_sgd_destroy(opt);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(sgd_refuses_a_net_of_another_size)
{
    sfr_net *a = ready_net(1);
    sfr_net *b = NULL;
    int id = -1;
    OK(sfr_net_create(&b));
    OK(sfr_net_input(b, 1, 2, 2, &id));
    OK(sfr_net_linear(b, id, 3, &id));
    OK(sfr_net_compile(b, 1));
    OK(sfr_net_init_params(b, 5));
    sfr_sgd *opt = NULL;
    OK(sfr_sgd_create(&opt, 0.5, 0.9, 0.0, 0));
    train_pass(a, 0);
    OK(sfr_sgd_step(opt, a));
    float *bv = NULL;
    int64_t bn = 0;
    OK(sfr_net_params(b, &bv, NULL, &bn));
    ck_assert_int_eq(bn, 3 * 4 + 3);
    float before[15];
    memcpy(before, bv, sizeof before);
    ck_assert_int_eq(sfr_sgd_step(opt, b), SFR_ERR_SHAPE);
    ck_assert_int_eq(memcmp(bv, before, sizeof before), 0);
    sfr_sgd_destroy(opt);
    sfr_net_destroy(a);
    sfr_net_destroy(b);
}
END_TEST

START_TEST(save_then_load_restores_bitwise)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    sfr_net *net = ready_net(11);
    train_pass(net, 0); /* running statistics move away from 0 and 1 */
    OK(sfr_net_save(net, path));
    ck_assert_int_eq(count_entries(dir), 1);
    struct snapshot saved = take(net);
    float x[BATCH * IN_C * IN_H * IN_W], out_saved[BATCH * CLASSES];
    const float *logits = NULL;
    int64_t dims[2];
    fill_input(x, 5);
    OK(sfr_net_forward(net, x, 0));
    OK(sfr_net_output(net, &logits, dims));
    memcpy(out_saved, logits, sizeof out_saved);

    /* Perturb parameters (a step) and statistics (a training forward). */
    sfr_sgd *opt = NULL;
    OK(sfr_sgd_create(&opt, 0.5, 0.0, 0.0, 0));
    train_pass(net, 1);
    OK(sfr_sgd_step(opt, net));
    train_pass(net, 2);
    struct snapshot moved = take(net);
    ck_assert_int_ne(memcmp(moved.params, saved.params, (size_t)saved.np * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(moved.state, saved.state, (size_t)saved.ns * sizeof(float)), 0);

    OK(sfr_net_load(net, path));
    assert_same(net, &saved);
    OK(sfr_net_forward(net, x, 0));
    OK(sfr_net_output(net, &logits, dims));
    ck_assert_int_eq(memcmp(logits, out_saved, sizeof out_saved), 0);

    drop(&saved);
    drop(&moved);
    sfr_sgd_destroy(opt);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

START_TEST(load_before_compile)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    sfr_net *net = ready_net(21);
    train_pass(net, 3);
    OK(sfr_net_save(net, path));
    struct snapshot saved = take(net);

    sfr_net *fresh = build_net(0);
    OK(sfr_net_load(fresh, path));
    assert_same(fresh, &saved);
    OK(sfr_net_compile(fresh, BATCH));
    assert_same(fresh, &saved);

    float x[BATCH * IN_C * IN_H * IN_W], want[BATCH * CLASSES];
    const float *logits = NULL;
    int64_t dims[2];
    fill_input(x, 4);
    OK(sfr_net_forward(net, x, 0));
    OK(sfr_net_output(net, &logits, dims));
    memcpy(want, logits, sizeof want);
    OK(sfr_net_forward(fresh, x, 0));
    OK(sfr_net_output(fresh, &logits, dims));
    ck_assert_int_eq(memcmp(logits, want, sizeof want), 0);

    /* And a net saved before compile loads into a compiled one. */
    sfr_net *unbuilt = build_net(0);
    OK(sfr_net_save(unbuilt, path));
    OK(sfr_net_load(net, path));
    struct snapshot blank = take(unbuilt);
    assert_same(net, &blank);

    drop(&saved);
    drop(&blank);
    sfr_net_destroy(unbuilt);
    sfr_net_destroy(fresh);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* Loading path into net must fail with want and change nothing. */
static void load_refused(sfr_net *net, const char *path, sfr_status want)
{
    struct snapshot before = take(net);
    ck_assert_int_eq(sfr_net_load(net, path), want);
    ck_assert(strncmp(sfr_last_error(), "sfr_net_load: ", 14) == 0);
    assert_same(net, &before);
    drop(&before);
}

START_TEST(bad_files_leave_the_net_untouched)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64], bad[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    sfr_net *net = ready_net(31);
    train_pass(net, 0);
    OK(sfr_net_save(net, path));
    train_pass(net, 1); /* the net now differs from the file */
    size_t size = 0;
    unsigned char *good = read_bytes(path, &size);

    const size_t cuts[] = {0, 1, 8, 39, 40, 47, 48, 100, size / 2, size - 8, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, good, cuts[i]);
        load_refused(net, bad, SFR_ERR_FORMAT);
    }
    for (size_t byte = 0; byte < size; byte += size / 37 + 1) {
        good[byte] ^= 0x10;
        write_bytes(bad, good, size);
        load_refused(net, bad, SFR_ERR_FORMAT);
        good[byte] ^= 0x10;
    }
    good[size - 1] ^= 0x80;
    write_bytes(bad, good, size);
    load_refused(net, bad, SFR_ERR_FORMAT);
    good[size - 1] ^= 0x80;

    /* Same shapes, other architecture; and another size altogether. */
    sfr_net *other = build_net(1);
    load_refused(other, path, SFR_ERR_FORMAT);
    ck_assert(strstr(sfr_last_error(), "another network") != NULL);
    sfr_net *small = NULL;
    int id = -1;
    OK(sfr_net_create(&small));
    OK(sfr_net_input(small, 1, 2, 2, &id));
    OK(sfr_net_batchnorm(small, id, &id));
    OK(sfr_net_linear(small, id, 3, &id));
    load_refused(small, path, SFR_ERR_FORMAT);

    snprintf(bad, sizeof bad, "%s/absent.ckpt", dir);
    load_refused(net, bad, SFR_ERR_IO);
    load_refused(net, dir, SFR_ERR_IO);

    /* The intact file still loads. */
    OK(sfr_net_load(net, path));
    free(good);
    sfr_net_destroy(small);
    sfr_net_destroy(other);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* Loads good (a sealed checkpoint of net) with its index-th body value set
 * to value and resealed, from path: the status must be want, and on
 * failure the net must be as it was. */
static void load_with_value(sfr_net *net, const unsigned char *good, size_t size, const char *path,
                            int64_t index, float value, sfr_status want)
{
    unsigned char *bytes = malloc(size);
    ck_assert_ptr_nonnull(bytes);
    memcpy(bytes, good, size);
    put_body_float(bytes, index, value);
    reseal(bytes, size);
    write_bytes(path, bytes, size);
    if (want == SFR_OK)
        OK(sfr_net_load(net, path));
    else
        load_refused(net, path, want);
    free(bytes);
}

/* Eval logits of net on a fixed batch, all finite. */
static void assert_finite_logits(sfr_net *net)
{
    float x[BATCH * IN_C * IN_H * IN_W];
    const float *logits = NULL;
    int64_t dims[2];
    fill_input(x, 9);
    OK(sfr_net_forward(net, x, 0));
    OK(sfr_net_output(net, &logits, dims));
    for (int i = 0; i < BATCH * CLASSES; i++)
        ck_assert_msg(isfinite(logits[i]), "logit %d is %g", i, (double)logits[i]);
}

/* A checkpoint with a correct checksum whose values are not numbers, or
 * whose running variance is negative, would make every eval forward
 * compute NaN or infinite logits: it is refused and the net is unchanged. */
START_TEST(values_that_are_not_numbers_are_refused)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64], bad[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    sfr_net *net = ready_net(51);
    train_pass(net, 0);
    OK(sfr_net_save(net, path));
    train_pass(net, 1); /* the net now differs from the file */
    size_t size = 0;
    unsigned char *good = read_bytes(path, &size);
    int64_t np = 0;
    OK(sfr_net_params(net, NULL, NULL, &np));
    /* State: the batch norm's running mean (3 values) then variance (3). */
    const int64_t where[] = {0, np / 2, np - 1, np, np + 2, np + 3, np + 5};
    const float not_numbers[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        for (size_t v = 0; v < sizeof not_numbers / sizeof not_numbers[0]; v++)
            load_with_value(net, good, size, bad, where[i], not_numbers[v], SFR_ERR_FORMAT);
    ck_assert(strstr(sfr_last_error(), "state value 5 is not a finite number") != NULL);
    for (int64_t var = np + 3; var < np + 6; var++)
        load_with_value(net, good, size, bad, var, -1e-3f, SFR_ERR_FORMAT);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_load: state value 5, a batch norm running "
                                       "variance, is negative (-0.001)");
    load_with_value(net, good, size, bad, np + 3, -FLT_MIN, SFR_ERR_FORMAT);
    assert_finite_logits(net);

    /* A variance of zero and a negative mean are numbers a net can hold. */
    load_with_value(net, good, size, bad, np + 3, 0.0f, SFR_OK);
    load_with_value(net, good, size, bad, np + 0, -5.0f, SFR_OK);
    assert_finite_logits(net);
    free(good);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* A net holding a NaN or an infinity is not saved: the last good
 * checkpoint stays, and nothing else is written. */
START_TEST(save_refuses_values_that_are_not_numbers)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    sfr_net *net = ready_net(61);
    OK(sfr_net_save(net, path));
    size_t size = 0;
    unsigned char *good = read_bytes(path, &size);
    float *values = NULL;
    int64_t np = 0;
    OK(sfr_net_params(net, &values, NULL, &np));
    const int64_t where[] = {0, np - 1};
    const float not_numbers[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 2; i++)
        for (size_t v = 0; v < 3; v++) {
            float kept = values[where[i]];
            values[where[i]] = not_numbers[v];
            ck_assert_int_eq(sfr_net_save(net, path), SFR_ERR_NONFINITE);
            ck_assert(strstr(sfr_last_error(), "nothing written") != NULL);
            values[where[i]] = kept;
            size_t now = 0;
            unsigned char *bytes = read_bytes(path, &now);
            ck_assert_uint_eq(now, size);
            ck_assert_int_eq(memcmp(bytes, good, size), 0);
            free(bytes);
            ck_assert_int_eq(count_entries(dir), 1);
        }
    OK(sfr_net_save(net, path));
    free(good);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* Saving through a symbolic link replaces its target and leaves the link;
 * the target keeps its mode; loading through the link reads it back. */
START_TEST(save_through_a_link_keeps_the_link_and_the_mode)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64], link[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    snprintf(link, sizeof link, "%s/latest.ckpt", dir);
    sfr_net *net = ready_net(81);
    OK(sfr_net_save(net, path));
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(symlink("net.ckpt", link), 0);
    train_pass(net, 0);
    struct snapshot saved = take(net);
    OK(sfr_net_save(net, link));
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(count_entries(dir), 2);
    train_pass(net, 1);
    OK(sfr_net_load(net, link));
    assert_same(net, &saved);
    drop(&saved);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* The largest resident size of this process so far, in KiB. */
static long max_rss_kib(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* A sparse file of size bytes (no disk taken) starting with head. */
static void sparse_file(const char *path, off_t size, const void *head, size_t head_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    ck_assert(head_size == 0 || pwrite(fd, head, head_size, 0) == (ssize_t)head_size);
    ck_assert_int_eq(close(fd), 0);
}

/* A FIFO is refused at once (it was opened first, and waited for a
 * writer forever); a large file that is not this net's checkpoint is
 * refused from its header and size, without being read (a 1 GiB file
 * took 1 GB of memory, a 100 GiB one gave SFR_ERR_NOMEM). */
START_TEST(special_and_huge_files_are_refused_without_reading_them)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[64], bad[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/special", dir);
    sfr_net *net = ready_net(71);
    OK(sfr_net_save(net, path));
    train_pass(net, 0);
    size_t size = 0;
    unsigned char *good = read_bytes(path, &size);

    ck_assert_int_eq(mkfifo(bad, 0600), 0);
    load_refused(net, bad, SFR_ERR_IO);
    ck_assert(strstr(sfr_last_error(), "is not a regular file") != NULL);
    ck_assert_int_eq(unlink(bad), 0);

    long rss = max_rss_kib();
    const off_t huge = (off_t)100 << 30, large = (off_t)256 << 20;
    sparse_file(bad, huge, NULL, 0);
    load_refused(net, bad, SFR_ERR_FORMAT);
    ck_assert(strstr(sfr_last_error(), "wrong magic") != NULL);
    sparse_file(bad, huge, good, SFRI_CKPT_HEADER_BYTES); /* this net's header */
    load_refused(net, bad, SFR_ERR_FORMAT);
    ck_assert(strstr(sfr_last_error(), "truncated or damaged") != NULL);
    sparse_file(bad, large, NULL, 0);
    load_refused(net, bad, SFR_ERR_FORMAT);
    sparse_file(bad, large, good, size); /* the whole checkpoint, then zeros */
    load_refused(net, bad, SFR_ERR_FORMAT);
    ck_assert_int_lt(max_rss_kib() - rss, 32 * 1024);

    OK(sfr_net_load(net, path));
    free(good);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

START_TEST(save_and_load_validate_arguments)
{
    char dir[] = "/tmp/sfr-persist-XXXXXX", path[80];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sfr_net *net = ready_net(41);
    uint32_t dead = SFRI_MAGIC_DEAD, tap_word = SFRI_MAGIC_TAP;
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    ck_assert_int_eq(sfr_net_save(NULL, path), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_save(net, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_save: path is NULL");
    ck_assert_int_eq(sfr_net_save(net, ""), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_save: path is empty");
    ck_assert_int_eq(sfr_net_save((const sfr_net *)&dead, path), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_load((sfr_net *)&tap_word, path), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_load(NULL, path), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_load(net, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_load(net, ""), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(count_entries(dir), 0);

    snprintf(path, sizeof path, "%s/missing/net.ckpt", dir);
    ck_assert_int_eq(sfr_net_save(net, path), SFR_ERR_IO);
    ck_assert_int_eq(count_entries(dir), 0);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

/* The whole of a file, in a malloc'ed buffer. */
static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

START_TEST(memory_checkpoints_are_the_file_bytes_and_load_back)
{
    char dir[64], path[96];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    sfr_net *net = ready_net(3);
    train_pass(net, 1); /* running statistics away from 0 and 1 */
    OK(sfr_net_save(net, path));
    size_t file_size, size = 0;
    unsigned char *file = read_all(path, &file_size);
    OK(sfr_net_save_memory(net, NULL, 0, &size));
    ck_assert_uint_eq(size, file_size);
    unsigned char *mem = malloc(size);
    size_t written = 0;
    /* Too small: nothing written, the size is reported in the message. */
    memset(mem, 0xAB, size);
    ck_assert_int_eq(sfr_net_save_memory(net, mem, size - 1, &written), SFR_ERR_SHAPE);
    ck_assert_uint_eq(written, 0);
    ck_assert(mem[0] == 0xAB && mem[size - 2] == 0xAB);
    ck_assert_int_eq(sfr_net_save_memory(net, mem, size, NULL), SFR_ERR_INVALID_ARG);
    OK(sfr_net_save_memory(net, mem, size, &written));
    ck_assert_uint_eq(written, size);
    ck_assert_int_eq(memcmp(mem, file, size), 0);

    /* Another net of the same architecture takes it, bit for bit. */
    sfr_net *other = ready_net(9);
    OK(sfr_net_load_memory(other, mem, size));
    float *a, *b, *sa, *sb;
    int64_t n, ns;
    OK(sfr_net_params(net, &a, NULL, &n));
    OK(sfr_net_params(other, &b, NULL, NULL));
    ck_assert_int_eq(memcmp(a, b, (size_t)n * sizeof *a), 0);
    OK(sfr_net_buffers(net, &sa, &ns));
    OK(sfr_net_buffers(other, &sb, NULL));
    ck_assert_int_eq(memcmp(sa, sb, (size_t)ns * sizeof *sa), 0);

    /* A flipped byte, a short buffer, a NULL one: refused, net unchanged. */
    sfr_net *third = ready_net(5);
    float *c;
    OK(sfr_net_params(third, &c, NULL, NULL));
    float *before = malloc((size_t)n * sizeof *before);
    memcpy(before, c, (size_t)n * sizeof *c);
    mem[size / 2] ^= 0x10;
    ck_assert_int_eq(sfr_net_load_memory(third, mem, size), SFR_ERR_FORMAT);
    mem[size / 2] ^= 0x10;
    ck_assert_int_eq(sfr_net_load_memory(third, mem, size - 8), SFR_ERR_FORMAT);
    ck_assert_int_eq(sfr_net_load_memory(third, mem, 3), SFR_ERR_FORMAT);
    ck_assert_int_eq(sfr_net_load_memory(third, NULL, size), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_load_memory: buf is NULL");
    ck_assert_int_eq(memcmp(before, c, (size_t)n * sizeof *c), 0);
    /* Another architecture with the same counts: refused by its signature. */
    sfr_net *shaped = build_net(1);
    OK(sfr_net_compile(shaped, BATCH));
    ck_assert_int_eq(sfr_net_load_memory(shaped, mem, size), SFR_ERR_FORMAT);

    /* A NaN parameter: nothing written. */
    a[0] = NAN;
    memset(mem, 0xAB, size);
    ck_assert_int_eq(sfr_net_save_memory(net, mem, size, &written), SFR_ERR_NONFINITE);
    ck_assert(mem[0] == 0xAB);
    free(before);
    free(mem);
    free(file);
    sfr_net_destroy(shaped);
    sfr_net_destroy(third);
    sfr_net_destroy(other);
    sfr_net_destroy(net);
    remove_tree(dir);
}
END_TEST

Suite *net_persist_suite(void)
{
    Suite *s = suite_create("net_persist");
    TCase *tc = tcase_create("sgd_on_net");
    tcase_add_test(tc, sgd_step_equals_the_hand_update);
    tcase_add_test(tc, sgd_refuses_a_net_of_another_size);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("checkpoint_on_net");
    tcase_add_test(tc, save_then_load_restores_bitwise);
    tcase_add_test(tc, load_before_compile);
    tcase_add_test(tc, bad_files_leave_the_net_untouched);
    tcase_add_test(tc, save_and_load_validate_arguments);
    tcase_add_test(tc, values_that_are_not_numbers_are_refused);
    tcase_add_test(tc, save_refuses_values_that_are_not_numbers);
    tcase_add_test(tc, save_through_a_link_keeps_the_link_and_the_mode);
    tcase_add_test(tc, memory_checkpoints_are_the_file_bytes_and_load_back);
    tcase_add_test(tc, special_and_huge_files_are_refused_without_reading_them);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
