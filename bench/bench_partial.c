/*
 * What a partial batch costs (sfr_net_forward_batch): on each reference net
 * compiled for 128, with taps on two stages as the demo has, the time of
 * sfr_net_compile, of the first forward of 96 samples (which compiles the
 * layers for 96), and the median training step (forward and backward) of 96
 * samples on that net against a net compiled for 96, measured in turns in
 * the same run, and of a full step right after a partial one (the switch)
 * against a full step after a full one.
 *
 *   bench_partial [steps]   (default 20 timed steps of each kind)
 */
#define BENCH_NAME "bench_partial"
#include <omp.h>
#include <string.h>

#include "../tests/reference_nets.h"
#include "bench_util.h"

enum { FULL = 128, PART = 96, CLASSES = 10, PIXELS = 28 * 28 };

static sfr_net *make(int mobilenet, int64_t batch, double *compile_ms)
{
    sfr_net *net;
    int stages[SFR_REF_STAGES];
    sfr_tap *tap;
    CHECK(sfr_net_create(&net));
    CHECK(mobilenet ? sfr_ref_fmnist_mobilenet(net, 0.2, stages) : sfr_ref_fmnist_resnet(net, stages));
    CHECK(sfr_net_tap(net, stages[2], &tap));
    CHECK(sfr_net_tap(net, stages[4], &tap));
    double t0 = clock_ms(CLOCK_MONOTONIC);
    CHECK(sfr_net_compile(net, batch));
    *compile_ms = clock_ms(CLOCK_MONOTONIC) - t0;
    CHECK(sfr_net_init_params(net, 1));
    return net;
}

/* One training step of n samples; the wall time in ms. */
static double step(sfr_net *net, const float *x, int64_t n, int partial, const float *dlogits)
{
    double t0 = clock_ms(CLOCK_MONOTONIC);
    CHECK(partial ? sfr_net_forward_batch(net, x, n, 1) : sfr_net_forward(net, x, 1));
    CHECK(sfr_net_backward(net, dlogits));
    return clock_ms(CLOCK_MONOTONIC) - t0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    if (steps < 1) {
        fprintf(stderr, "usage: bench_partial [steps]\n");
        return 2;
    }
    float *x = xalloc((size_t)FULL * PIXELS * sizeof *x);
    float *d = xalloc((size_t)FULL * CLASSES * sizeof *d);
    for (int i = 0; i < FULL * PIXELS; i++)
        x[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    for (int i = 0; i < FULL * CLASSES; i++)
        d[i] = (float)((i % CLASSES) - 4.5) / (FULL * CLASSES);
    double *t_part = xalloc((size_t)steps * sizeof *t_part);
    double *t_own = xalloc((size_t)steps * sizeof *t_own);
    double *t_switch = xalloc((size_t)steps * sizeof *t_switch);
    double *t_full = xalloc((size_t)steps * sizeof *t_full);
    printf("libsfr %s: partial batches, %d of %d samples, %d thread(s), median of %d steps\n",
           sfr_version_string(), PART, FULL, omp_get_max_threads(), steps);
    printf("%-17s %10s %12s %13s %13s %7s %13s %13s\n", "net", "compile ms", "1st partial",
           "partial step", "compiled-96", "ratio", "full after", "full step");
    for (int mobilenet = 0; mobilenet < 2; mobilenet++) {
        double compile_full, compile_own;
        sfr_net *net = make(mobilenet, FULL, &compile_full);
        sfr_net *own = make(mobilenet, PART, &compile_own);
        step(net, x, FULL, 0, d);
        double first = step(net, x, PART, 1, d);
        step(own, x, PART, 0, d);
        for (int s = 0; s < steps; s++) {
            t_part[s] = step(net, x, PART, 1, d);
            t_own[s] = step(own, x, PART, 0, d);
            t_switch[s] = step(net, x, FULL, 0, d);
            t_full[s] = step(net, x, FULL, 0, d);
        }
        double mp = median(t_part, steps), mo = median(t_own, steps);
        printf("%-17s %10.0f %9.0f ms %10.2f ms %10.2f ms %7.3f %10.2f ms %10.2f ms\n",
               mobilenet ? "fmnist-mobilenet" : "fmnist-resnet", compile_full, first, mp, mo,
               mp / mo, median(t_switch, steps), median(t_full, steps));
        sfr_net_destroy(net);
        sfr_net_destroy(own);
    }
    free(x);
    free(d);
    free(t_part);
    free(t_own);
    free(t_switch);
    free(t_full);
    return 0;
}
