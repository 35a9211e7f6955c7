/*
 * Fashion-MNIST for the examples: reading the gzip'ed IDX files, per-channel
 * normalization, and the augmentations of the demo.
 */
#ifndef FMNIST_DATA_H
#define FMNIST_DATA_H

#include <stddef.h>
#include <stdint.h>

#define FMNIST_SIDE 28
#define FMNIST_PIXELS (FMNIST_SIDE * FMNIST_SIDE)
#define FMNIST_CLASSES 10

typedef struct fmnist_set {
    int64_t count;
    float *images;   /* (count, 1, 28, 28), raw pixels scaled to [0, 1] */
    int32_t *labels; /* (count), in [0, 10) */
} fmnist_set;

/*
 * Loads `<dir>/<prefix>-images-idx3-ubyte.gz` and the matching labels file
 * (prefix "train" or "t10k"). Checks the IDX magic numbers, that both files
 * hold the same count, that images are 28 x 28 and that the files are
 * neither short nor longer than their headers say, and that every label is
 * in range. On failure returns -1 and writes a message naming the file and
 * the problem into err.
 */
int fmnist_load(const char *dir, const char *prefix, fmnist_set *set, char *err,
                size_t err_size);

void fmnist_free(fmnist_set *set);

/* Mean and standard deviation of all pixels of a set (one channel). */
void fmnist_channel_stats(const fmnist_set *set, float *mean, float *std);

/*
 * Writes image i of set, normalized ((x - mean) / std), into out (28 x 28).
 * With augment, the image is first shifted by a random crop of the image
 * padded by 2 pixels (padding is 0 before normalization) and flipped
 * horizontally with probability 1/2, drawing from *rng.
 */
void fmnist_fill(const fmnist_set *set, int64_t i, float mean, float std, int augment,
                 uint64_t *rng, float *out);

/* A small deterministic generator (splitmix64) and a uniform int below n. */
uint64_t fmnist_rand(uint64_t *state);
int64_t fmnist_rand_below(uint64_t *state, int64_t n);

/* Fisher-Yates shuffle of order[0..n) from *rng. */
void fmnist_shuffle(int64_t *order, int64_t n, uint64_t *rng);

#endif /* FMNIST_DATA_H */
