/*
 * libFuzzer target: bytes -> a regularizer driven by a sequence of
 * operations: set_param (any key, values from small integers to raw
 * doubles), add_pair and add_head on wrapped taps of random small shapes,
 * set_progress,
 * set_sample_ids, and compute on random data (NaN and infinities included),
 * with or without the label term. Every call must return a documented
 * status, and a compute that returns SFR_OK a finite loss, finite dlogits
 * and (with rms normalization, whose gradients the parameter bounds keep in
 * float's range) finite tap gradients; the harness's allocator caps every
 * block (fuzz_input.h).
 */
#include <math.h>

#include "fuzz_input.h"

enum { MAX_TAPS = 6, MAX_OPS = 24, MAX_N = 3, MAX_C = 8, MAX_HW = 6, MAX_K = 5 };

/* Keys of SFR.md section 10, those of 0.2.0 (docs/sfr.md) and one that is not a key. */
static const sfr_param keys[] = {
    SFR_PARAM_SINKHORN_EPS, SFR_PARAM_MAX_ITER,     SFR_PARAM_TOL,
    SFR_PARAM_MATCH,        SFR_PARAM_NORM,         SFR_PARAM_DELTA,
    SFR_PARAM_TEACHER_GRAD, SFR_PARAM_GRID_H,       SFR_PARAM_GRID_W,
    SFR_PARAM_TEACHER_GRID_H, SFR_PARAM_TEACHER_GRID_W, SFR_PARAM_LS_SCHEDULE,
    SFR_PARAM_LS_EPS_START, SFR_PARAM_LS_EPS_END,   SFR_PARAM_LS_SOURCE,
    SFR_PARAM_LS_TEMPERATURE, SFR_PARAM_LS_BANK_SIZE, SFR_PARAM_GAMMA,
    SFR_PARAM_EPS_RELATIVE, SFR_PARAM_EPS_SCALING,  SFR_PARAM_DEBIAS,
    SFR_PARAM_WARMUP,       SFR_PARAM_HEAD_TEMPERATURE, SFR_PARAM_COOLDOWN,
    SFR_PARAM_HEAD_MUTUAL,  SFR_PARAM_CLASSWISE,    SFR_PARAM_CLASSWISE_TEMPERATURE,
    SFR_PARAM_LAST_BATCH,   SFR_PARAM_LAST_BATCH_TEMPERATURE, (sfr_param)999};

struct tap_buf {
    sfr_tap *tap;
    float *data, *grad;
};

static void new_tap(struct fuzz_input *in, int64_t n, struct tap_buf *t)
{
    int64_t dims[4] = {n, fuzz_range(in, 1, MAX_C), fuzz_range(in, 1, MAX_HW),
                       fuzz_range(in, 1, MAX_HW)};
    size_t numel = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
    t->data = malloc(numel * sizeof(float));
    t->grad = malloc(numel * sizeof(float));
    if (t->data == NULL || t->grad == NULL)
        abort();
    fuzz_floats(in, t->data, numel);
    memset(t->grad, 0, numel * sizeof(float));
    /* Every third tap without a gradient buffer: a student must refuse it. */
    fuzz_expect(sfr_tap_wrap(dims, t->data, fuzz_u8(in) % 3 ? t->grad : NULL, &t->tap));
    if (t->tap == NULL) {
        free(t->data);
        free(t->grad);
    }
}

static double param_value(struct fuzz_input *in)
{
    uint8_t kind = fuzz_u8(in);
    if (kind < 128)
        return (double)fuzz_range(in, -2, 40);
    if (kind < 192)
        return (double)fuzz_u8(in) / 64.0;
    /* Magnitudes over double's whole range, denormals included: both sides
     * of every bound, where float math overflowed. */
    if (kind < 224)
        return ldexp(1.0 + fuzz_u8(in) / 256.0, fuzz_range(in, 0, 255) * 8 - 1074);
    return fuzz_double(in);
}

static void expect_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            abort();
}

static size_t tap_numel(const sfr_tap *tap)
{
    int64_t d[4];
    fuzz_expect(sfr_tap_dims(tap, d));
    return (size_t)(d[0] * d[1] * d[2] * d[3]);
}

