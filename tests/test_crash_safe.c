/*
 * Crash-safe checkpoints: a child process saves checkpoints of two states
 * A and B over one file, alternately and without pause, and is killed with
 * SIGKILL at a random moment. After every kill the file must be, byte for
 * byte, the complete checkpoint of A or of B, and a fresh net must load it
 * and hold exactly A's or B's parameters.
 *
 * Every libsfr call happens in a child: the test process itself never
 * starts libsfr's (OpenMP's) threads, so that each fork starts clean.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sfr/sfr.h"

enum { TRIALS = 40 };

static const uint64_t SEED_A = 11, SEED_B = 22;

/* The two reference checkpoints' bytes; at file scope so that the forked
 * children, which exit without freeing, still reach them (valgrind). */
static unsigned char *a, *b;

/* A net whose checkpoint is large enough (about 270 KB) to be caught
 * half-written: input 1x32x32, conv 3x3 to 8 channels, BN, ReLU, linear 10. */
static sfr_net *small_net(void)
{
    sfr_net *net = NULL;
    int id = 0;
    if (sfr_net_create(&net) != SFR_OK)
        return NULL;
    if (sfr_net_input(net, 1, 32, 32, &id) != SFR_OK ||
        sfr_net_conv2d(net, id, 8, 3, 1, 1, 1, &id) != SFR_OK ||
        sfr_net_batchnorm(net, id, &id) != SFR_OK || sfr_net_relu(net, id, &id) != SFR_OK ||
        sfr_net_linear(net, id, 8, &id) != SFR_OK) {
        sfr_net_destroy(net);
        return NULL;
    }
    return net;
}

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Child: writes A's and B's checkpoints to a_path and b_path, reports the
 * microseconds one round of save_forever (parameters drawn, then saved) took
 * on time_fd (the kills are spread over a few rounds whatever the machine's
 * speed, sanitizers and valgrind included, where drawing the parameters can
 * take longer than saving them), and exits. */
static void write_references(const char *a_path, const char *b_path, int time_fd)
{
    sfr_set_num_threads(1);
    sfr_net *net = small_net();
    int ok = net != NULL && sfr_net_init_params(net, SEED_A) == SFR_OK &&
             sfr_net_save(net, a_path) == SFR_OK;
    long start = now_us();
    ok = ok && sfr_net_init_params(net, SEED_B) == SFR_OK && sfr_net_save(net, b_path) == SFR_OK;
    long took = now_us() - start;
    ok = ok && write(time_fd, &took, sizeof took) == (ssize_t)sizeof took;
    sfr_net_destroy(net);
    _exit(ok ? 0 : 1);
}

/* Child: saves once beside path (so that its rounds run as fast as the
 * warm one write_references timed: under valgrind a first run of any code
 * is translated first), tells the parent it is ready, then saves B, A, B,
 * ... over path until it is killed. */
static void save_forever(const char *path, int ready_fd)
{
    sfr_set_num_threads(1);
    sfr_net *net = small_net();
    char warm[80];
    snprintf(warm, sizeof warm, "%s.warm", path);
    if (net == NULL || sfr_net_init_params(net, SEED_A) != SFR_OK ||
        sfr_net_save(net, warm) != SFR_OK)
        _exit(1);
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (unsigned i = 0;; i++) {
        if (sfr_net_init_params(net, i % 2 == 0 ? SEED_B : SEED_A) != SFR_OK ||
            sfr_net_save(net, path) != SFR_OK)
            _exit(1);
    }
}

/* Child: loads path into a fresh net and exits 'A' or 'B' for the state
 * whose parameters it holds exactly, 1 for anything else. */
