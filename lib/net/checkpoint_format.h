/*
 * The checkpoint file format on raw byte buffers, independent of sfr_net so
 * that it can be tested and fuzzed alone. The layout is described in
 * checkpoint_format.c and docs/checkpoint-format.md.
 */
#ifndef SFR_LIB_CHECKPOINT_FORMAT_H
#define SFR_LIB_CHECKPOINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "sfr/status.h"

#define SFRI_CKPT_MAGIC "SFRCKPT\n"  /* 8 bytes, no terminator in the file */
#define SFRI_CKPT_VERSION 1u         /* bumped on any change of the layout */
#define SFRI_CKPT_HEADER_BYTES 40
#define SFRI_CKPT_TRAILER_BYTES 8

/* 64-bit FNV-1a of size bytes, the checkpoint's checksum. */
uint64_t sfri_fnv1a64(const void *data, size_t size);

/* Bytes of a checkpoint holding param_count + state_count floats, or
 * SIZE_MAX when that does not fit in memory (negative counts included). */
size_t sfri_ckpt_size(int64_t param_count, int64_t state_count);

/*
 * Writes a checkpoint of sfri_ckpt_size(param_count, state_count) bytes to
 * out: the header (with signature and library_version), params then state
 * as little-endian floats, and the checksum. params or state may be NULL
 * when their count is 0.
 */
void sfri_ckpt_encode(void *out, uint64_t signature, uint32_t library_version,
                      const float *params, int64_t param_count, const float *state,
                      int64_t state_count);

/*
 * The checks the header alone allows, for a file of file_size bytes whose
 * first SFRI_CKPT_HEADER_BYTES bytes are at header (header may hold fewer
 * when the file is shorter than a checkpoint can be; they are then not
 * read): the size, the magic, the version, the size against the header's
 * counts and the counts against the net's. A reader makes them before it
 * reads the rest, whose size is then the net's own. SFR_ERR_FORMAT,
 * reported for func, when one fails.
 */
sfr_status sfri_ckpt_check_header(const void *header, uint64_t file_size, int64_t param_count,
                                  int64_t state_count, const char *func);

/*
 * Verifies that the size bytes at data are a complete, intact checkpoint of
 * version SFRI_CKPT_VERSION for a net with this signature and these counts
 * whose values are all finite: the header checks, then the checksum, the
 * signature and the values. Anything wrong is SFR_ERR_FORMAT, reported for
 * func. Writes nothing.
 */
sfr_status sfri_ckpt_verify(const void *data, size_t size, uint64_t signature, int64_t param_count,
                            int64_t state_count, const char *func);

/* Copies the floats of a checkpoint sfri_ckpt_verify accepted to params
 * and state; either may be NULL, and is then skipped. */
void sfri_ckpt_read(const void *data, float *params, int64_t param_count, float *state,
                    int64_t state_count);

/* sfri_ckpt_verify, then sfri_ckpt_read when it passed: params and state
 * are untouched on failure. */
sfr_status sfri_ckpt_decode(const void *data, size_t size, uint64_t signature, float *params,
                            int64_t param_count, float *state, int64_t state_count,
                            const char *func);

#endif /* SFR_LIB_CHECKPOINT_FORMAT_H */
