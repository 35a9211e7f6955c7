/*
 * Benchmark of the SFR objective plus gradients (sfr_reg_compute through the
 * public API) on wrapped taps shaped like the reference networks' SFR pairs
 * (docs: NETWORKS.md). Features are |gaussian|, like post-ReLU activations,
 * so Sinkhorn's iteration counts are representative. Each case: warm-up,
 * then the median (and min, max) of RUNS timed computes, on 2 threads or the
 * count given as the first argument. Wall time is what the targets are about;
 * the process CPU time of a compute (all threads) is printed beside it
 * because on a shared machine it moves much less with the load.
 *
 *   bench_sfr [threads]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sfr/sfr.h"

#define BENCH_NAME "bench_sfr"
#include "bench_util.h"

#define RUNS 50
#define WARMUP 5

/* One SFR pair: student (C, H, W) against the shared teacher. */
struct student {
    int64_t c, h, w;
};

struct bench_case {
    const char *name;
    int64_t n;
    int64_t teacher[3];           /* C, H, W */
    struct student students[3];
    int64_t classes;              /* 0: no label term */
    double target_ms;
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* |gaussian|: what a ReLU leaves of normal pre-activations. */
static void fill_relu(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)fabs(sqrt(-2 * log(1 - uniform())) * cos(2 * M_PI * uniform()));
}

/* Times one case and prints its numbers. */
/* transport_01: 0.1.0's transport (an absolute eps of 0.05) instead of the defaults. */
static void run_case(const struct bench_case *bc, int transport_01)
{
    const int64_t n = bc->n;
    sfr_reg *reg;
    CHECK(sfr_reg_create(&reg));
    if (transport_01) {
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_EPS_RELATIVE, 0));
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, 0.05));
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_EPS_SCALING, 0));
    }
    int64_t tdims[4] = {n, bc->teacher[0], bc->teacher[1], bc->teacher[2]};
    int64_t tsize = n * bc->teacher[0] * bc->teacher[1] * bc->teacher[2];
    float *tdata = xalloc((size_t)tsize * sizeof(float));
    fill_relu(tdata, tsize);
    sfr_tap *teacher;
    CHECK(sfr_tap_wrap(tdims, tdata, NULL, &teacher));
    /* Bytes of feature data a compute touches: every map read, student grads read+written. */
    double bytes = (double)tsize * sizeof(float);
    sfr_tap *taps[3];
    float *data[3], *grad[3];
    for (int i = 0; i < 3; i++) {
        const struct student *s = &bc->students[i];
        int64_t dims[4] = {n, s->c, s->h, s->w}, size = n * s->c * s->h * s->w;
        data[i] = xalloc((size_t)size * sizeof(float));
        grad[i] = xalloc((size_t)size * sizeof(float));
        fill_relu(data[i], size);
        CHECK(sfr_tap_wrap(dims, data[i], grad[i], &taps[i]));
        CHECK(sfr_reg_add_pair(reg, taps[i], teacher, 1.0, NULL));
        bytes += 3.0 * (double)size * sizeof(float);
    }
    const int64_t k = bc->classes;
    float *logits = NULL, *dlogits = NULL;
    int32_t *labels = NULL;
    if (k > 0) {
        logits = xalloc((size_t)(n * k) * sizeof(float));
        dlogits = xalloc((size_t)(n * k) * sizeof(float));
        labels = xalloc((size_t)n * sizeof(int32_t));
        for (int64_t i = 0; i < n * k; i++)
            logits[i] = (float)(4 * uniform() - 2);
        for (int64_t i = 0; i < n; i++)
            labels[i] = (int32_t)(uniform() * (double)k);
        bytes += 2.0 * (double)(n * k) * sizeof(float);
    }
    double times[RUNS], cpu[RUNS], loss = 0;
    for (int r = 0; r < WARMUP + RUNS; r++) {
        double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        CHECK(sfr_reg_compute(reg, logits, labels, k > 0 ? n : 0, k, dlogits, &loss));
        double t1 = clock_ms(CLOCK_MONOTONIC), c1 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (r >= WARMUP) {
            times[r - WARMUP] = t1 - t0;
            cpu[r - WARMUP] = c1 - c0;
        }
    }
    qsort(times, RUNS, sizeof times[0], cmp_double);
    qsort(cpu, RUNS, sizeof cpu[0], cmp_double);
    double med = times[RUNS / 2];
    printf("%-16s N=%-4lld %s median %7.3f ms (min %.3f, max %.3f) target <= %.1f ms %s\n",
           bc->name, (long long)n, transport_01 ? "0.1 transport" : "defaults     ", med,
           times[0], times[RUNS - 1], bc->target_ms, med <= bc->target_ms ? "ok" : "MISSED");
    printf("%-16s CPU time, all threads: median %.3f ms (min %.3f)\n", "", cpu[RUNS / 2],
           cpu[0]);
    printf("%-16s feature data %.1f MB, %.1f GB/s at the median; loss %.6f\n", "",
           bytes / 1e6, bytes / (med * 1e6), loss);
    for (int i = 0; i < 3; i++) {
        int iters;
        double err;
        CHECK(sfr_reg_pair_stats(reg, i, &iters, &err));
        printf("%-16s pair %d: student %lldx%lldx%lld, Sinkhorn iterations %d (max over "
               "samples), final marginal error %.2e\n", "", i, (long long)bc->students[i].c,
               (long long)bc->students[i].h, (long long)bc->students[i].w, iters, err);
    }
    sfr_reg_destroy(reg);
    for (int i = 0; i < 3; i++) {
        sfr_tap_destroy(taps[i]);
        free(data[i]);
        free(grad[i]);
    }
    sfr_tap_destroy(teacher);
    free(tdata);
    free(logits);
    free(dlogits);
    free(labels);
}

static void bench_fmnist_resnet(void)
{
    const struct bench_case bc = {"fmnist-resnet", 128, {128, 4, 4},
                                  {{16, 28, 28}, {32, 14, 14}, {64, 7, 7}}, 10, 2.0};
    run_case(&bc, 0);
    run_case(&bc, 1);
}

static void bench_cifar_resnet18(void)
{
    const struct bench_case bc = {"cifar-resnet18", 32, {512, 4, 4},
                                  {{64, 32, 32}, {128, 16, 16}, {256, 8, 8}}, 0, 4.0};
    run_case(&bc, 0);
    run_case(&bc, 1);
}

int main(int argc, char **argv)
{
    int threads = 2;
    if (argc > 2 || (argc == 2 && (threads = atoi(argv[1])) < 1)) {
        fprintf(stderr, "usage: bench_sfr [threads >= 1]\n");
        return 2;
    }
    CHECK(sfr_set_num_threads(threads));
    printf("libsfr %s: sfr_reg_compute (SFR objective + gradients), %d thread%s, %d runs "
           "after %d warm-up;\ndata: |gaussian| features (post-ReLU-like), beta 1, default "
           "parameters\n", sfr_version_string(), threads, threads == 1 ? "" : "s", RUNS,
           WARMUP);
    /* A missed target is reported, not an exit status: the machine may be shared. */
    bench_fmnist_resnet();
    bench_cifar_resnet18();
    return 0;
}
