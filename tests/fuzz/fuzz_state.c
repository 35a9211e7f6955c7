/*
 * libFuzzer target: bytes -> sfr_checkpoint_load_memory of a handle holding
 * a small net, an SGD optimizer with momentum, a regularizer with a `past`
 * bank, and metadata. The first byte picks how the rest is used:
 *   bit 1 set: as edits (2-byte offset, xor byte) of a valid checkpoint of
 *              these objects, so that mutations reach every section's checks;
 *   bit 1 clear: as the checkpoint itself;
 *   bit 0 set: the trailing checksum is recomputed.
 * A load must succeed or be SFR_ERR_FORMAT (or NOMEM from the bounded
 * allocator); a failed load leaves the whole state as it was, and after a
 * successful one the state saves again (every value it took is savable).
 */
#include <stdio.h>

#include "fuzz_input.h"
#include "net/checkpoint_format.h"

static sfr_net *net;
static sfr_sgd *sgd;
static sfr_reg *reg;
static sfr_checkpoint *ck;
static unsigned char *valid;
static size_t valid_size;

/* The handle's whole state as bytes (malloc'ed), *size set; aborts on failure. */
static unsigned char *state_bytes(size_t *size)
{
    if (sfr_checkpoint_save_memory(ck, NULL, 0, size) != SFR_OK)
        abort();
    unsigned char *buf = malloc(*size);
    if (buf == NULL || sfr_checkpoint_save_memory(ck, buf, *size, size) != SFR_OK)
        abort();
    return buf;
}

/* The objects, one training step so that every buffer exists, a valid checkpoint. */
static void setup(void)
{
    int id = 0;
    if (sfr_net_create(&net) != SFR_OK || sfr_net_input(net, 1, 4, 4, &id) != SFR_OK ||
        sfr_net_conv2d(net, id, 2, 3, 1, 1, 1, &id) != SFR_OK ||
        sfr_net_batchnorm(net, id, &id) != SFR_OK || sfr_net_relu(net, id, &id) != SFR_OK ||
        sfr_net_global_avgpool(net, id, &id) != SFR_OK ||
        sfr_net_linear(net, id, 3, &id) != SFR_OK || sfr_net_compile(net, 2) != SFR_OK ||
        sfr_net_init_params(net, 3) != SFR_OK || sfr_sgd_create(&sgd, 0.1, 0.9, 0, 0) != SFR_OK ||
        sfr_reg_create(&reg) != SFR_OK ||
        sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST) != SFR_OK ||
        sfr_reg_set_param(reg, SFR_PARAM_LS_BANK_SIZE, 4) != SFR_OK ||
        sfr_checkpoint_create(&ck) != SFR_OK || sfr_checkpoint_add_net(ck, net) != SFR_OK ||
        sfr_checkpoint_add_sgd(ck, sgd) != SFR_OK || sfr_checkpoint_add_reg(ck, reg) != SFR_OK ||
        sfr_checkpoint_set_meta(ck, "epoch", "1") != SFR_OK)
        abort();
    float x[2 * 16], dlogits[2 * 3];
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i % 5) - 2.0f;
    const int32_t labels[2] = {0, 2};
    const int64_t ids[2] = {1, 3};
    double loss;
    if (sfr_net_forward(net, x, 1) != SFR_OK || sfr_reg_set_sample_ids(reg, ids, 2) != SFR_OK ||
        sfr_reg_compute_net(reg, net, labels, dlogits, &loss) != SFR_OK ||
        sfr_net_backward(net, dlogits) != SFR_OK || sfr_sgd_step(sgd, net) != SFR_OK)
        abort();
    valid = state_bytes(&valid_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup(); /* first: the allocator cannot change once libsfr allocated */
    if (ck == NULL)
        setup();
    if (size == 0)
        return 0;
    const uint8_t mode = data[0];
    size_t n = (mode & 2) ? valid_size : size - 1;
    unsigned char *bytes = malloc(n ? n : 1);
    if (bytes == NULL)
        abort();
    if (mode & 2) {
        memcpy(bytes, valid, n);
        for (size_t i = 1; i + 3 <= size; i += 3)
            bytes[((size_t)data[i] | (size_t)data[i + 1] << 8) % n] ^= data[i + 2];
    } else if (n > 0) {
        memcpy(bytes, data + 1, n);
    }
    if ((mode & 1) && n >= SFRI_CKPT_TRAILER_BYTES) {
        uint64_t h = sfri_fnv1a64(bytes, n - SFRI_CKPT_TRAILER_BYTES);
        for (int i = 0; i < 8; i++)
            bytes[n - SFRI_CKPT_TRAILER_BYTES + (size_t)i] = (uint8_t)(h >> (8 * i));
    }
    size_t before_size, after_size;
    unsigned char *before = state_bytes(&before_size);
    sfr_status st = sfr_checkpoint_load_memory(ck, bytes, n);
    if (st != SFR_OK && st != SFR_ERR_FORMAT && st != SFR_ERR_NOMEM)
        abort();
    unsigned char *after = state_bytes(&after_size);
    if (st != SFR_OK && (before_size != after_size || memcmp(before, after, before_size) != 0))
        abort();
    free(before);
    free(after);
    free(bytes);
    return 0;
}
