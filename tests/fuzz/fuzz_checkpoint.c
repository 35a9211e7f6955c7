/*
 * libFuzzer target for the checkpoint decoder (make fuzz, then run
 * build/fuzz/fuzz_checkpoint). The expected net is read from the input's
 * own header, and odd first bytes get a correct checksum written over the
 * trailer, so that mutated inputs reach every check behind the checksum.
 * Whatever decodes must hold only finite values and re-encode to the same
 * bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "net/checkpoint_format.h"

/* Largest net the harness allocates for, in floats. */
#define MAX_FLOATS (1 << 16)

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sig = 0, np = 0, ns = 0;
    if (size >= SFRI_CKPT_HEADER_BYTES) {
        sig = le64(data + 16);
        np = le64(data + 24);
        ns = le64(data + 32);
    }
    if (np > MAX_FLOATS || ns > MAX_FLOATS)
        np = ns = 0;
    uint8_t *copy = malloc(size ? size : 1);
    float *params = malloc((np + 1) * sizeof(float)), *state = malloc((ns + 1) * sizeof(float));
    if (copy == NULL || params == NULL || state == NULL)
        abort();
    memcpy(copy, data, size);
    if (size >= SFRI_CKPT_TRAILER_BYTES && (data[0] & 1)) {
        uint64_t h = sfri_fnv1a64(copy, size - SFRI_CKPT_TRAILER_BYTES);
        for (int i = 0; i < 8; i++)
            copy[size - SFRI_CKPT_TRAILER_BYTES + (size_t)i] = (uint8_t)(h >> (8 * i));
    }
    sfr_status st = sfri_ckpt_decode(copy, size, sig, params, (int64_t)np, state, (int64_t)ns,
                                     "fuzz");
    if (st == SFR_OK) {
        for (uint64_t i = 0; i < np; i++)
            if (!isfinite(params[i]))
                abort();
        for (uint64_t i = 0; i < ns; i++)
            if (!isfinite(state[i]))
                abort();
        uint32_t library = (uint32_t)(copy[12] | copy[13] << 8 | copy[14] << 16 |
                                      (uint32_t)copy[15] << 24);
        uint8_t *again = malloc(size);
        if (again == NULL || sfri_ckpt_size((int64_t)np, (int64_t)ns) != size)
            abort();
        sfri_ckpt_encode(again, sig, library, params, (int64_t)np, state, (int64_t)ns);
        if (memcmp(again, copy, size) != 0)
            abort();
        free(again);
    } else if (st != SFR_ERR_FORMAT) {
        abort();
    }
    free(copy);
    free(params);
    free(state);
    return 0;
}
