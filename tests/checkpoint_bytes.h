/*
 * Editing checkpoint bytes in tests: a deliberate change is resealed with a
 * correct checksum, so that it reaches the check it targets rather than the
 * checksum's. Header-only, for the checkpoint and net persistence tests.
 */
#ifndef SFR_TESTS_CHECKPOINT_BYTES_H
#define SFR_TESTS_CHECKPOINT_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/checkpoint_format.h"

/* Rewrites the trailing checksum of the size bytes at data. */
static inline void reseal(unsigned char *data, size_t size)
{
    uint64_t h = sfri_fnv1a64(data, size - SFRI_CKPT_TRAILER_BYTES);
    for (int i = 0; i < 8; i++)
        data[size - SFRI_CKPT_TRAILER_BYTES + (size_t)i] = (unsigned char)(h >> (8 * i));
}

/* Stores value little-endian as the index-th float of the body (parameters,
 * then state) of the checkpoint at data. */
static inline void put_body_float(unsigned char *data, int64_t index, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    for (int k = 0; k < 4; k++)
        data[SFRI_CKPT_HEADER_BYTES + 4 * index + k] = (unsigned char)(bits >> (8 * k));
}

#endif /* SFR_TESTS_CHECKPOINT_BYTES_H */
