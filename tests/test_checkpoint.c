/*
 * Checkpoints without a net: the byte format (layout, round trip, every kind
 * of damage, values that are not numbers) and the file layer (atomic write
 * through links and keeping modes, a directory sync failing after the
 * rename, careful reads, I/O errors, no temporary file left behind).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/common.h"
#include "common/file_io.h"
#include "net/checkpoint_format.h"
#include "sfr/sfr.h"
#include "checkpoint_bytes.h"
#include "temp_dir.h"

enum { NP = 5, NS = 3 };
#define SIG 0x0123456789abcdefull
#define CKPT_BYTES (SFRI_CKPT_HEADER_BYTES + 4 * (NP + NS) + SFRI_CKPT_TRAILER_BYTES)

/* Parameters with the awkward values a format must carry bit for bit. */
static void sample_floats(float params[NP], float state[NS])
{
    params[0] = 1.5f;
    params[1] = -0.0f;
    params[2] = FLT_MAX;
    params[3] = -FLT_MIN;
    params[4] = 1e-45f; /* the smallest subnormal */
    state[0] = -3.25f;
    state[1] = 0.1f;
    state[2] = 123456.789f;
}

static void encode_sample(unsigned char out[CKPT_BYTES])
{
    float params[NP], state[NS];
    sample_floats(params, state);
    sfri_ckpt_encode(out, SIG, 10203u, params, NP, state, NS);
}

/* Decoding must fail with SFR_ERR_FORMAT and leave the outputs alone. */
static void decode_rejects(const unsigned char *data, size_t size, uint64_t sig, int64_t np,
                           int64_t ns)
{
    float params[NP + 2], state[NS + 2], pristine[NP + NS + 4];
    for (int i = 0; i < NP + NS + 4; i++)
        pristine[i] = (float)(7 * i + 1);
    memcpy(params, pristine, sizeof params);
    memcpy(state, pristine + NP + 2, sizeof state);
    ck_assert_int_eq(sfri_ckpt_decode(data, size, sig, params, np, state, ns, "load"),
                     SFR_ERR_FORMAT);
    ck_assert_int_eq(memcmp(params, pristine, sizeof params), 0);
    ck_assert_int_eq(memcmp(state, pristine + NP + 2, sizeof state), 0);
}

