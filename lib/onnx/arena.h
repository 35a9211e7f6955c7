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
 * Appends item to the array *items of *count pointers, growing it (by
 * doubling, into *cap) in the arena; 0 when memory ran out or item is NULL.
 */
int sfri_arena_push(struct sfri_arena *a, void ***items, size_t *count, size_t *cap, void *item);

/* Releases every block. */
void sfri_arena_free(struct sfri_arena *a);

#endif /* SFR_LIB_ONNX_ARENA_H */
