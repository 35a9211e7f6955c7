/*
 * libsfr: the SFR regularizer.
 *
 * An sfr_reg holds pairs (student tap, teacher tap, beta) and the options
 * of the SFR objective (the contract is docs/sfr.md): EMD-l2 matching of
 * local features with a many-to-one channel cost, and dynamic label
 * smoothing at the output. sfr_reg_compute evaluates the whole objective,
 * writes the gradient of the logits and adds the feature gradients into the
 * student (and optionally teacher) taps' gradient buffers.
 *
 * A regularizer is used by one thread at a time; different regularizers are
 * independent. It keeps its own workspace, sized on the first compute for
 * given shapes and reused, so later computes with the same shapes allocate
 * nothing.
 */
#ifndef SFR_REG_H
#define SFR_REG_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sfr_reg sfr_reg;

/*
 * Option keys for sfr_reg_set_param / sfr_reg_get_param. Values are explicit
 * and grouped by range (1xx feature matching, 2xx label smoothing); they are
 * part of the ABI and only ever appended. Every value is passed as a double;
 * integer and enum keys take whole numbers only, no key takes NaN or an
 * infinity.
 */
typedef enum sfr_param {
    /* Feature matching (SFR.md sections 2 to 7). */
    SFR_PARAM_SINKHORN_EPS = 100,   /* real > 0, default 0.05: entropic regularization */
    SFR_PARAM_MAX_ITER = 101,       /* integer 1..100000, default 100: Sinkhorn iterations */
    SFR_PARAM_TOL = 102,            /* real >= 0, default 1e-4: row-marginal stopping tolerance */
    SFR_PARAM_MATCH = 103,          /* SFR_MATCH_EMD (default) or SFR_MATCH_L2 */
    SFR_PARAM_NORM = 104,           /* SFR_NORM_RMS (default) or SFR_NORM_NONE */
    SFR_PARAM_DELTA = 105,          /* real > 0, default 1e-6: rms normalization floor */
    SFR_PARAM_TEACHER_GRAD = 106,   /* 0 (default) or 1: also add gradients to teachers */
    SFR_PARAM_GRID_H = 107,         /* integer >= 0, default 0 (= teacher's pooled height) */
    SFR_PARAM_GRID_W = 108,         /* integer >= 0, default 0 (= teacher's pooled width) */
    SFR_PARAM_TEACHER_GRID_H = 109, /* integer >= 0, default 0 (= teacher's height) */
    SFR_PARAM_TEACHER_GRID_W = 110, /* integer >= 0, default 0 (= teacher's width) */

    /* Dynamic label smoothing (SFR.md section 8). */
    SFR_PARAM_LS_SCHEDULE = 200,    /* SFR_LS_CONSTANT, SFR_LS_LINEAR (default), SFR_LS_COSINE */
    SFR_PARAM_LS_EPS_START = 201,   /* real in [0, 1], default 0 */
    SFR_PARAM_LS_EPS_END = 202,     /* real in [0, 1], default 0.1 */
    SFR_PARAM_LS_SOURCE = 203,      /* SFR_LS_UNIFORM (default), SFR_LS_SELF, SFR_LS_PAST */
    SFR_PARAM_LS_TEMPERATURE = 204, /* real > 0, default 4: temperature of the `self` source */
    SFR_PARAM_LS_BANK_SIZE = 205,   /* integer >= 0, default 0: samples the `past` bank holds */
    SFR_PARAM_GAMMA = 206           /* real >= 0, default 1: weight of the label term */
} sfr_param;

/* Values of SFR_PARAM_MATCH. */
#define SFR_MATCH_EMD 0
#define SFR_MATCH_L2 1
/* Values of SFR_PARAM_NORM. */
#define SFR_NORM_RMS 0
#define SFR_NORM_NONE 1
/* Values of SFR_PARAM_LS_SCHEDULE. */
#define SFR_LS_CONSTANT 0
#define SFR_LS_LINEAR 1
#define SFR_LS_COSINE 2
/* Values of SFR_PARAM_LS_SOURCE. */
#define SFR_LS_UNIFORM 0
#define SFR_LS_SELF 1
#define SFR_LS_PAST 2

/*
 * Creates a regularizer with no pairs and every parameter at its default.
 * Errors: SFR_ERR_INVALID_ARG (out is NULL), SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_create(sfr_reg **out);

/* Releases a regularizer and its workspace, not its taps. NULL is a no-op.
 * Since 0.1.0. */
SFR_API void sfr_reg_destroy(sfr_reg *reg);

