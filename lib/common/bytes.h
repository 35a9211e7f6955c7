/*
 * Little-endian encoding for the file formats (checkpoints, training state):
 * fixed-size stores and loads on raw bytes, a writer that can count instead
 * of writing (so one routine gives both a size and the bytes), and a reader
 * that never reads past its end (every load reports whether it fitted).
 * Floats travel as their IEEE-754 bit patterns, whatever the host's order.
 */
#ifndef SFR_LIB_BYTES_H
#define SFR_LIB_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void sfri_le_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void sfri_le_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t sfri_le_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint64_t sfri_le_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline uint32_t sfri_f32_bits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline float sfri_bits_f32(uint32_t b)
{
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* A writer: at p when p is not NULL; size counts the bytes either way. */
struct sfri_writer {
    unsigned char *p;
    size_t size;
};

static inline void sfri_put_bytes(struct sfri_writer *w, const void *src, size_t n)
{
    if (w->p != NULL && n > 0)
        memcpy(w->p + w->size, src, n);
    w->size += n;
}

static inline void sfri_put_u32(struct sfri_writer *w, uint32_t v)
{
    if (w->p != NULL)
        sfri_le_put_u32(w->p + w->size, v);
    w->size += 4;
}

static inline void sfri_put_u64(struct sfri_writer *w, uint64_t v)
{
    if (w->p != NULL)
        sfri_le_put_u64(w->p + w->size, v);
    w->size += 8;
}

static inline void sfri_put_f64(struct sfri_writer *w, double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    sfri_put_u64(w, b);
}

static inline void sfri_put_f32s(struct sfri_writer *w, const float *x, int64_t n)
{
    if (w->p == NULL) { /* counting: no need to visit the values */
        w->size += 4 * (size_t)n;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        sfri_put_u32(w, sfri_f32_bits(x[i]));
}

/* A reader over [p, p + left): a load that does not fit returns 0 and
 * leaves the reader where it was. */
struct sfri_reader {
    const unsigned char *p;
    size_t left;
};

static inline int sfri_get_bytes(struct sfri_reader *r, const unsigned char **at, size_t n)
{
    if (n > r->left)
        return 0;
    *at = r->p;
    r->p += n;
    r->left -= n;
    return 1;
}

static inline int sfri_get_u32(struct sfri_reader *r, uint32_t *v)
{
    const unsigned char *at;
    if (!sfri_get_bytes(r, &at, 4))
        return 0;
    *v = sfri_le_get_u32(at);
    return 1;
}

static inline int sfri_get_u64(struct sfri_reader *r, uint64_t *v)
{
    const unsigned char *at;
    if (!sfri_get_bytes(r, &at, 8))
        return 0;
    *v = sfri_le_get_u64(at);
    return 1;
}

static inline int sfri_get_f64(struct sfri_reader *r, double *x)
{
    uint64_t b;
    if (!sfri_get_u64(r, &b))
        return 0;
    memcpy(x, &b, sizeof *x);
    return 1;
}

/* n floats' bytes, to decode later with sfri_le_get_f32s (0 when they do not fit). */
static inline int sfri_get_f32_bytes(struct sfri_reader *r, int64_t n, const unsigned char **at)
{
    if (n < 0 || (uint64_t)n > r->left / 4)
        return 0;
    return sfri_get_bytes(r, at, (size_t)n * 4);
}

static inline void sfri_le_get_f32s(float *x, const unsigned char *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = sfri_bits_f32(sfri_le_get_u32(p + 4 * i));
}

/* The index of the first NaN or infinity among n little-endian floats at p, or -1. */
static inline int64_t sfri_le_first_nonfinite(const unsigned char *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if ((sfri_le_get_u32(p + 4 * i) & 0x7f800000u) == 0x7f800000u)
            return i;
    return -1;
}

#endif /* SFR_LIB_BYTES_H */
