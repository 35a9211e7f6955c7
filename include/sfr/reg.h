/**
 * @file sfr/reg.h
 * @brief The SFR regularizer: pairs of taps, options, and the objective.
 *
 * An ::sfr_reg holds pairs (student tap, teacher tap, beta) and the options
 * of the SFR objective (the contract is docs/sfr.md): EMD-l2 matching of
 * local features with a many-to-one channel cost, and dynamic label
 * smoothing at the output. sfr_reg_compute() evaluates the whole objective,
 * writes the gradient of the logits and adds the feature gradients into the
 * student (and optionally teacher) taps' gradient buffers.
 *
 * A regularizer is used by one thread at a time; different regularizers are
 * independent. A call that changes a regularizer (set_param, add_pair, add_head,
 * set_progress, set_sample_ids, compute, compute_net) while another such
 * call on it runs in another thread is refused with #SFR_ERR_MISUSE and
 * changes nothing (since 0.2.0; a cheap check, not a lock: the host must
 * still not share a regularizer between threads). It keeps its own workspace, sized on the first compute for
 * given shapes and reused, so later computes with the same shapes allocate
 * nothing.
 *
 * @since 0.1.0
 */
#ifndef SFR_REG_H
#define SFR_REG_H

#include <stdint.h>

#include "export.h"
#include "net.h"
#include "status.h"
#include "tap.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of a regularizer.
 * @since 0.1.0
 */
typedef struct sfr_reg sfr_reg;

/**
 * @brief Option keys for sfr_reg_set_param() and sfr_reg_get_param().
 *
 * Values are explicit and grouped by range (1xx feature matching, 2xx label
 * smoothing); they are part of the ABI and only ever appended. Every value
 * is passed as a double; integer and enum keys take whole numbers only
 * (integers up to 2^31 - 1), and no key takes NaN or an infinity. The
 * parameter table with the reasons for each default is docs/sfr.md.
 *
 * Since 0.2.0 the real-valued keys whose extreme values overflowed float
 * math (a NaN loss reported as #SFR_OK) have bounds that it carries:
 * #SFR_PARAM_SINKHORN_EPS in [1e-6, 1e6], #SFR_PARAM_DELTA >= 1e-12,
 * #SFR_PARAM_LS_TEMPERATURE >= 1e-3, #SFR_PARAM_GAMMA and a pair's beta
 * at most 1e6 (the reasons: docs/sfr.md, "Parameters").
 *
 * @since 0.1.0
 */