/*
 * Sets one option (see sfr_param for keys, ranges and defaults).
 * Errors: SFR_ERR_INVALID_ARG (unknown key, value out of range, not a whole
 * number for an integer key, NaN or infinity), SFR_ERR_MISUSE. On error the
 * option keeps its value. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_set_param(sfr_reg *reg, sfr_param key, double value);

/* Reads one option into *value. Errors: SFR_ERR_INVALID_ARG (unknown key,
 * NULL value), SFR_ERR_MISUSE. Since 0.1.0. */
SFR_API sfr_status sfr_reg_get_param(const sfr_reg *reg, sfr_param key, double *value);

/*
 * Adds the pair (student, teacher, beta) and writes its index (0, 1, ... in
 * the order added) to *index unless index is NULL. The regularizer keeps
 * the tap pointers: the taps must stay alive while the regularizer is used.
 * Shapes of a net's tap not yet compiled are checked by sfr_reg_compute.
 * Errors: SFR_ERR_INVALID_ARG (NULL tap, beta negative or not finite, a
 * student tap without a gradient buffer), SFR_ERR_SHAPE (different N, or
 * channel counts of which neither is a multiple of the other),
 * SFR_ERR_MISUSE, SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_add_pair(sfr_reg *reg, sfr_tap *student, sfr_tap *teacher,
                                    double beta, int *index);

/* Sets the training progress t in [0, 1] that drives the label-smoothing
 * schedule. Errors: SFR_ERR_INVALID_ARG (t outside [0, 1] or NaN),
 * SFR_ERR_MISUSE. Since 0.1.0. */
SFR_API sfr_status sfr_reg_set_progress(sfr_reg *reg, double t);

/*
 * Gives the dataset index of each of the n samples of the next compute, for
 * the `past` label-smoothing source. The ids are copied. Errors:
 * SFR_ERR_INVALID_ARG (NULL ids, n < 1, a negative id), SFR_ERR_MISUSE,
 * SFR_ERR_NOMEM; on error the ids set before stay pending. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_set_sample_ids(sfr_reg *reg, const int64_t *ids, int64_t n);

/*
 * Computes the whole objective L = L_label + sum of pair losses.
 * logits: (n, k) floats; labels: n ints in [0, k); dlogits: (n, k) floats,
 * overwritten with dL/dlogits; *loss receives L. With logits == NULL and
 * k == 0 there is no label term and labels and dlogits may be NULL. Feature
 * gradients are added to the taps' gradient buffers. Everything is
 * validated before anything is written. Errors:
 * SFR_ERR_INVALID_ARG (NULL loss; logits NULL with k != 0; with logits, n
 * or k < 1, NULL labels or dlogits, a label outside [0, k); a student tap
 * without gradient buffer, or teacher_grad = 1 with a teacher without one;
 * a pending sample id >= ls_bank_size for `past`),
 * SFR_ERR_SHAPE (taps whose N differ or differ from n, channel counts of
 * which neither divides the other, a grid larger than its input, `l2` with
 * different student and teacher grids, a pending id count other than n for
 * `past`), SFR_ERR_NONFINITE (NaN or infinity in a logit or feature map),
 * SFR_ERR_STATE (a net tap whose net is not compiled; `past` with logits
 * and no ids pending), SFR_ERR_MISUSE (reg or a pair's tap is not a live
 * handle), SFR_ERR_NOMEM (workspace or bank). On error nothing is written:
 * not *loss, not dlogits, no tap gradient, no stored loss or statistic, no
 * bank entry, and pending ids stay pending. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_compute(sfr_reg *reg, const float *logits, const int32_t *labels,
                                   int64_t n, int64_t k, float *dlogits, double *loss);

/* The last successful compute's loss of pair index, beta included (0 before
 * any compute reached it). Errors: SFR_ERR_INVALID_ARG (NULL value, index
 * out of range), SFR_ERR_MISUSE. Since 0.1.0. */
SFR_API sfr_status sfr_reg_pair_loss(const sfr_reg *reg, int index, double *value);

/* The last successful compute's label loss, gamma included (0 before).
 * Errors: SFR_ERR_INVALID_ARG, SFR_ERR_MISUSE. Since 0.1.0. */
SFR_API sfr_status sfr_reg_label_loss(const sfr_reg *reg, double *value);

/*
 * For pair index, over the samples of the last successful compute: the
 * largest number of Sinkhorn iterations used and the largest final
 * row-marginal error (0 and 0 for `l2` and before any compute). Either output
 * pointer may be NULL. Errors: SFR_ERR_INVALID_ARG (index out of range),
 * SFR_ERR_MISUSE. Since 0.1.0.
 */
SFR_API sfr_status sfr_reg_pair_stats(const sfr_reg *reg, int index, int *iterations,
                                      double *marginal_error);

#ifdef __cplusplus
}
#endif

#endif /* SFR_REG_H */
