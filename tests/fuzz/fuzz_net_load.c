/*
 * libFuzzer target: bytes -> sfr_net_load of a small net (conv, BN, ReLU,
 * pooling, linear). The bytes are given as a file through a memfd, so no
 * disk is touched. When the first byte is odd, the checksum trailer is
 * recomputed so that mutations reach the checks behind it. A load must
 * succeed or be SFR_ERR_FORMAT; a failed load leaves the parameters and
 * running statistics as they were, and a successful one leaves only
 * finite values and running variances >= 0.
 */
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "net/checkpoint_format.h"
#include "net/net_state.h"

static sfr_net *small_net(void)
{
    sfr_net *net = NULL;
    int id = 0;
    if (sfr_net_create(&net) != SFR_OK || sfr_net_input(net, 2, 6, 6, &id) != SFR_OK ||
        sfr_net_conv2d(net, id, 3, 3, 1, 1, 1, &id) != SFR_OK ||
        sfr_net_batchnorm(net, id, &id) != SFR_OK || sfr_net_relu(net, id, &id) != SFR_OK ||
        sfr_net_maxpool(net, id, 2, 2, 0, &id) != SFR_OK ||
        sfr_net_linear(net, id, 4, &id) != SFR_OK || sfr_net_init_params(net, 5) != SFR_OK)
        abort();
    return net;
}

/* Writes size bytes to a new memfd; *path receives its /proc name. */
static int memfd_with(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz_ckpt", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size > 0 && write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* A copy of the n floats at x, to compare after a failed load. */
static float *copy_floats(const float *x, int64_t n)
{
    float *c = malloc((size_t)(n + 1) * sizeof *c);
    if (c == NULL)
        abort();
    memcpy(c, x, (size_t)n * sizeof *c);
    return c;
}

/* What a loaded net may hold: numbers, and no negative running variance. */
static void check_loaded_values(const sfr_net *net, const float *values, int64_t count)
{
    float *state = NULL;
    int64_t n_state = 0;
    sfri_net_state_buffer(net, &state, &n_state);
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(values[i]))
            abort();
    for (int64_t i = 0; i < n_state; i++)
        if (!isfinite(state[i]))
            abort();
    if (sfri_net_bad_variance(net, state) >= 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sfr_net *net;
    fuzz_setup();
    if (net == NULL)
        net = small_net();
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    if (size >= SFRI_CKPT_TRAILER_BYTES && (data[0] & 1)) {
        uint64_t h = sfri_fnv1a64(copy, size - SFRI_CKPT_TRAILER_BYTES);
        for (int i = 0; i < 8; i++)
            copy[size - SFRI_CKPT_TRAILER_BYTES + (size_t)i] = (uint8_t)(h >> (8 * i));
    }
    char path[64];
    int fd = memfd_with(copy, size, path, sizeof path);
    float *values = NULL, *grads = NULL;
    int64_t count = 0;
    if (sfr_net_params(net, &values, &grads, &count) != SFR_OK)
        abort();
    float *state = NULL;
    int64_t n_state = 0;
    sfri_net_state_buffer(net, &state, &n_state);
    float *before = copy_floats(values, count), *state_before = copy_floats(state, n_state);
    sfr_status st = sfr_net_load(net, path);
    if (st != SFR_OK && st != SFR_ERR_FORMAT)
        abort();
    if (st != SFR_OK && (memcmp(before, values, (size_t)count * sizeof *before) != 0 ||
                         memcmp(state_before, state, (size_t)n_state * sizeof *state) != 0))
        abort();
    if (st == SFR_OK)
        check_loaded_values(net, values, count);
    close(fd);
    free(before);
    free(state_before);
    free(copy);
    return 0;
}
