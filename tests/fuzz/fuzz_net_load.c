/*
 * libFuzzer target: bytes -> sfr_net_load of a small net (conv, BN, ReLU,
 * pooling, linear). The bytes are given as a file through a memfd, so no
 * disk is touched. When the first byte is odd, the checksum trailer is
 * recomputed so that mutations reach the checks behind it. A load must
 * succeed or be SFR_ERR_FORMAT, and a failed load leaves the parameters as
 * they were.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "net/checkpoint_format.h"

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
    float *before = malloc((size_t)count * sizeof *before);
    memcpy(before, values, (size_t)count * sizeof *before);
    sfr_status st = sfr_net_load(net, path);
    if (st != SFR_OK && st != SFR_ERR_FORMAT)
        abort();
    if (st != SFR_OK && memcmp(before, values, (size_t)count * sizeof *before) != 0)
        abort();
    close(fd);
    free(before);
    free(copy);
    return 0;
}