/* The gradients start at zero, so that one compute's results are checked. */
static void compute(struct fuzz_input *in, sfr_reg *reg, int64_t n, const struct tap_buf *taps,
                    int n_taps)
{
    for (int i = 0; i < n_taps; i++)
        memset(taps[i].grad, 0, tap_numel(taps[i].tap) * sizeof(float));
    int64_t k = fuzz_range(in, 0, MAX_K);
    float logits[MAX_N * MAX_K], dlogits[MAX_N * MAX_K];
    int32_t labels[MAX_N];
    fuzz_floats(in, logits, (size_t)(n * k));
    for (int64_t i = 0; i < n; i++)
        labels[i] = (int32_t)fuzz_range(in, -1, MAX_K);
    double loss = 0;
    int label_term = k > 0;
    sfr_status st = sfr_reg_compute(reg, label_term ? logits : NULL, label_term ? labels : NULL,
                                    n, k, label_term ? dlogits : NULL, &loss);
    fuzz_expect(st);
    if (st == SFR_OK) {
        double norm = -1;
        fuzz_expect(sfr_reg_get_param(reg, SFR_PARAM_NORM, &norm));
        if (!isfinite(loss))
            abort();
        expect_finite(dlogits, label_term ? (size_t)(n * k) : 0);
        for (int i = 0; i < n_taps && norm == SFR_NORM_RMS; i++)
            expect_finite(taps[i].grad, tap_numel(taps[i].tap));
        double v = 0;
        int iters = 0;
        fuzz_expect(sfr_reg_label_loss(reg, &v));
        fuzz_expect(sfr_reg_classwise_loss(reg, &v));
        fuzz_expect(sfr_reg_last_batch_loss(reg, &v));
        if (!isfinite(v))
            abort();
        double ce = 0, kl = 0;
        fuzz_expect(sfr_reg_head_loss(reg, 0, &ce, &kl));
        if (!isfinite(ce) || !isfinite(kl))
            abort();
        fuzz_expect(sfr_reg_pair_loss(reg, 0, &v));
        fuzz_expect(sfr_reg_pair_stats(reg, 0, &iters, &v));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    struct fuzz_input in = {data, size};
    struct tap_buf taps[MAX_TAPS] = {{0}};
    int n_taps = 0;
    /* One batch size for most taps, so that pairs usually fit together. */
    int64_t n = fuzz_range(&in, 1, MAX_N);
    sfr_reg *reg = NULL;
    fuzz_expect(sfr_reg_create(&reg));
    if (reg == NULL)
        return 0;
    for (int op = 0; op < MAX_OPS && in.left > 0; op++) {
        switch (fuzz_u8(&in) % 7) {
        case 0: {
            sfr_param key = keys[fuzz_u8(&in) % (sizeof keys / sizeof keys[0])];
            double v = param_value(&in);
            /* Sinkhorn's iteration cap bounds the run time; keep runs short. */
            if (key == SFR_PARAM_MAX_ITER && v > 500)
                v = 500;
            fuzz_expect(sfr_reg_set_param(reg, key, v));
            double back = 0;
            fuzz_expect(sfr_reg_get_param(reg, key, &back));
            break;
        }
        case 1:
            if (n_taps < MAX_TAPS) {
                new_tap(&in, fuzz_u8(&in) < 230 ? n : fuzz_range(&in, 1, MAX_N), &taps[n_taps]);
                if (taps[n_taps].tap != NULL)
                    n_taps++;
            }
            break;
        case 2:
            if (n_taps > 0) {
                sfr_tap *s = taps[fuzz_u8(&in) % n_taps].tap, *t = taps[fuzz_u8(&in) % n_taps].tap;
                fuzz_expect(sfr_reg_add_pair(reg, s, t, param_value(&in), NULL));
            }
            break;
        case 3:
            fuzz_expect(sfr_reg_set_progress(reg, param_value(&in)));
            break;
        case 4: {
            int64_t ids[MAX_N];
            for (int i = 0; i < MAX_N; i++)
                ids[i] = fuzz_range(&in, -1, 60);
            fuzz_expect(sfr_reg_set_sample_ids(reg, ids, fuzz_range(&in, 0, MAX_N)));
            break;
        }
        case 5:
            if (n_taps > 0) {
                sfr_tap *head = taps[fuzz_u8(&in) % n_taps].tap;
                double ce_weight = param_value(&in), kl_weight = param_value(&in);
                fuzz_expect(sfr_reg_add_head(reg, head, ce_weight, kl_weight, NULL));
            }
            break;
        default:
            compute(&in, reg, n, taps, n_taps);
            break;
        }
    }
    sfr_reg_destroy(reg);
    for (int i = 0; i < n_taps; i++) {
        sfr_tap_destroy(taps[i].tap);
        free(taps[i].data);
        free(taps[i].grad);
    }
    return 0;
}
