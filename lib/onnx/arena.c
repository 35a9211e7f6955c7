/* The ONNX code's arena: every block through the library's allocator. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/common.h"
#include "arena.h"

void *sfri_arena_alloc(struct sfri_arena *a, size_t size)
{
    if (a->failed)
        return NULL;
    if (a->count == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        void **blocks = sfri_malloc(sfri_mul_size(cap, sizeof *blocks));
        if (blocks == NULL) {
            a->failed = 1;
            return NULL;
        }
        if (a->count > 0)
            memcpy(blocks, a->blocks, a->count * sizeof *blocks);
        sfri_free(a->blocks);
        a->blocks = blocks;
        a->cap = cap;
    }
    void *p = sfri_calloc(1, size ? size : 1);
    if (p == NULL) {
        a->failed = 1;
        return NULL;
    }
    a->blocks[a->count++] = p;
    return p;
}

char *sfri_arena_printf(struct sfri_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : sfri_arena_alloc(a, (size_t)n + 1);
    if (s != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

void *sfri_arena_grow(struct sfri_arena *a, void *items, size_t count, size_t *cap,
                      size_t elem_size)
{
    if (count < *cap)
        return items;
    size_t grown = *cap ? 2 * *cap : 16;
    void *bigger = sfri_arena_alloc(a, sfri_mul_size(grown, elem_size));
    if (bigger == NULL)
        return NULL;
    if (count > 0)
        memcpy(bigger, items, count * elem_size);
    *cap = grown;
    return bigger;
}

void sfri_arena_free(struct sfri_arena *a)
{
    for (size_t i = 0; i < a->count; i++)
        sfri_free(a->blocks[i]);
    sfri_free(a->blocks);
    *a = (struct sfri_arena){0};
}
