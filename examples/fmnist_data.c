/* Fashion-MNIST IDX loading (through zlib), normalization and augmentation. */
#include "fmnist_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u

/* Reads exactly size bytes; -1 with a message when the stream is short or broken. */
static int read_exact(gzFile f, const char *path, void *buf, size_t size, char *err,
                      size_t err_size)
{
    size_t done = 0;
    while (done < size) {
        unsigned chunk = size - done > (1u << 30) ? 1u << 30 : (unsigned)(size - done);
        int got = gzread(f, (unsigned char *)buf + done, chunk);
        if (got < 0) {
            int zerr;
            snprintf(err, err_size, "%s: corrupt gzip data (%s)", path, gzerror(f, &zerr));
            return -1;
        }
        if (got == 0) {
            snprintf(err, err_size, "%s: file is truncated (%zu of %zu bytes of data)", path,
                     done, size);
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

static uint32_t big_endian_u32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * Opens an IDX file and reads its header: the magic, then dims 32-bit
 * counts. Returns the open file or NULL with a message.
 */
static gzFile open_idx(const char *path, uint32_t magic, int dims, uint32_t *sizes, char *err,
                       size_t err_size)
{
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "%s: cannot open (%s)", path,
                 errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    unsigned char header[16];
    if (read_exact(f, path, header, (size_t)(4 + 4 * dims), err, err_size) != 0) {
        gzclose(f);
        return NULL;
    }
    uint32_t seen = big_endian_u32(header);
    if (seen != magic) {
        snprintf(err, err_size, "%s: not an IDX file of the expected kind (magic 0x%08x, want 0x%08x)",
                 path, seen, magic);
        gzclose(f);
        return NULL;
    }
    for (int d = 0; d < dims; d++)
        sizes[d] = big_endian_u32(header + 4 + 4 * d);
    return f;
}

/* After the payload, the stream must end. */
static int expect_end(gzFile f, const char *path, char *err, size_t err_size)
{
    unsigned char extra;
    int got = gzread(f, &extra, 1);
    if (got != 0) {
        snprintf(err, err_size, "%s: %s", path,
                 got > 0 ? "longer than its header says" : "corrupt gzip data");
        return -1;
    }
    return 0;
}

int fmnist_load(const char *dir, const char *prefix, fmnist_set *set, char *err,
                size_t err_size)
{
    char image_path[4096], label_path[4096];
    snprintf(image_path, sizeof image_path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(label_path, sizeof label_path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    uint32_t isz[3], lsz[1];
    unsigned char *pixels = NULL, *raw_labels = NULL;
    float *images = NULL;
    int32_t *labels = NULL;
    int rc = -1;

    gzFile fi = open_idx(image_path, IDX_MAGIC_IMAGES, 3, isz, err, err_size);
    gzFile fl = fi ? open_idx(label_path, IDX_MAGIC_LABELS, 1, lsz, err, err_size) : NULL;
    if (fi == NULL || fl == NULL)
        goto done;
    if (isz[1] != FMNIST_SIDE || isz[2] != FMNIST_SIDE) {
        snprintf(err, err_size, "%s: images are %ux%u, expected %dx%d", image_path, isz[1],
                 isz[2], FMNIST_SIDE, FMNIST_SIDE);
        goto done;
    }
    if (isz[0] != lsz[0] || isz[0] == 0) {
        snprintf(err, err_size, "%s holds %u images but %s holds %u labels", image_path, isz[0],
                 label_path, lsz[0]);
        goto done;
    }
    size_t n = isz[0];
    pixels = malloc(n * FMNIST_PIXELS);
    raw_labels = malloc(n);
    images = malloc(n * FMNIST_PIXELS * sizeof *images);
    labels = malloc(n * sizeof *labels);
    if (!pixels || !raw_labels || !images || !labels) {
        snprintf(err, err_size, "out of memory loading %zu images", n);
        goto done;
    }
    if (read_exact(fi, image_path, pixels, n * FMNIST_PIXELS, err, err_size) != 0 ||
        expect_end(fi, image_path, err, err_size) != 0 ||
        read_exact(fl, label_path, raw_labels, n, err, err_size) != 0 ||
        expect_end(fl, label_path, err, err_size) != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (raw_labels[i] >= FMNIST_CLASSES) {
            snprintf(err, err_size, "%s: label %u of sample %zu is not a class", label_path,
                     raw_labels[i], i);
            goto done;
        }
        labels[i] = raw_labels[i];
    }
    for (size_t i = 0; i < n * FMNIST_PIXELS; i++)
        images[i] = (float)pixels[i] / 255.0f;
    set->count = (int64_t)n;
    set->images = images;
    set->labels = labels;
    images = NULL;
    labels = NULL;
    rc = 0;
done:
    if (fi)
        gzclose(fi);
    if (fl)
        gzclose(fl);
    free(pixels);
    free(raw_labels);
    free(images);
    free(labels);
    return rc;
}

void fmnist_free(fmnist_set *set)
{
    free(set->images);
    free(set->labels);
    set->images = NULL;
    set->labels = NULL;
    set->count = 0;
}

void fmnist_channel_stats(const fmnist_set *set, float *mean, float *std)
{
    double sum = 0, sum_sq = 0;
    int64_t total = set->count * FMNIST_PIXELS;
    for (int64_t i = 0; i < total; i++) {
        sum += set->images[i];
        sum_sq += (double)set->images[i] * set->images[i];
    }
    double m = sum / (double)total;
    *mean = (float)m;
    *std = (float)sqrt(sum_sq / (double)total - m * m);
}

uint64_t fmnist_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t fmnist_rand_below(uint64_t *state, int64_t n)
{
    return (int64_t)(fmnist_rand(state) % (uint64_t)n);
}

void fmnist_shuffle(int64_t *order, int64_t n, uint64_t *rng)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = fmnist_rand_below(rng, i + 1);
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

void fmnist_fill(const fmnist_set *set, int64_t i, float mean, float std, int augment,
                 uint64_t *rng, float *out)
{
    const float *src = set->images + i * FMNIST_PIXELS; /* (28, 28) */
    int dy = 0, dx = 0, flip = 0;
    if (augment) {
        /* A 28x28 crop of the image padded by 2: an offset in [-2, 2] per axis. */
        dy = (int)fmnist_rand_below(rng, 5) - 2;
        dx = (int)fmnist_rand_below(rng, 5) - 2;
        flip = (int)fmnist_rand_below(rng, 2);
    }
    float inv_std = 1.0f / std;
    for (int y = 0; y < FMNIST_SIDE; y++) {
        for (int x = 0; x < FMNIST_SIDE; x++) {
            int sy = y + dy, sx = (flip ? FMNIST_SIDE - 1 - x : x) + dx;
            float v = 0.0f;
            if (sy >= 0 && sy < FMNIST_SIDE && sx >= 0 && sx < FMNIST_SIDE)
                v = src[sy * FMNIST_SIDE + sx];
            out[y * FMNIST_SIDE + x] = (v - mean) * inv_std;
        }
    }
}