typedef enum sfr_param {
    /* Feature matching (docs/sfr.md, "Local features" to "Pair loss"). */

    /** Real in [1e-6, 1e6] (> 0 before 0.2.0), default 0.2 (0.05 before
     *  0.2.0): entropic regularization of Sinkhorn, relative to each
     *  sample's mean cost while #SFR_PARAM_EPS_RELATIVE is 1. */
    SFR_PARAM_SINKHORN_EPS = 100,
    /** Integer in [1, 100000], default 100: at most this many Sinkhorn iterations. */
    SFR_PARAM_MAX_ITER = 101,
    /** Real >= 0, default 1e-4: Sinkhorn stops once the row-marginal error is
     *  below it (0: always #SFR_PARAM_MAX_ITER iterations). */
    SFR_PARAM_TOL = 102,
    /** Enum, default #SFR_MATCH_EMD: #SFR_MATCH_EMD or #SFR_MATCH_L2. */
    SFR_PARAM_MATCH = 103,
    /** Enum, default #SFR_NORM_RMS: #SFR_NORM_RMS or #SFR_NORM_NONE. */
    SFR_PARAM_NORM = 104,
    /** Real >= 1e-12 (> 0 before 0.2.0), default 1e-6: floor of the rms
     *  normalization. */
    SFR_PARAM_DELTA = 105,
    /** Integer 0 (default) or 1: 1 also adds gradients into the teacher taps,
     *  which then need gradient buffers. */
    SFR_PARAM_TEACHER_GRAD = 106,
    /** Integer >= 0, default 0: student grid height in cells; 0 takes the
     *  teacher grid's height. At most the student's H. */
    SFR_PARAM_GRID_H = 107,
    /** Integer >= 0, default 0: student grid width in cells; 0 takes the
     *  teacher grid's width. At most the student's W. */
    SFR_PARAM_GRID_W = 108,
    /** Integer >= 0, default 0: teacher grid height in cells; 0 takes the
     *  teacher's H. At most the teacher's H. */
    SFR_PARAM_TEACHER_GRID_H = 109,
    /** Integer >= 0, default 0: teacher grid width in cells; 0 takes the
     *  teacher's W. At most the teacher's W. */
    SFR_PARAM_TEACHER_GRID_W = 110,

    /* Dynamic label smoothing (docs/sfr.md, "Dynamic label smoothing"). */

    /** Enum, default #SFR_LS_LINEAR: #SFR_LS_CONSTANT, #SFR_LS_LINEAR or
     *  #SFR_LS_COSINE, the path of the smoothing factor over progress. */
    SFR_PARAM_LS_SCHEDULE = 200,
    /** Real in [0, 1], default 0: smoothing factor at progress 0. */
    SFR_PARAM_LS_EPS_START = 201,
    /** Real in [0, 1], default 0.1: smoothing factor at progress 1. */
    SFR_PARAM_LS_EPS_END = 202,
    /** Enum, default #SFR_LS_UNIFORM: #SFR_LS_UNIFORM, #SFR_LS_SELF or
     *  #SFR_LS_PAST, the distribution the labels are smoothed toward. */
    SFR_PARAM_LS_SOURCE = 203,
    /** Real >= 1e-3 (> 0 before 0.2.0), default 4: temperature of the
     *  #SFR_LS_SELF source. */
    SFR_PARAM_LS_TEMPERATURE = 204,
    /** Integer >= 0, default 0: samples the #SFR_LS_PAST bank holds (sample
     *  ids must be below it). Changing it empties the bank. */
    SFR_PARAM_LS_BANK_SIZE = 205,
    /** Real in [0, 1e6] (>= 0 before 0.2.0), default 1: weight of the label term. */
    SFR_PARAM_GAMMA = 206,

    /* Transport (docs/sfr.md, "Matching"); since 0.2.0. */

    /** Integer 0 or 1, default 1: 1 makes the entropic regularization of
     *  each sample's transport #SFR_PARAM_SINKHORN_EPS times the mean of that
     *  sample's cost matrix; 0 uses #SFR_PARAM_SINKHORN_EPS as it is (0.1.0's
     *  behaviour). @since 0.2.0 */
    SFR_PARAM_EPS_RELATIVE = 111,
    /** Real in [0, 0.99], default 0: epsilon scaling. Sinkhorn starts at the
     *  cost's diameter and multiplies epsilon by this factor after each
     *  iteration, keeping its potentials, until it reaches its target; 0
     *  starts at the target. @since 0.2.0 */
    SFR_PARAM_EPS_SCALING = 112,
    /** Integer 0 (default) or 1: 1 makes the pair loss the debiased Sinkhorn
     *  divergence OT(x, y) - OT(x, x)/2 - OT(y, y)/2, zero when the two sets
     *  of local features are equal. Needs #SFR_MATCH_EMD and channel counts
     *  that are equal. @since 0.2.0 */
    SFR_PARAM_DEBIAS = 113,

    /* Weights over training and self-distillation heads (docs/sfr.md,
     * "Heads" and "Warm-up"); since 0.2.0. */

    /** Real in [0, 1], default 0: the pair and head weights rise linearly
     *  from 0 at progress 0 to their full value at this progress (0: full
     *  from the start). @since 0.2.0 */
    SFR_PARAM_WARMUP = 300,
    /** Real in [0.05, 100], default 3: temperature T of the heads' KL term. @since 0.2.0 */
    SFR_PARAM_HEAD_TEMPERATURE = 301,
    /** Real in [0, 1], default 0: the pair and head weights fall linearly
     *  from their full value at progress 1 - cooldown to 0 at progress 1
     *  (0: no cool-down), so the end of training is the label term alone.
     *  With #SFR_PARAM_WARMUP the smaller of the two factors applies. @since 0.2.0 */
    SFR_PARAM_COOLDOWN = 302,
    /** Real in [0, 1e6], default 0: weight c of the mutual term, through
     *  which the deepest classifier also learns from each head: c * w(t) *
     *  T^2 * KL(softmax(z^h / T) || softmax(z / T)) per head, the head's
     *  logits z^h held constant, its gradient added to dlogits (docs/sfr.md,
     *  "Heads"). 0: the deepest classifier is the teacher only. Without heads
     *  it does nothing. @since 0.2.0 */
    SFR_PARAM_HEAD_MUTUAL = 303,
    /** Real in [0, 1e6], default 0: weight lambda of the class-wise term
     *  (CS-KD): each sample's softened prediction learns from that of the
     *  next sample of its class in the batch, lambda * w(t) * T^2 *
     *  KL(softmax(z_m / T) || softmax(z_n / T)) averaged over the batch, the
     *  partner's logits z_m held constant (docs/sfr.md, "Class-wise term").
     *  Needs the label term; scaled by the factor of #SFR_PARAM_WARMUP and
     *  #SFR_PARAM_COOLDOWN. @since 0.2.0 */
    SFR_PARAM_CLASSWISE = 304,
    /** Real in [0.05, 100], default 4: temperature T of the class-wise term. @since 0.2.0 */
    SFR_PARAM_CLASSWISE_TEMPERATURE = 305,
    /** Real in [0, 1e6], default 0: weight lambda of the last-batch term
     *  (DLB): each sample whose id was also in the previous compute's batch
     *  learns from the prediction the net made for it there, lambda * w(t) *
     *  T^2 * KL(softmax(z'_n / T) || softmax(z_n / T)) averaged over the
     *  batch, the stored logits z'_n held constant (docs/sfr.md, "Last-batch
     *  term"). Needs the label term and sfr_reg_set_sample_ids() before each
     *  compute; the host makes consecutive batches share samples (DLB: the
     *  second half of one batch is the first half of the next). Scaled by
     *  the factor of #SFR_PARAM_WARMUP and #SFR_PARAM_COOLDOWN. @since 0.2.0 */
    SFR_PARAM_LAST_BATCH = 306,
    /** Real in [0.05, 100], default 3: temperature T of the last-batch term. @since 0.2.0 */
    SFR_PARAM_LAST_BATCH_TEMPERATURE = 307
} sfr_param;

