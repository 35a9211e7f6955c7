/*
 * Benchmark of whole training steps of the reference networks (NETWORKS.md),
 * through the public API as a host runs them:
 *
 *   sfr_net_forward -> sfr_reg_compute -> sfr_net_backward -> sfr_sgd_step
 *
 * "ce" is the plain cross-entropy step (a regularizer with no pairs and no
 * label smoothing), "ce+sfr" adds the three SFR pairs stage1..3 -> stage4
 * with the default parameters. For each case: WARMUP steps, then the median
 * (min, max) of STEPS timed steps, images/s, achieved GFLOP/s from the FLOP
 * counts of NETWORKS.md, and the share of the machine's FP32 peak, which the
 * bench measures itself with an FMA loop on the same number of threads (bf16
 * rows: of the bf16 peak, measured with a vdpbf16ps loop).
 * The "sfr" column is the median time of sfr_reg_compute inside the step.
 *
 * Usage: bench_train [threads...] [net names...]   (default: 2 then 1 threads,
 * every net)
 */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/reference_nets.h"

#define BENCH_NAME "bench_train"
#include "bench_util.h"

#define STEPS 20
#define WARMUP 3

/* ---- FP32 peak: independent FMA chains, enough of them to cover the
 * latency of every FMA pipe, on every thread. ---- */

#define PEAK_ITERS 4000000L
#define PEAK_CHAINS 16

/* FLOPs of one thread's loop; the result is returned so it is not optimised away. */
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters, double *flops)
{
    __m512 acc[PEAK_CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < PEAK_CHAINS; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < PEAK_CHAINS; k++)
            acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    }
    __m512 s = acc[0];
    for (int k = 1; k < PEAK_CHAINS; k++)
        s = _mm512_add_ps(s, acc[k]);
    *flops = (double)iters * PEAK_CHAINS * 16 * 2;
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters, double *flops)
{
    __m256 acc[PEAK_CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int k = 0; k < PEAK_CHAINS; k++)
        acc[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < PEAK_CHAINS; k++)
            acc[k] = _mm256_fmadd_ps(acc[k], a, b);
    }
    __m256 s = acc[0];
    for (int k = 1; k < PEAK_CHAINS; k++)
        s = _mm256_add_ps(s, acc[k]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *flops = (double)iters * PEAK_CHAINS * 8 * 2;
    return lanes[0] + lanes[7];
}

/* The bf16 peak: vdpbf16ps multiplies 32 bf16 pairs and adds them into 16
 * f32 lanes, 64 FLOPs an instruction (what oneDNN's AVX512_BF16 kernels
 * run). */
__attribute__((target("avx512f,avx512bf16"))) static float dpbf16_loop(long iters, double *flops)
{
    __m512 acc[PEAK_CHAINS];
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
    for (int k = 0; k < PEAK_CHAINS; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < PEAK_CHAINS; k++)
            acc[k] = _mm512_dpbf16_ps(acc[k], a, a);
    }
    __m512 s = acc[0];
    for (int k = 1; k < PEAK_CHAINS; k++)
        s = _mm512_add_ps(s, acc[k]);
    *flops = (double)iters * PEAK_CHAINS * 32 * 2;
    return _mm512_reduce_add_ps(s);
}

/* GFLOP/s of threads threads running the FMA loop (bf16: the vdpbf16ps
 * loop) at once: best of 3. */
static double measure_peak(int threads, int bf16, const char **isa)
{
    int avx512 = __builtin_cpu_supports("avx512f");
    *isa = bf16 ? "AVX512_BF16 dot-product" : avx512 ? "AVX-512 FMA" : "AVX2 FMA";
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double flops = 0, t0 = clock_ms(CLOCK_MONOTONIC);
        volatile float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        {
            double f = 0;
            float r = bf16     ? dpbf16_loop(PEAK_ITERS / 4, &f)
                      : avx512 ? fma_loop_avx512(PEAK_ITERS / 4, &f)
                               : fma_loop_avx2(PEAK_ITERS / 2, &f);
            sink += r;
            flops += f;
        }
        double gflops = flops / ((clock_ms(CLOCK_MONOTONIC) - t0) * 1e6);
        if (gflops > best)
            best = gflops;
    }
    return best;
}

/* ---- training steps ---- */

