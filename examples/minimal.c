/*
 * The smallest complete libsfr program: check the library, build a small net,
 * tap two of its layers and let the deeper one teach the shallower one (SFR),
 * train a few steps on a synthetic task, save, load into a second net, and
 * release everything. Every status is checked. docs/integration.md walks
 * through it.
 *
 *   minimal [checkpoint]     (default: minimal.ckpt in the current directory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sfr/sfr.h>

enum { BATCH = 16, SIDE = 8, CLASSES = 2, STEPS = 30 };

/* On failure: print the call, its status and the library's message, then
 * release what exists (at `done`). Nothing was written by the failed call. */
#define CHECK(call)                                                                        \
    do {                                                                                   \
        sfr_status st_ = (call);                                                           \
        if (st_ != SFR_OK) {                                                               \
            fprintf(stderr, "minimal: %s: %s (%s)\n", #call, sfr_status_string(st_),      \
                    sfr_last_error());                                                     \
            goto done;                                                                     \
        }                                                                                  \
    } while (0)

/* conv 3x3 (no bias: batch norm follows), batch norm, ReLU; *out is the ReLU. */
static sfr_status conv_bn_relu(sfr_net *net, int in, int channels, int stride, int *out)
{
    sfr_status st;
    int id;
    if ((st = sfr_net_conv2d(net, in, channels, 3, stride, 1, 0, &id)) != SFR_OK ||
        (st = sfr_net_batchnorm(net, id, &id)) != SFR_OK)
        return st;
    return sfr_net_relu(net, id, out);
}

/* (N, 1, 8, 8) -> stage 1 (N, 8, 8, 8) -> stage 2 (N, 16, 4, 4) -> pool -> (N, 2) logits. */
static sfr_status build(sfr_net *net, int *stage1, int *stage2)
{
    sfr_status st;
    int id;
    if ((st = sfr_net_input(net, 1, SIDE, SIDE, &id)) != SFR_OK ||
        (st = conv_bn_relu(net, id, 8, 1, stage1)) != SFR_OK ||
        (st = conv_bn_relu(net, *stage1, 16, 2, stage2)) != SFR_OK ||
        (st = sfr_net_global_avgpool(net, *stage2, &id)) != SFR_OK)
        return st;
    return sfr_net_linear(net, id, CLASSES, &id); /* the last layer is the output */
}

/* Class 0 is bright on the left half, class 1 on the right, both with noise. */
static void make_batch(float *images, int32_t *labels, unsigned *seed)
{
    for (int n = 0; n < BATCH; n++) {
        labels[n] = n % CLASSES;
        for (int i = 0; i < SIDE * SIDE; i++) {
            *seed = *seed * 1664525u + 1013904223u;
            float noise = (float)(*seed >> 8) / 16777216.0f - 0.5f;
            int left = i % SIDE < SIDE / 2;
            images[n * SIDE * SIDE + i] = (float)(left == (labels[n] == 0)) + noise;
        }
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "minimal.ckpt";
    static float images[BATCH * SIDE * SIDE], dlogits[BATCH * CLASSES]; /* (N,1,8,8), (N,2) */
    int32_t labels[BATCH];
    unsigned seed = 1;
    sfr_net *net = NULL, *loaded = NULL; /* handles start NULL: destroy(NULL) does nothing */
    sfr_reg *reg = NULL;
    sfr_sgd *opt = NULL;
    sfr_tap *student, *teacher;
    const float *logits, *loaded_logits;
    int64_t dims[2];
    int stage1, stage2, correct = 0, status = EXIT_FAILURE;

    unsigned v = sfr_version_number();
    if (v / 10000 != SFR_VERSION_MAJOR || v < SFR_VERSION_NUMBER) {
        fprintf(stderr, "minimal: libsfr %s cannot serve headers of version %d.%d.%d\n",
                sfr_version_string(), SFR_VERSION_MAJOR, SFR_VERSION_MINOR, SFR_VERSION_PATCH);
        return EXIT_FAILURE;
    }

    CHECK(sfr_net_create(&net));
    CHECK(build(net, &stage1, &stage2));
    CHECK(sfr_net_tap(net, stage1, &student)); /* taps before compile: no recompile */
    CHECK(sfr_net_tap(net, stage2, &teacher));
    CHECK(sfr_net_compile(net, BATCH));
    CHECK(sfr_net_init_params(net, 42));

    CHECK(sfr_reg_create(&reg));
    CHECK(sfr_reg_add_pair(reg, student, teacher, 1.0, NULL)); /* stage 2 teaches stage 1 */
    CHECK(sfr_sgd_create(&opt, 0.05, 0.9, 5e-4, 0));

    for (int step = 0; step < STEPS; step++) {
        double loss, label_loss, pair_loss;
        make_batch(images, labels, &seed);
        CHECK(sfr_net_forward(net, images, 1));
        CHECK(sfr_net_output(net, &logits, dims));
        CHECK(sfr_reg_set_progress(reg, (double)step / STEPS));
        CHECK(sfr_reg_compute(reg, logits, labels, BATCH, CLASSES, dlogits, &loss));
        CHECK(sfr_net_backward(net, dlogits));
        CHECK(sfr_sgd_step(opt, net));
        CHECK(sfr_reg_label_loss(reg, &label_loss));
        CHECK(sfr_reg_pair_loss(reg, 0, &pair_loss));
        if (step % 10 == 0 || step == STEPS - 1)
            printf("step %d: loss %.4f (label %.4f, sfr %.4f)\n", step + 1, loss, label_loss,
                   pair_loss);
    }

    CHECK(sfr_net_save(net, path));
    CHECK(sfr_net_create(&loaded));
    CHECK(build(loaded, &stage1, &stage2));
    CHECK(sfr_net_compile(loaded, BATCH));
    CHECK(sfr_net_load(loaded, path));

    /* Both nets in eval mode (running statistics) on new data. */
    make_batch(images, labels, &seed);
    CHECK(sfr_net_forward(net, images, 0));
    CHECK(sfr_net_forward(loaded, images, 0));
    CHECK(sfr_net_output(net, &logits, dims));
    CHECK(sfr_net_output(loaded, &loaded_logits, dims));
    for (int n = 0; n < BATCH; n++)
        correct += (loaded_logits[2 * n + 1] > loaded_logits[2 * n]) == (labels[n] == 1);
    int same = memcmp(logits, loaded_logits, sizeof(float) * BATCH * CLASSES) == 0;
    printf("loaded %s: %s logits, %d/%d correct\n", path, same ? "the same" : "DIFFERENT",
           correct, BATCH);
    status = same ? EXIT_SUCCESS : EXIT_FAILURE;

done:
    sfr_sgd_destroy(opt);
    sfr_reg_destroy(reg); /* before the net: it holds the net's taps */
    sfr_net_destroy(loaded);
    sfr_net_destroy(net); /* frees its taps too */
    return status;
}
