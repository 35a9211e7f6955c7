/*
 * libFuzzer target: bytes -> sfr_net_import_onnx_memory. The first byte
 * picks how the rest is used: odd, as edits (2-byte offset, xor byte) of
 * tests/fixtures/torch_small.onnx, a real PyTorch export, so that mutations
 * reach the operators' checks; even, as the model itself. An import must
 * give a net (which then compiles and runs an eval forward to finite or
 * non-finite logits, never a crash) or SFR_ERR_FORMAT, UNSUPPORTED or
 * NOMEM with no net.
 */
#include <stdio.h>

#include "fuzz_input.h"

static unsigned char *fixture;
static size_t fixture_size;

static void load_fixture(void)
{
    FILE *f = fopen(SFR_SOURCE_DIR "/tests/fixtures/torch_small.onnx", "rb");
    if (f == NULL)
        abort();
    fixture = malloc(1 << 16);
    if (fixture == NULL)
        abort();
    fixture_size = fread(fixture, 1, 1 << 16, f);
    fclose(f);
}

/* A net the import gave: compile it for one sample and run it. */
static void exercise(sfr_net *net)
{
    static float x[1 << 16];
    int in[3];
    if (sfr_net_layer_dims(net, 0, in) != SFR_OK)
        abort();
    if ((int64_t)in[0] * in[1] * in[2] > (int64_t)(sizeof x / sizeof x[0]) ||
        sfr_net_compile(net, 1) != SFR_OK)
        return; /* the input is what the model says: only small ones are run */
    const float *logits;
    int64_t dims[2];
    sfr_status st = sfr_net_forward(net, x, 0);
    if (st == SFR_OK && sfr_net_output(net, &logits, dims) != SFR_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    if (fixture == NULL)
        load_fixture();
    if (size == 0)
        return 0;
    size_t n = (data[0] & 1) ? fixture_size : size - 1;
    unsigned char *bytes = malloc(n ? n : 1);
    if (bytes == NULL)
        abort();
    if (data[0] & 1) {
        memcpy(bytes, fixture, n);
        for (size_t i = 1; i + 3 <= size; i += 3)
            bytes[((size_t)data[i] | (size_t)data[i + 1] << 8) % n] ^= data[i + 2];
    } else if (n > 0) {
        memcpy(bytes, data + 1, n);
    }
    sfr_net *net = NULL;
    sfr_status st = sfr_net_import_onnx_memory(&net, bytes, n);
    if (st == SFR_OK) {
        if (net == NULL)
            abort();
        exercise(net);
        sfr_net_destroy(net);
    } else if ((st != SFR_ERR_FORMAT && st != SFR_ERR_UNSUPPORTED && st != SFR_ERR_NOMEM) ||
               net != NULL) {
        abort();
    }
    free(bytes);
    return 0;
}