struct net_case {
    const char *name;
    int64_t batch, classes;
    int64_t in_c, in_hw; /* input C and H = W */
    double mflop_per_image; /* forward + backward, NETWORKS.md */
    sfr_status (*build)(sfr_net *, int[SFR_REF_STAGES]);
    double target_ce_ms, target_sfr_ms; /* at 2 threads */
    int has_sfr2;   /* the net has SFR 0.2's demo setting (a row of its own) */
    int has_sfr;    /* the net has 0.1.0's three pairs (a ce+sfr row) */
    double bf16_factor; /* bf16 rows' target: this times the fp32 SFR step; 0: no bf16 rows */
};

/*
 * The step's objective: plain cross-entropy, 0.1.0's SFR setting (beta 1 on
 * three pairs), the 0.2 demo's default (examples/train_fmnist.c: a head on
 * stage 3), or that head with adapted pairs on stages 1-3 (its ablation
 * "heads and features" in docs/results.md).
 */
enum step_kind { STEP_CE, STEP_SFR, STEP_SFR2, STEP_SFR2_PAIRS };

/* The 0.2 settings: which stages get adapters and heads, and the pair weights. */
struct sfr2_setting {
    struct sfr_ref_branches branches;
    double beta[3];
};
static const struct sfr2_setting sfr2_settings[2] = {
    {{{0, 0, 0}, {0, 0, 1}, 64}, {0, 0, 0}},
    {{{1, 1, 1}, {0, 0, 1}, 64}, {0.1, 0.1, 0.1}},
};
static const double sfr2_head_ce = 1.0, sfr2_head_kl = 1.0;

/* The regularizer's pairs and heads of a 0.2 setting, on its branched net. */
static void add_sfr2_terms(sfr_net *net, sfr_reg *reg, const struct sfr2_setting *set,
                           const int stages[SFR_REF_STAGES], const int students[3],
                           const int heads[3])
{
    sfr_tap *teacher, *tap;
    CHECK(sfr_net_tap(net, stages[4], &teacher));
    for (int s = 0; s < 3; s++) {
        if (set->beta[s] > 0) {
            CHECK(sfr_net_tap(net, students[s], &tap));
            CHECK(sfr_reg_add_pair(reg, tap, teacher, set->beta[s], NULL));
        }
        if (heads[s] >= 0) {
            CHECK(sfr_net_tap(net, heads[s], &tap));
            CHECK(sfr_reg_add_head(reg, tap, sfr2_head_ce, sfr2_head_kl, NULL));
        }
    }
}

struct result {
    double med, min, max, sfr_med;
};

/* The index of the net called name, or -1. */
static int net_index(const struct net_case *nets, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(nets[i].name, name) == 0)
            return i;
    return -1;
}