/** Value of #SFR_PARAM_MATCH: entropic EMD between local features (default). @since 0.1.0 */
#define SFR_MATCH_EMD 0
/** Value of #SFR_PARAM_MATCH: cell-to-cell l2, needs equal student and teacher grids. @since 0.1.0 */
#define SFR_MATCH_L2 1
/** Value of #SFR_PARAM_NORM: each local feature divided by its rms (default). @since 0.1.0 */
#define SFR_NORM_RMS 0
/** Value of #SFR_PARAM_NORM: features used as they are. @since 0.1.0 */
#define SFR_NORM_NONE 1
/** Value of #SFR_PARAM_LS_SCHEDULE: eps(t) = ls_eps_end. @since 0.1.0 */
#define SFR_LS_CONSTANT 0
/** Value of #SFR_PARAM_LS_SCHEDULE: eps(t) linear from ls_eps_start to ls_eps_end (default). @since 0.1.0 */
#define SFR_LS_LINEAR 1
/** Value of #SFR_PARAM_LS_SCHEDULE: eps(t) on a half cosine from ls_eps_start to ls_eps_end. @since 0.1.0 */
#define SFR_LS_COSINE 2
/** Value of #SFR_PARAM_LS_SOURCE: smooth toward 1/K (default). @since 0.1.0 */
#define SFR_LS_UNIFORM 0
/** Value of #SFR_PARAM_LS_SOURCE: smooth toward softmax(z / ls_temperature) of the current logits. @since 0.1.0 */
#define SFR_LS_SELF 1
/** Value of #SFR_PARAM_LS_SOURCE: smooth toward the sample's previous prediction
 *  (needs sfr_reg_set_sample_ids() before each compute). @since 0.1.0 */
#define SFR_LS_PAST 2