START_TEST(fnv1a64_known_vectors)
{
    /* The published FNV-1a 64-bit test vectors. */
    ck_assert_uint_eq(sfri_fnv1a64("", 0), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(sfri_fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(sfri_fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}
END_TEST

START_TEST(layout_is_little_endian_and_documented)
{
    unsigned char buf[CKPT_BYTES];
    encode_sample(buf);
    ck_assert_uint_eq(sfri_ckpt_size(NP, NS), CKPT_BYTES);
    static const unsigned char header[SFRI_CKPT_HEADER_BYTES] = {
        'S', 'F', 'R', 'C', 'K', 'P', 'T', '\n',          /* magic */
        1, 0, 0, 0,                                       /* format version */
        0xdb, 0x27, 0, 0,                                 /* library 10203 */
        0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,   /* signature */
        NP, 0, 0, 0, 0, 0, 0, 0,                          /* parameters */
        NS, 0, 0, 0, 0, 0, 0, 0};                         /* state values */
    ck_assert_int_eq(memcmp(buf, header, sizeof header), 0);
    /* 1.5f is 0x3fc00000, -0.0f is 0x80000000. */
    static const unsigned char first_two[8] = {0, 0, 0xc0, 0x3f, 0, 0, 0, 0x80};
    ck_assert_int_eq(memcmp(buf + SFRI_CKPT_HEADER_BYTES, first_two, 8), 0);
    uint64_t sum = 0;
    for (int i = 7; i >= 0; i--)
        sum = sum << 8 | buf[CKPT_BYTES - 8 + i];
    ck_assert_uint_eq(sum, sfri_fnv1a64(buf, CKPT_BYTES - 8));
}
END_TEST

START_TEST(round_trip_is_bitwise)
{
    unsigned char buf[CKPT_BYTES];
    encode_sample(buf);
    float want_p[NP], want_s[NS], got_p[NP], got_s[NS];
    sample_floats(want_p, want_s);
    memset(got_p, 0x55, sizeof got_p);
    memset(got_s, 0x55, sizeof got_s);
    ck_assert_int_eq(sfri_ckpt_decode(buf, sizeof buf, SIG, got_p, NP, got_s, NS, "load"),
                     SFR_OK);
    ck_assert_int_eq(memcmp(got_p, want_p, sizeof got_p), 0);
    ck_assert_int_eq(memcmp(got_s, want_s, sizeof got_s), 0);
}
END_TEST

START_TEST(empty_net_round_trips)
{
    unsigned char buf[SFRI_CKPT_HEADER_BYTES + SFRI_CKPT_TRAILER_BYTES];
    ck_assert_uint_eq(sfri_ckpt_size(0, 0), sizeof buf);
    sfri_ckpt_encode(buf, 42, 100, NULL, 0, NULL, 0);
    ck_assert_int_eq(sfri_ckpt_decode(buf, sizeof buf, 42, NULL, 0, NULL, 0, "load"), SFR_OK);
    decode_rejects(buf, sizeof buf, 43, 0, 0);
}
END_TEST

START_TEST(every_truncation_is_rejected)
{
    unsigned char buf[CKPT_BYTES + 1];
    encode_sample(buf);
    for (size_t len = 0; len < CKPT_BYTES; len++)
        decode_rejects(buf, len, SIG, NP, NS);
    buf[CKPT_BYTES] = 0;
    decode_rejects(buf, CKPT_BYTES + 1, SIG, NP, NS);
    ck_assert_str_eq(sfr_last_error(),
                     "load: 81 bytes, but the header's counts (5 parameters, 3 state values) "
                     "need 80: truncated or damaged");
}
END_TEST

START_TEST(every_bit_flip_is_rejected)
{
    unsigned char buf[CKPT_BYTES];
    encode_sample(buf);
    for (size_t bit = 0; bit < 8 * CKPT_BYTES; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        decode_rejects(buf, sizeof buf, SIG, NP, NS);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* Back to the original, it loads again. */
    float p[NP], s[NS];
    ck_assert_int_eq(sfri_ckpt_decode(buf, sizeof buf, SIG, p, NP, s, NS, "load"), SFR_OK);
}
END_TEST

START_TEST(wrong_magic_version_signature_counts)
{
    unsigned char buf[CKPT_BYTES];
    encode_sample(buf);
    buf[0] = 'X';
    reseal(buf, sizeof buf);
    decode_rejects(buf, sizeof buf, SIG, NP, NS);
    ck_assert_str_eq(sfr_last_error(), "load: not a libsfr checkpoint (wrong magic)");

    encode_sample(buf);
    buf[8] = 2;
    reseal(buf, sizeof buf);
    decode_rejects(buf, sizeof buf, SIG, NP, NS);
    ck_assert_str_eq(sfr_last_error(),
                     "load: checkpoint format version 2, this library reads version 1");

    encode_sample(buf);
    decode_rejects(buf, sizeof buf, SIG ^ 1u, NP, NS);
    ck_assert_str_eq(sfr_last_error(),
                     "load: the checkpoint is of another network (architecture signature "
                     "0x0123456789abcdef, this net 0x0123456789abcdee)");

    /* Same total size, split differently between parameters and state. */
    decode_rejects(buf, sizeof buf, SIG, NP + 1, NS - 1);
    ck_assert_str_eq(sfr_last_error(),
                     "load: the checkpoint holds 5 parameters and 3 state values, this net 6 and 2");
    decode_rejects(buf, sizeof buf, SIG, NP - 1, NS);

    /* Counts rewritten consistently with a longer file still need the bytes. */
    buf[24] = NP + 1;
    reseal(buf, sizeof buf);
    decode_rejects(buf, sizeof buf, SIG, NP + 1, NS);

    /* The library version is informative: another one still loads. */
    encode_sample(buf);
    buf[12] ^= 0xff;
    reseal(buf, sizeof buf);
    float p[NP], s[NS];
    ck_assert_int_eq(sfri_ckpt_decode(buf, sizeof buf, SIG, p, NP, s, NS, "load"), SFR_OK);
}
END_TEST

/* A sealed checkpoint (right checksum) holding a NaN or an infinity
 * anywhere is refused: no loaded net may compute with it. */
START_TEST(nonfinite_values_are_rejected)
{
    const uint32_t bad[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffc12345u};
    unsigned char buf[CKPT_BYTES];
    for (int i = 0; i < NP + NS; i++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            float value;
            memcpy(&value, &bad[b], sizeof value);
            encode_sample(buf);
            put_body_float(buf, i, value);
            reseal(buf, sizeof buf);
            decode_rejects(buf, sizeof buf, SIG, NP, NS);
        }
    ck_assert_str_eq(sfr_last_error(),
                     "load: state value 2 is not a finite number (bits 0xffc12345)");
    ck_assert_int_eq(sfri_ckpt_verify(buf, sizeof buf, SIG, NP, NS, "load"), SFR_ERR_FORMAT);
    /* The largest finite values are numbers. */
    encode_sample(buf);
    ck_assert_int_eq(sfri_ckpt_verify(buf, sizeof buf, SIG, NP, NS, "load"), SFR_OK);
}
END_TEST

/* The header alone decides, given the file's size: every check it can make
 * is made before the rest of a file is read. */
START_TEST(header_checks_need_only_the_header_and_the_size)
{
    unsigned char buf[CKPT_BYTES];
    encode_sample(buf);
    ck_assert_int_eq(sfri_ckpt_check_header(buf, CKPT_BYTES, NP, NS, "load"), SFR_OK);
    ck_assert_int_eq(sfri_ckpt_check_header(buf, 47, NP, NS, "load"), SFR_ERR_FORMAT);
    ck_assert_int_eq(sfri_ckpt_check_header(buf, (uint64_t)100 << 30, NP, NS, "load"),
                     SFR_ERR_FORMAT);
    ck_assert_str_eq(sfr_last_error(),
                     "load: 107374182400 bytes, but the header's counts (5 parameters, 3 state "
                     "values) need 80: truncated or damaged");
    ck_assert_int_eq(sfri_ckpt_check_header(buf, CKPT_BYTES, NP + 1, NS - 1, "load"),
                     SFR_ERR_FORMAT);
    unsigned char zeros[SFRI_CKPT_HEADER_BYTES] = {0};
    ck_assert_int_eq(sfri_ckpt_check_header(zeros, UINT64_MAX, NP, NS, "load"), SFR_ERR_FORMAT);
    ck_assert_str_eq(sfr_last_error(), "load: not a libsfr checkpoint (wrong magic)");
}
END_TEST

START_TEST(huge_counts_do_not_overflow)
{
    unsigned char buf[CKPT_BYTES];
    for (int which = 24; which <= 32; which += 8) {
        encode_sample(buf);
        memset(buf + which, 0xff, 8);
        reseal(buf, sizeof buf);
        decode_rejects(buf, sizeof buf, SIG, NP, NS);
    }
    encode_sample(buf);
    memset(buf + 24, 0xff, 16); /* both at the maximum: their sum wraps around */
    reseal(buf, sizeof buf);
    decode_rejects(buf, sizeof buf, SIG, NP, NS);
    ck_assert_uint_eq(sfri_ckpt_size(-1, 0), SIZE_MAX);
    ck_assert_uint_eq(sfri_ckpt_size(0, INT64_MAX), SIZE_MAX);
    ck_assert_uint_eq(sfri_ckpt_size(INT64_MAX / 4, INT64_MAX / 4), SIZE_MAX);
}
END_TEST

START_TEST(random_bytes_are_rejected)
{
    unsigned char buf[CKPT_BYTES];
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % (CKPT_BYTES + 1));
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (unsigned char)x;
        }
        /* Half the time a valid header, so the later checks are reached. */
        if (round % 2 == 0 && len >= 16)
            memcpy(buf, "SFRCKPT\n\1\0\0\0", 12);
        decode_rejects(buf, len, SIG, NP, NS);
    }
}
END_TEST

/* Asserts that path holds exactly the size bytes of want, read through
 * sfri_open_regular and sfri_read_at. */
static void assert_content(const char *path, const char *want, size_t size)
{
    int fd = -1;
    uint64_t file_size = 0;
    char got[64];
    ck_assert_uint_lt(size, sizeof got);
    ck_assert_int_eq(sfri_open_regular(path, &fd, &file_size, "load"), SFR_OK);
    ck_assert_uint_eq(file_size, size);
    ck_assert_int_eq(sfri_read_at(fd, got, size, 0, path, "load"), SFR_OK);
    ck_assert_int_eq(memcmp(got, want, size), 0);
    /* One byte more than the file holds is an I/O error. */
    ck_assert_int_eq(sfri_read_at(fd, got, 1, size, path, "load"), SFR_ERR_IO);
    close(fd);
}

START_TEST(atomic_write_then_read)
{
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    ck_assert_int_eq(sfri_write_file_atomic(path, "first version", 13, "save"), SFR_OK);
    ck_assert_int_eq(sfri_write_file_atomic(path, "second", 6, "save"), SFR_OK);
    ck_assert_int_eq(count_entries(dir), 1);
    assert_content(path, "second", 6);
    ck_assert_int_eq(sfri_write_file_atomic(path, "", 0, "save"), SFR_OK);
    assert_content(path, "", 0);
    /* A new file: the umask decides the mode, as for any file the host creates. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(sfri_write_file_atomic(path, "new", 3, "save"), SFR_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    mode_t mask = umask(022);
    umask(mask);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);
    remove_tree(dir);
}
END_TEST

START_TEST(write_into_missing_directory_is_io_and_leaves_nothing)
{
    char dir[64], path[160];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/missing/model.ckpt", dir);
    ck_assert_int_eq(sfri_write_file_atomic(path, "x", 1, "save"), SFR_ERR_IO);
    ck_assert(strncmp(sfr_last_error(), "save: cannot create a temporary file beside '", 45) == 0);
    ck_assert_int_eq(count_entries(dir), 0);
    remove_tree(dir);
}
END_TEST

START_TEST(failed_rename_removes_the_temporary)
{
    /* path is a non-empty directory: the temporary is written, the rename
     * over it fails, and the temporary must not stay behind. */
    char dir[64], path[128], inner[160];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    FILE *f = fopen(inner, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(sfri_write_file_atomic(path, "data", 4, "save"), SFR_ERR_IO);
    ck_assert(strncmp(sfr_last_error(), "save: cannot rename over '", 26) == 0);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(count_entries(path), 1);
    remove_tree(dir);
}
END_TEST

START_TEST(read_missing_or_unreadable_is_io)
{
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/absent.ckpt", dir);
    int fd = 77;
    uint64_t size = 77;
    ck_assert_int_eq(sfri_open_regular(path, &fd, &size, "load"), SFR_ERR_IO);
    ck_assert(strstr(sfr_last_error(), "cannot open") != NULL);
    ck_assert_int_eq(sfri_open_regular(dir, &fd, &size, "load"), SFR_ERR_IO);
    ck_assert(strstr(sfr_last_error(), "is not a regular file") != NULL);
    /* A FIFO without a writer: refused at once, not waited on. */
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(sfri_open_regular(path, &fd, &size, "load"), SFR_ERR_IO);
    ck_assert(strstr(sfr_last_error(), "is not a regular file") != NULL);
    ck_assert_int_eq(fd, 77);
    ck_assert_uint_eq(size, 77);
    remove_tree(dir);
}
END_TEST

/* Arms the directory fsync failure of the fsync below. */
static int fail_directory_sync;

/*
 * The test program's fsync, which the library's calls reach (the runner
 * links libsfr statically): the system's, except that with
 * fail_directory_sync set a directory's fails with EIO, as a file system
 * may after the rename of a save.
 */
int fsync(int fd)
{
    struct stat st;
    if (fail_directory_sync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

/* Once the rename is done nothing can be undone: a failing directory sync
 * is SFR_ERR_IO, and the message says the file was replaced. */
START_TEST(directory_sync_failing_after_the_rename)
{
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    ck_assert_int_eq(sfri_write_file_atomic(path, "old", 3, "save"), SFR_OK);
    fail_directory_sync = 1;
    ck_assert_int_eq(sfri_write_file_atomic(path, "new", 3, "save"), SFR_ERR_IO);
    fail_directory_sync = 0;
    char want[512];
    snprintf(want, sizeof want,
             "save: '%s' was replaced by the new content, but its directory cannot be synced "
             "(Input/output error): the replacement may not survive a power loss",
             path);
    ck_assert_str_eq(sfr_last_error(), want);
    assert_content(path, "new", 3);
    ck_assert_int_eq(count_entries(dir), 1);
    remove_tree(dir);
}
END_TEST

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* A replaced file keeps its permission bits, narrower or wider than the
 * umask would give; the temporary is never more open than the file. */
START_TEST(replaced_file_keeps_its_mode)
{
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    const mode_t modes[] = {0600, 0640, 0664, 0444};
    mode_t mask = umask(022);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ck_assert_int_eq(sfri_write_file_atomic(path, "old", 3, "save"), SFR_OK);
        ck_assert_int_eq(chmod(path, modes[i]), 0);
        ck_assert_int_eq(sfri_write_file_atomic(path, "new", 3, "save"), SFR_OK);
        ck_assert_uint_eq(mode_of(path), modes[i]);
        assert_content(path, "new", 3);
        ck_assert_int_eq(count_entries(dir), 1);
    }
    umask(mask);
    remove_tree(dir);
}
END_TEST

/* Saving through a symbolic link replaces the file it leads to (relative
 * or absolute, through a chain, or not existing yet) and the link stays. */
START_TEST(write_through_a_link_replaces_its_target)
{
    char dir[64], other[64], path[160], link[160], chain[160], target[160];
    make_temp_dir(dir);
    make_temp_dir(other);
    snprintf(path, sizeof path, "%s/real.ckpt", dir);
    snprintf(link, sizeof link, "%s/link.ckpt", dir);
    snprintf(chain, sizeof chain, "%s/chain.ckpt", other);
    ck_assert_int_eq(sfri_write_file_atomic(path, "old", 3, "save"), SFR_OK);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(symlink("real.ckpt", link), 0);
    ck_assert_int_eq(symlink(link, chain), 0); /* absolute, from another directory */
    ck_assert_int_eq(sfri_write_file_atomic(link, "one", 3, "save"), SFR_OK);
    assert_content(path, "one", 3);
    ck_assert_int_eq(sfri_write_file_atomic(chain, "two", 3, "save"), SFR_OK);
    assert_content(path, "two", 3);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(lstat(chain, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_uint_eq(mode_of(path), 0600);
    ck_assert_int_eq(count_entries(dir), 2);
    ck_assert_int_eq(count_entries(other), 1);

    /* A dangling link: its target is created. */
    snprintf(link, sizeof link, "%s/dangling.ckpt", dir);
    snprintf(target, sizeof target, "%s/later.ckpt", other);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(sfri_write_file_atomic(link, "new", 3, "save"), SFR_OK);
    assert_content(target, "new", 3);
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));

    /* A loop of links is an I/O error, and nothing is written. */
    snprintf(link, sizeof link, "%s/loop-a", dir);
    snprintf(target, sizeof target, "%s/loop-b", dir);
    ck_assert_int_eq(symlink("loop-b", link), 0);
    ck_assert_int_eq(symlink("loop-a", target), 0);
    ck_assert_int_eq(sfri_write_file_atomic(link, "x", 1, "save"), SFR_ERR_IO);
    ck_assert(strstr(sfr_last_error(), "cannot follow the links") != NULL);
    ck_assert_int_eq(count_entries(dir), 5);
    remove_tree(dir);
    remove_tree(other);
}
END_TEST

Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, fnv1a64_known_vectors);
    tcase_add_test(tc, layout_is_little_endian_and_documented);
    tcase_add_test(tc, round_trip_is_bitwise);
    tcase_add_test(tc, empty_net_round_trips);
    tcase_add_test(tc, every_truncation_is_rejected);
    tcase_add_test(tc, every_bit_flip_is_rejected);
    tcase_add_test(tc, wrong_magic_version_signature_counts);
    tcase_add_test(tc, nonfinite_values_are_rejected);
    tcase_add_test(tc, header_checks_need_only_the_header_and_the_size);
    tcase_add_test(tc, huge_counts_do_not_overflow);
    tcase_add_test(tc, random_bytes_are_rejected);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, atomic_write_then_read);
    tcase_add_test(tc, write_into_missing_directory_is_io_and_leaves_nothing);
    tcase_add_test(tc, failed_rename_removes_the_temporary);
    tcase_add_test(tc, read_missing_or_unreadable_is_io);
    tcase_add_test(tc, directory_sync_failing_after_the_rename);
    tcase_add_test(tc, replaced_file_keeps_its_mode);
    tcase_add_test(tc, write_through_a_link_replaces_its_target);
    suite_add_tcase(s, tc);
    return s;
}