/* fmnist-mobilenet with its dropout, as the demo trains it. */
static sfr_status fmnist_mobilenet(sfr_net *net, int stages[SFR_REF_STAGES])
{
    return sfr_ref_fmnist_mobilenet(net, 0.2, stages);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double gaussian(void)
{
    return sqrt(-2 * log(1 - uniform())) * cos(2 * M_PI * uniform());
}

/* Runs WARMUP + STEPS steps of one case on a fresh net. */
static struct result run_steps(const struct net_case *nc, enum step_kind kind, int precision)
{
    sfr_net *net;
    int stages[SFR_REF_STAGES], students[3], heads[3];
    CHECK(sfr_net_create(&net));
    const struct sfr2_setting *set = kind >= STEP_SFR2 ? &sfr2_settings[kind - STEP_SFR2] : NULL;
    if (set != NULL)
        CHECK(sfr_ref_fmnist_resnet_branched(net, &set->branches, stages, students, heads));
    else
        CHECK(nc->build(net, stages));
    sfr_reg *reg;
    CHECK(sfr_reg_create(&reg));
    /* A plain cross-entropy step has no taps: each would cost a copy of its
     * layer to the plain layout every forward. */
    if (kind == STEP_SFR) {
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_EPS_RELATIVE, 0));
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, 0.05));
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_EPS_SCALING, 0));
        sfr_tap *taps[SFR_REF_STAGES];
        for (int s = 1; s < SFR_REF_STAGES; s++)
            CHECK(sfr_net_tap(net, stages[s], &taps[s]));
        for (int s = 1; s <= 3; s++)
            CHECK(sfr_reg_add_pair(reg, taps[s], taps[4], 1.0, NULL));
    } else if (set != NULL) {
        add_sfr2_terms(net, reg, set, stages, students, heads);
        CHECK(sfr_reg_set_progress(reg, 1.0));
    } else {
        CHECK(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, 0.0));
    }
    CHECK(sfr_net_set_precision(net, precision));
    CHECK(sfr_net_compile(net, nc->batch));
    CHECK(sfr_net_init_params(net, 1));
    sfr_sgd *sgd;
    CHECK(sfr_sgd_create(&sgd, 0.01, 0.9, 5e-4, 0));

    /* Input: one fixed batch of N(0, 1) images; labels uniform. */
    const float *logits;
    int64_t odims[2];
    int64_t in_size = nc->batch * nc->in_c * nc->in_hw * nc->in_hw;
    float *input = xalloc((size_t)in_size * sizeof(float));
    for (int64_t i = 0; i < in_size; i++)
        input[i] = (float)gaussian();
    int32_t *labels = xalloc((size_t)nc->batch * sizeof(int32_t));
    for (int64_t i = 0; i < nc->batch; i++)
        labels[i] = (int32_t)(uniform() * (double)nc->classes);
    float *dlogits = xalloc((size_t)(nc->batch * nc->classes) * sizeof(float));

    double times[STEPS], sfr_times[STEPS];
    for (int r = 0; r < WARMUP + STEPS; r++) {
        double loss, t0 = clock_ms(CLOCK_MONOTONIC);
        CHECK(sfr_net_forward(net, input, 1));
        CHECK(sfr_net_output(net, &logits, odims));
        double t1 = clock_ms(CLOCK_MONOTONIC);
        CHECK(sfr_reg_compute(reg, logits, labels, nc->batch, nc->classes, dlogits, &loss));
        double t2 = clock_ms(CLOCK_MONOTONIC);
        CHECK(sfr_net_backward(net, dlogits));
        CHECK(sfr_sgd_step(sgd, net));
        double t3 = clock_ms(CLOCK_MONOTONIC);
        if (!isfinite(loss)) {
            fprintf(stderr, "bench_train: %s: the loss is not finite at step %d\n", nc->name, r);
            exit(1);
        }
        if (r >= WARMUP) {
            times[r - WARMUP] = t3 - t0;
            sfr_times[r - WARMUP] = t2 - t1;
        }
    }
    qsort(times, STEPS, sizeof times[0], cmp_double);
    qsort(sfr_times, STEPS, sizeof sfr_times[0], cmp_double);
    struct result res = {times[STEPS / 2], times[0], times[STEPS - 1], sfr_times[STEPS / 2]};
    sfr_sgd_destroy(sgd);
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
    free(input);
    free(labels);
    free(dlogits);
    return res;
}

/*
 * One row; returns its median. The 0.2 rows' target is relative: at most
 * 1.15x the plain CE step measured just before them (ce_ms). A bf16 row's
 * target is relative too: at most bf16_target (issue #14: 0.6x the fp32
 * step on fmnist-resnet, 0.65x on cifar-resnet18), 0 for none.
 */
static double print_row(const struct net_case *nc, enum step_kind kind, int threads, double peak,
                        double ce_ms, int precision, double bf16_target)
{
    static const char *const names[] = {"ce", "ce+sfr", "sfr0.2", "sfr0.2+a"};
    static const char *const bf16_names[] = {"ce/bf16", "sfr/bf16", "0.2/bf16", "0.2+a/bf16"};
    struct result r = run_steps(nc, kind, precision);
    double gflops = nc->mflop_per_image * (double)nc->batch / r.med; /* MFLOP/ms */
    double target = precision == SFR_PRECISION_BF16 ? bf16_target
                    : kind >= STEP_SFR2 ? 1.15 * ce_ms
                    : kind == STEP_SFR ? nc->target_sfr_ms : nc->target_ce_ms;
    char verdict[32] = "";
    if ((threads == 2 || kind >= STEP_SFR2 || precision == SFR_PRECISION_BF16) && target > 0)
        snprintf(verdict, sizeof verdict, "<= %-4.0f %s", target, r.med <= target ? "ok" : "MISSED");
    printf("%-15s b%-4lld %-10s %2d  %8.2f  %8.2f  %8.2f  %8.0f  %7.1f  %5.1f%%  %7.2f %5.1f%%  %s\n",
           nc->name, (long long)nc->batch,
           precision == SFR_PRECISION_BF16 ? bf16_names[kind] : names[kind], threads, r.med,
           r.min, r.max,
           (double)nc->batch * 1e3 / r.med, gflops, 100 * gflops / peak, r.sfr_med,
           100 * r.sfr_med / r.med, verdict);
    fflush(stdout);
    return r.med;
}