/**
 * @brief Creates a regularizer with no pairs and every parameter at its default.
 *
 * @param[out] out Receives the regularizer, to release with sfr_reg_destroy().
 * @retval SFR_OK              *out holds the regularizer.
 * @retval SFR_ERR_INVALID_ARG out is NULL.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_create(sfr_reg **out);

/**
 * @brief Releases a regularizer and its workspace, not its taps.
 *
 * @param[in] reg The regularizer; NULL is a no-op.
 * @since 0.1.0
 */
SFR_API void sfr_reg_destroy(sfr_reg *reg);

/**
 * @brief Sets one option.
 *
 * @param[in,out] reg   The regularizer.
 * @param[in]     key   The option (see ::sfr_param for ranges and defaults).
 * @param[in]     value Its new value; a whole number for integer and enum keys.
 * @retval SFR_OK              The option has its new value.
 * @retval SFR_ERR_INVALID_ARG reg is NULL, key is unknown, or value is out of
 *                             range, not a whole number for an integer key,
 *                             NaN or an infinity. The option keeps its value.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer, or another thread
 *                             is in a call that changes it.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_set_param(sfr_reg *reg, sfr_param key, double value);

/**
 * @brief Reads one option.
 *
 * @param[in]  reg   The regularizer.
 * @param[in]  key   The option (see ::sfr_param).
 * @param[out] value Receives its value.
 * @retval SFR_OK              *value is written.
 * @retval SFR_ERR_INVALID_ARG reg or value is NULL, or key is unknown.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_get_param(const sfr_reg *reg, sfr_param key, double *value);

/**
 * @brief Adds the pair (student, teacher, beta).
 *
 * The regularizer keeps the tap pointers: the taps must stay alive while
 * the regularizer is used. Shapes of a net's tap whose net is not compiled
 * yet are checked by sfr_reg_compute(), which checks every pair again.
 *
 * @param[in,out] reg     The regularizer.
 * @param[in]     student The tap regularized toward the teacher; it needs a
 *                        gradient buffer (a net's tap always has one).
 * @param[in]     teacher The tap matched against; same N as the student, and
 *                        channel counts of which one divides the other.
 * @param[in]     beta    Weight of the pair's loss, in [0, 1e6] (finite and
 *                        >= 0 before 0.2.0).
 * @param[out]    index   NULL, or receives the pair's index (0, 1, ... in the
 *                        order added), used by sfr_reg_pair_loss() and
 *                        sfr_reg_pair_stats().
 * @retval SFR_OK              The pair is added.
 * @retval SFR_ERR_INVALID_ARG reg, student or teacher is NULL; beta is
 *                             outside [0, 1e6] or NaN; a wrapped student tap
 *                             has no gradient buffer; student and teacher
 *                             are the same tap (since 0.2.0).
 * @retval SFR_ERR_SHAPE       Both taps have shapes and their N differ, or
 *                             neither channel count is a multiple of the other.
 * @retval SFR_ERR_MISUSE      reg, student or teacher is not a live handle of
 *                             its kind, or another thread is in a call that
 *                             changes reg.
 * @retval SFR_ERR_NOMEM       The pair list could not grow.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_add_pair(sfr_reg *reg, sfr_tap *student, sfr_tap *teacher,
                                    double beta, int *index);

/**
 * @brief Sets the training progress that drives the label-smoothing schedule.
 *
 * @param[in,out] reg The regularizer.
 * @param[in]     t   Progress in [0, 1] (e.g. step / total steps); 0 at creation.
 * @retval SFR_OK              The progress is set.
 * @retval SFR_ERR_INVALID_ARG reg is NULL, or t is outside [0, 1] or NaN.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer, or another thread
 *                             is in a call that changes it.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_set_progress(sfr_reg *reg, double t);

/**
 * @brief Gives the dataset index of each sample of the next compute.
 *
 * Needed before each compute with logits when #SFR_PARAM_LS_SOURCE is
 * #SFR_LS_PAST or #SFR_PARAM_LAST_BATCH is above 0; the ids stay pending
 * until a successful compute with logits consumes them. On error the ids
 * set before stay pending.
 *
 * @param[in,out] reg The regularizer.
 * @param[in]     ids n dataset indices, each >= 0 (and below
 *                    #SFR_PARAM_LS_BANK_SIZE, checked by the compute); copied.
 * @param[in]     n   Number of ids: the batch size of the next compute.
 * @retval SFR_OK              The ids are pending.
 * @retval SFR_ERR_INVALID_ARG reg or ids is NULL, n < 1, or an id is negative.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer, or another thread
 *                             is in a call that changes it.
 * @retval SFR_ERR_NOMEM       The ids could not be stored.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_set_sample_ids(sfr_reg *reg, const int64_t *ids, int64_t n);

/**
 * @brief Computes the whole objective L = L_label + sum of pair losses
 * (since 0.2.0, plus the heads' terms and the class-wise term; docs/sfr.md,
 * "The whole objective").
 *
 * Writes dL/dlogits and adds the feature gradients into the taps' gradient
 * buffers (students, and teachers with #SFR_PARAM_TEACHER_GRAD), and the
 * heads' into their taps. Everything
 * is validated before anything is written: on error nothing is written, not
 * *loss, not dlogits, no tap gradient, no stored loss or statistic, no bank
 * entry, and pending ids stay pending. With logits == NULL and k == 0 there
 * is no label term, and labels and dlogits may be NULL. Later computes with
 * the same shapes allocate nothing.
 *
 * @param[in,out] reg     The regularizer.
 * @param[in]     logits  NULL (no label term, then k must be 0), or (n, k)
 *                        floats, row-major: the network's output.
 * @param[in]     labels  n class indices in [0, k); unused without logits.
 * @param[in]     n       Samples: with logits, >= 1 and equal to the taps' N;
 *                        unused without logits.
 * @param[in]     k       Classes; >= 1 with logits, 0 without.
 * @param[out]    dlogits (n, k) floats, overwritten with dL/dlogits; unused
 *                        without logits. May not overlap logits (refused
 *                        since 0.2.0).
 * @param[out]    loss    Receives L.
 * @retval SFR_OK              *loss, dlogits, tap gradients, stored losses and
 *                             statistics are written; pending ids are consumed.
 * @retval SFR_ERR_INVALID_ARG reg or loss is NULL; logits NULL with k != 0;
 *                             with logits: n or k < 1, labels or dlogits NULL,
 *                             a label outside [0, k), dlogits overlapping
 *                             logits; a student tap without
 *                             gradient buffer, or #SFR_PARAM_TEACHER_GRAD = 1
 *                             with a teacher without one; for #SFR_LS_PAST, a
 *                             pending id >= #SFR_PARAM_LS_BANK_SIZE; (since
 *                             0.2.0) heads without logits, #SFR_PARAM_DEBIAS
 *                             with #SFR_MATCH_L2.
 * @retval SFR_ERR_SHAPE       Taps whose N differ or differ from n, channel
 *                             counts of which neither divides the other, a grid
 *                             larger than its input, #SFR_MATCH_L2 with
 *                             different student and teacher grids; for
 *                             #SFR_LS_PAST, a pending id count other than n;
 *                             (since 0.2.0) a head tap that is not n x k x 1 x 1,
 *                             #SFR_PARAM_DEBIAS with unequal channel counts;
 *                             #SFR_PARAM_LAST_BATCH above 0 with a pending
 *                             id count other than n.
 * @retval SFR_ERR_NONFINITE   A NaN or infinity in a logit, a head's logit or a
 *                             feature map;
 *                             or, a safety net under the parameter bounds
 *                             (since 0.2.0), a loss that is not finite, or a
 *                             gradient of the logits (bounded by gamma / n) or
 *                             of the pooled features beyond float's range.
 * @retval SFR_ERR_STATE       A net's tap whose net is not compiled, or (since
 *                             0.2.0) has run no forward since it was compiled;
 *                             #SFR_LS_PAST or (since 0.2.0)
 *                             #SFR_PARAM_LAST_BATCH above 0 with logits and
 *                             no ids pending.
 * @retval SFR_ERR_MISUSE      reg or a pair's tap is not a live handle, or
 *                             another thread is in a call that changes reg.
 * @retval SFR_ERR_NOMEM       The workspace, the #SFR_LS_PAST bank or the
 *                             last-batch store could not be allocated.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_compute(sfr_reg *reg, const float *logits, const int32_t *labels,
                                   int64_t n, int64_t k, float *dlogits, double *loss);

/**
 * @brief The last successful compute's loss of one pair, beta included.
 *
 * @param[in]  reg   The regularizer.
 * @param[in]  index The pair's index, in [0, number of pairs).
 * @param[out] value Receives the loss (0 before any compute reached the pair).
 * @retval SFR_OK              *value is written.
 * @retval SFR_ERR_INVALID_ARG reg or value is NULL, or index is out of range.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_pair_loss(const sfr_reg *reg, int index, double *value);

/**
 * @brief The last successful compute's label loss, gamma included.
 *
 * @param[in]  reg   The regularizer.
 * @param[out] value Receives the loss (0 before any compute, and after a
 *                   compute without logits).
 * @retval SFR_OK              *value is written.
 * @retval SFR_ERR_INVALID_ARG reg or value is NULL.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_label_loss(const sfr_reg *reg, double *value);

/**
 * @brief The last successful compute's class-wise loss (#SFR_PARAM_CLASSWISE).
 *
 * @param[in]  reg   The regularizer.
 * @param[out] value Receives the loss, its weight and the factor of
 *                   #SFR_PARAM_WARMUP and #SFR_PARAM_COOLDOWN included (0
 *                   before any compute, after a compute without logits, and
 *                   while the weight is 0).
 * @retval SFR_OK              *value is written.
 * @retval SFR_ERR_INVALID_ARG reg or value is NULL.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_classwise_loss(const sfr_reg *reg, double *value);

/**
 * @brief The last successful compute's last-batch loss (#SFR_PARAM_LAST_BATCH).
 *
 * @param[in]  reg   The regularizer.
 * @param[out] value Receives the loss, its weight and the factor of
 *                   #SFR_PARAM_WARMUP and #SFR_PARAM_COOLDOWN included (0
 *                   before any compute, after a compute without logits,
 *                   while the weight is 0, and when no sample of the batch
 *                   was in the previous one).
 * @retval SFR_OK              *value is written.
 * @retval SFR_ERR_INVALID_ARG reg or value is NULL.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_last_batch_loss(const sfr_reg *reg, double *value);

/**
 * @brief Sinkhorn statistics of one pair over the last successful compute.
 *
 * Both are maxima over the compute's samples, so a host can tell when
 * #SFR_PARAM_MAX_ITER is too small for #SFR_PARAM_TOL.
 *
 * @param[in]  reg            The regularizer.
 * @param[in]  index          The pair's index, in [0, number of pairs).
 * @param[out] iterations     NULL, or receives the largest number of Sinkhorn
 *                            iterations used (0 for #SFR_MATCH_L2 and before
 *                            any compute).
 * @param[out] marginal_error NULL, or receives the largest final row-marginal
 *                            error (0 for #SFR_MATCH_L2 and before any compute).
 * @retval SFR_OK              The non-NULL outputs are written.
 * @retval SFR_ERR_INVALID_ARG reg is NULL, or index is out of range.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_reg_pair_stats(const sfr_reg *reg, int index, int *iterations,
                                      double *marginal_error);

/**
 * @brief Adds a self-distillation head: an auxiliary classifier's output.
 *
 * A head is a tap of shape (N, K, 1, 1), typically a side branch of the
 * host's net that ends in a linear layer. Each compute with logits adds to
 * the objective, for every head h with logits z^h (docs/sfr.md, "Heads"):
 *
 *     w(t) * ( ce_weight * CE(z^h, labels)
 *              + kl_weight * T^2 * KL(softmax(z / T) || softmax(z^h / T)) )
 *
 * averaged over the batch, where z are the compute's logits (held constant:
 * the deepest classifier teaches the head), T is
 * #SFR_PARAM_HEAD_TEMPERATURE and w(t) the factor of #SFR_PARAM_WARMUP and
 * #SFR_PARAM_COOLDOWN. The gradient is added to the head tap's gradient
 * buffer. With #SFR_PARAM_HEAD_MUTUAL the deepest classifier also learns
 * from the head, whose logits are then held constant. The regularizer keeps the tap pointer: the tap must stay alive
 * while the regularizer is used. Its shape is checked by each compute.
 *
 * @param[in,out] reg       The regularizer.
 * @param[in]     head      The head's tap; it needs a gradient buffer (a
 *                          net's tap always has one).
 * @param[in]     ce_weight Weight of the head's cross-entropy with the
 *                          labels, finite, in [0, 1e6].
 * @param[in]     kl_weight Weight of the head's KL from the logits,
 *                          finite, in [0, 1e6].
 * @param[out]    index     NULL, or receives the head's index (0, 1, ... in
 *                          the order added), for sfr_reg_head_loss().
 * @retval SFR_OK              The head is added.
 * @retval SFR_ERR_INVALID_ARG reg or head is NULL; a weight is outside
 *                             [0, 1e6] or not finite; a wrapped tap has no
 *                             gradient buffer.
 * @retval SFR_ERR_SHAPE       The tap has a shape whose H or W is not 1.
 * @retval SFR_ERR_MISUSE      reg or head is not a live handle of its kind.
 * @retval SFR_ERR_NOMEM       The head list could not grow.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_add_head(sfr_reg *reg, sfr_tap *head, double ce_weight,
                                    double kl_weight, int *index);

/**
 * @brief The two parts of a head's loss in the last successful compute.
 *
 * Each part includes its weight and the factor of #SFR_PARAM_WARMUP and
 * #SFR_PARAM_COOLDOWN; 0 before the first successful compute with logits,
 * or for a head added after it.
 *
 * @param[in]  reg   The regularizer.
 * @param[in]  index The head's index.
 * @param[out] ce    NULL, or receives the weighted cross-entropy part.
 * @param[out] kl    NULL, or receives the weighted KL part (T^2 included):
 *                   with #SFR_PARAM_HEAD_MUTUAL, the sum of both directions.
 * @retval SFR_OK              The parts are written.
 * @retval SFR_ERR_INVALID_ARG reg is NULL, or index is not a head's.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_head_loss(const sfr_reg *reg, int index, double *ce, double *kl);

/**
 * @brief How many of a pair's Sinkhorn solves in the last compute stopped
 * at #SFR_PARAM_MAX_ITER without reaching #SFR_PARAM_TOL.
 *
 * A compute solves one transport per sample and pair (two more per sample
 * with #SFR_PARAM_DEBIAS; each counts). 0 for #SFR_MATCH_L2 and before the
 * first successful compute.
 *
 * @param[in]  reg    The regularizer.
 * @param[in]  index  The pair's index.
 * @param[out] solves NULL, or receives the number of solves of that compute.
 * @param[out] capped NULL, or receives how many of them stopped at max_iter.
 * @retval SFR_OK              The counts are written.
 * @retval SFR_ERR_INVALID_ARG reg is NULL, or index is not a pair's.
 * @retval SFR_ERR_MISUSE      reg is not a live regularizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_pair_solves(const sfr_reg *reg, int index, int64_t *solves,
                                       int64_t *capped);

/**
 * @brief Computes the whole objective on the output of a net.
 *
 * sfr_reg_compute() with logits, n and k taken from sfr_net_output(): a
 * host of an ::sfr_net cannot pass a class count or batch size that does
 * not match the logits. Everything sfr_reg_compute() documents holds, and
 * its errors are reported under its name, besides those below.
 *
 * @param[in,out] reg     The regularizer.
 * @param[in]     net     The net whose last forward gave the logits (N, K).
 * @param[in]     labels  N class indices in [0, K).
 * @param[out]    dlogits (N, K) floats, overwritten with dL/dlogits: what
 *                        sfr_net_backward() takes. May not overlap the logits.
 * @param[out]    loss    Receives L.
 * @retval SFR_OK              As sfr_reg_compute().
 * @retval SFR_ERR_INVALID_ARG net is NULL, or as sfr_reg_compute().
 * @retval SFR_ERR_STATE       The net has run no forward since it was
 *                             compiled, or as sfr_reg_compute().
 * @retval SFR_ERR_MISUSE      net is not a live net, or as sfr_reg_compute().
 * @since 0.2.0
 */
SFR_API sfr_status sfr_reg_compute_net(sfr_reg *reg, sfr_net *net, const int32_t *labels,
                                       float *dlogits, double *loss);

#ifdef __cplusplus
}
#endif

#endif /* SFR_REG_H */
