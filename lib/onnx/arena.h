/*
 * Allocations that live as long as one ONNX export or import (arena.c):
 * protobuf-c messages, strings and arrays, released together at the end.
 * A failed allocation returns NULL and marks the arena failed, so that a
 * builder can check once, at the end, instead of after every call.
 */
#ifndef SFR_LIB_ONNX_ARENA_H
#define SFR_LIB_ONNX_ARENA_H

#include <stddef.h>

struct sfri_arena {
    void **blocks;
    size_t count, cap;
    int failed;
};

/* size zeroed bytes (at least 1), or NULL. */
void *sfri_arena_alloc(struct sfri_arena *a, size_t size);

/* A formatted string, or NULL. */
char *sfri_arena_printf(struct sfri_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * An array of count elements of elem_size bytes (capacity *cap) with room
 * for one more: items itself, or a copy in an arena block twice as large
 * (*cap updated); NULL when memory ran out.
 */
void *sfri_arena_grow(struct sfri_arena *a, void *items, size_t count, size_t *cap,
                      size_t elem_size);

/* Releases every block. */
void sfri_arena_free(struct sfri_arena *a);

#endif /* SFR_LIB_ONNX_ARENA_H */