static void load_and_identify(const char *path)
{
    sfr_set_num_threads(1);
    sfr_net *loaded = small_net(), *ref = small_net();
    int code = 1;
    float *got = NULL, *want = NULL, *unused = NULL;
    int64_t n = 0, m = 0;
    if (loaded != NULL && ref != NULL && sfr_net_load(loaded, path) == SFR_OK &&
        sfr_net_params(loaded, &got, &unused, &n) == SFR_OK) {
        for (int s = 0; s < 2 && code == 1; s++) {
            if (sfr_net_init_params(ref, s == 0 ? SEED_A : SEED_B) == SFR_OK &&
                sfr_net_params(ref, &want, &unused, &m) == SFR_OK && m == n &&
                memcmp(got, want, (size_t)n * sizeof *got) == 0)
                code = s == 0 ? 'A' : 'B';
        }
    }
    sfr_net_destroy(loaded);
    sfr_net_destroy(ref);
    _exit(code);
}

/* Waits for child pid and returns its exit status (-1 if it was killed). */
static int child_status(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static unsigned char *read_all(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    *size = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)*size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return buf;
}

/* Files in dir whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static int same_file(const char *path, const unsigned char *bytes, long size)
{
    long n = 0;
    unsigned char *got = read_all(path, &n);
    int same = n == size && memcmp(got, bytes, (size_t)n) == 0;
    free(got);
    return same;
}

START_TEST(killed_save_leaves_old_or_new_checkpoint)
{
    char dir[] = "/tmp/sfr-crash-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a_path[64], b_path[64], path[64];
    snprintf(a_path, sizeof a_path, "%s/a.ckpt", dir);
    snprintf(b_path, sizeof b_path, "%s/b.ckpt", dir);
    snprintf(path, sizeof path, "%s/net.ckpt", dir);

    int time_fds[2];
    ck_assert_int_eq(pipe(time_fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        write_references(a_path, b_path, time_fds[1]);
    ck_assert_int_eq(child_status(pid), 0);
    long save_us = 0;
    ck_assert_int_eq(read(time_fds[0], &save_us, sizeof save_us), (ssize_t)sizeof save_us);
    close(time_fds[0]);
    close(time_fds[1]);
    /* Kills fall anywhere in the first three rounds or so. */
    long max_delay_us = 3 * save_us + 100;
    long a_size = 0, b_size = 0;
    a = read_all(a_path, &a_size);
    b = read_all(b_path, &b_size);
    ck_assert_int_gt(a_size, 200000);
    ck_assert_msg(a_size == b_size && memcmp(a, b, (size_t)a_size) != 0,
                  "A and B must be distinct checkpoints of one net");
    /* The file starts as A: the first save the child completes makes it B. */
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(a, 1, (size_t)a_size, f), (size_t)a_size);
    ck_assert_int_eq(fclose(f), 0);

    unsigned seed = (unsigned)time(NULL);
    int seen[2] = {0, 0};
    for (int trial = 0; trial < TRIALS; trial++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            save_forever(path, fds[1]);
        }
        close(fds[1]);
        char c = 0;
        ck_assert_int_eq(read(fds[0], &c, 1), 1);
        close(fds[0]);
        usleep((useconds_t)(rand_r(&seed) % max_delay_us));
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(child_status(pid), -1);

        int is_a = same_file(path, a, a_size), is_b = same_file(path, b, b_size);
        ck_assert_msg(is_a || is_b, "trial %d (seed %u): the file is neither A nor B", trial,
                      seed);
        seen[is_b]++;
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            load_and_identify(path);
        ck_assert_int_eq(child_status(pid), is_a ? 'A' : 'B');
    }
    /* Kills landed after saves of each state, and inside saves: those leave
     * their temporary file behind (the documented cost of a crash). */
    ck_assert_msg(seen[0] > 0 && seen[1] > 0, "A seen %d times, B %d times", seen[0], seen[1]);
    ck_assert_int_gt(count_files(dir, "net.ckpt.tmp-"), 0);
    free(a);
    free(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *crash_safe_suite(void)
{
    Suite *s = suite_create("crash_safe");
    TCase *tc = tcase_create("sigkill");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, killed_save_leaves_old_or_new_checkpoint);
    suite_add_tcase(s, tc);
    return s;
}