int main(int argc, char **argv)
{
    static const struct net_case nets[] = {
        {"fmnist-resnet", 128, 10, 1, 28, 78, sfr_ref_fmnist_resnet, 35, 38, 1, 1, 0.6},
        {"cifar-resnet18", 32, 100, 3, 32, 3300, sfr_ref_cifar_resnet18, 270, 285, 0, 1, 0.65},
        /* Its target is relative to PyTorch's step (torch_bench.py, same run). */
        {"fmnist-mobilenet", 128, 10, 1, 28, 32, fmnist_mobilenet, 0, 0, 0, 0, 0},
    };
    /* Arguments: thread counts (default 2 then 1) and net names (default all). */
    int threads[8] = {2, 1}, n_threads = 0;
    enum { N_NETS = sizeof nets / sizeof nets[0] };
    int only[N_NETS] = {0}, n_only = 0; /* only[n]: net n was named */
    for (int i = 1; i < argc; i++) {
        if (atoi(argv[i]) >= 1 && n_threads < 8) {
            threads[n_threads++] = atoi(argv[i]);
        } else if (net_index(nets, N_NETS, argv[i]) >= 0) {
            only[net_index(nets, N_NETS, argv[i])] = 1;
            n_only++;
        } else {
            fprintf(stderr, "usage: bench_train [threads...] [fmnist-resnet] [cifar-resnet18] "
                            "[fmnist-mobilenet]\n");
            return 2;
        }
    }
    if (n_threads == 0)
        n_threads = 2;
    int bf16_here = 0;
    CHECK(sfr_precision_supported(SFR_PRECISION_BF16, &bf16_here));
    printf("libsfr %s: training steps (forward, sfr_reg_compute, backward, sfr_sgd_step), "
           "median of %d after %d warm-up\n", sfr_version_string(), STEPS, WARMUP);
    if (!bf16_here)
        printf("no bf16 rows: this CPU lacks AVX512_BF16\n");
    for (int t = 0; t < n_threads; t++) {
        const char *isa, *bf16_isa;
        double peak = measure_peak(threads[t], 0, &isa);
        printf("\n%d thread(s): FP32 peak measured %.0f GFLOP/s (%s loop)", threads[t], peak, isa);
        /* bf16 rows' "peak" is this one's share: the roofline of their convolutions */
        double bf16_peak = bf16_here ? measure_peak(threads[t], 1, &bf16_isa) : 0;
        if (bf16_here)
            printf(", bf16 peak %.0f GFLOP/s (%s loop)", bf16_peak, bf16_isa);
        printf("\n");
        printf("%-15s %-5s %-10s %2s  %8s  %8s  %8s  %8s  %7s  %6s  %7s %6s  %s\n", "net", "batch",
               "step", "th", "ms", "min", "max", "img/s", "GFLOP/s", "peak", "sfr ms", "of step",
               "target");
        CHECK(sfr_set_num_threads(threads[t]));
        for (size_t n = 0; n < sizeof nets / sizeof nets[0]; n++) {
            if (n_only > 0 && !only[n])
                continue;
            const int fp32 = SFR_PRECISION_FP32, bf16 = SFR_PRECISION_BF16;
            double ce_ms = print_row(&nets[n], STEP_CE, threads[t], peak, 0, fp32, 0);
            double sfr_ms = 0, sfr2_ms = 0;
            if (nets[n].has_sfr)
                sfr_ms = print_row(&nets[n], STEP_SFR, threads[t], peak, 0, fp32, 0);
            for (int k = STEP_SFR2; k <= STEP_SFR2_PAIRS && nets[n].has_sfr2; k++) {
                double ms = print_row(&nets[n], (enum step_kind)k, threads[t], peak, ce_ms, fp32, 0);
                if (k == STEP_SFR2)
                    sfr2_ms = ms;
            }
            /* bf16 mixed precision (sfr_net_set_precision), where the CPU has it;
             * the mobilenet's depthwise convolutions stay f32. */
            if (!bf16_here || nets[n].bf16_factor == 0)
                continue;
            print_row(&nets[n], STEP_CE, threads[t], bf16_peak, 0, bf16, 0);
            if (nets[n].has_sfr2)
                print_row(&nets[n], STEP_SFR2, threads[t], bf16_peak, 0, bf16,
                          nets[n].bf16_factor * sfr2_ms);
            else if (nets[n].has_sfr)
                print_row(&nets[n], STEP_SFR, threads[t], bf16_peak, 0, bf16,
                          nets[n].bf16_factor * sfr_ms);
        }
    }
    return 0;
}
