/*
 * The training-state container (container.c): a header, tagged sections
 * and a checksum, independent of what the sections hold, so that it can be
 * tested and fuzzed alone. Layout in docs/checkpoint-format.md.
 */
#ifndef SFR_LIB_CHECKPOINT_CONTAINER_H
#define SFR_LIB_CHECKPOINT_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "section.h"

#define SFRI_STATE_MAGIC "SFRSTAT\n"  /* 8 bytes, no terminator in the file */
#define SFRI_STATE_VERSION 1u
#define SFRI_STATE_MAX_SECTIONS 16

/* The header, for a container of count sections. */
void sfri_state_put_header(struct sfri_writer *w, uint32_t count);

/* A section's header; its payload of size bytes follows. */
void sfri_state_put_section(struct sfri_writer *w, const char tag[4], uint32_t version,
                            uint64_t size);

/* The checksum of everything w holds, closing the container. */
void sfri_state_put_trailer(struct sfri_writer *w);

/*
 * Splits the size bytes at data into at most max sections (pointing into
 * data), after the checks of the container itself: size, magic, version,
 * checksum, section bounds, no tag twice. A checkpoint of sfr_net_save
 * ("SFRCKPT") is one section "NET " of version 0 holding the whole file,
 * checked by the net's codec. SFR_ERR_FORMAT for func on failure.
 */
sfr_status sfri_state_parse(const void *data, size_t size, struct sfri_section *sections,
                            int max, int *count, const char *func);

#endif /* SFR_LIB_CHECKPOINT_CONTAINER_H */
