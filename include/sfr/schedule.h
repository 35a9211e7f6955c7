/**
 * @file sfr/schedule.h
 * @brief A learning-rate schedule: linear warm-up, then constant, cosine or
 *        step decay, as a function of the step number.
 *
 * A helper that hosts may use or ignore: it only computes numbers, which the
 * host hands to sfr_sgd_set_lr() or sfr_adamw_set_lr() (or to its own
 * optimizer). With base the base rate, T the total steps, W the warm-up
 * steps, f the warm-up's start factor and s = step - W, T' = T - W:
 *
 *     step < W:                 lr = base * (f + (1 - f) * step / W)
 *     then SFR_LR_CONSTANT:     lr = base
 *          SFR_LR_COSINE:       lr = min + (base - min) * (1 + cos(pi * min(s, T') / T')) / 2
 *          SFR_LR_STEP:         lr = base * gamma^(milestones <= step)
 *
 * These are the closed forms of PyTorch's LinearLR (start_factor f,
 * total_iters W) followed by CosineAnnealingLR (T_max T', eta_min min) or
 * MultiStepLR (milestones counted from step 0, gamma). Past the end (step >=
 * T) the rate stays where it ended.
 *
 * @since 0.2.0
 */
#ifndef SFR_SCHEDULE_H
#define SFR_SCHEDULE_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of a learning-rate schedule.
 * @since 0.2.0
 */
typedef struct sfr_lr_schedule sfr_lr_schedule;

/**
 * @brief The shape after the warm-up.
 * @since 0.2.0
 */
typedef enum sfr_lr_shape {
    SFR_LR_CONSTANT = 0, /**< the base rate */
    SFR_LR_COSINE = 1,   /**< half a cosine from the base rate down to the minimum */
    SFR_LR_STEP = 2      /**< the base rate times gamma at each milestone */
} sfr_lr_shape;

/**
 * @brief Creates a schedule with no warm-up, a cosine minimum of 0 and no
 *        milestones.
 *
 * @param[out] out         Receives the schedule, to release with
 *                         sfr_lr_schedule_destroy().
 * @param[in]  shape       One of ::sfr_lr_shape.
 * @param[in]  base_lr     The base rate, finite and > 0.
 * @param[in]  total_steps The steps of the whole training, >= 1.
 * @retval SFR_OK              *out holds the schedule.
 * @retval SFR_ERR_INVALID_ARG out is NULL, or a value is out of range.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_lr_schedule_create(sfr_lr_schedule **out, int shape, double base_lr,
                                          int64_t total_steps);

/**
 * @brief Sets the linear warm-up.
 *
 * @param[in,out] sched        The schedule.
 * @param[in]     steps        Warm-up steps, in [0, total_steps] (0: none).
 * @param[in]     start_factor The rate at step 0 as a fraction of the base,
 *                             in (0, 1] (PyTorch's LinearLR default is 1/3).
 * @retval SFR_OK              The warm-up is set.
 * @retval SFR_ERR_INVALID_ARG sched is NULL, or a value is out of range;
 *                             the schedule is unchanged.
 * @retval SFR_ERR_MISUSE      sched is not a live schedule.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_lr_schedule_set_warmup(sfr_lr_schedule *sched, int64_t steps,
                                              double start_factor);

/**
 * @brief Sets the cosine shape's final rate.
 *
 * @param[in,out] sched  The schedule.
 * @param[in]     min_lr In [0, base_lr]; used by ::SFR_LR_COSINE only.
 * @retval SFR_OK              The minimum is set.
 * @retval SFR_ERR_INVALID_ARG sched is NULL, or min_lr is out of range.
 * @retval SFR_ERR_MISUSE      sched is not a live schedule.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_lr_schedule_set_min_lr(sfr_lr_schedule *sched, double min_lr);

/**
 * @brief Sets the step shape's milestones and factor.
 *
 * @param[in,out] sched      The schedule.
 * @param[in]     milestones count step numbers, each >= 1 and larger than
 *                           the one before (NULL when count is 0); the
 *                           schedule keeps a copy.
 * @param[in]     count      Number of milestones, in [0, 64].
 * @param[in]     gamma      The factor at each milestone, in (0, 1].
 * @retval SFR_OK              The milestones are set.
 * @retval SFR_ERR_INVALID_ARG sched is NULL, or a value is out of range;
 *                             the schedule is unchanged.
 * @retval SFR_ERR_MISUSE      sched is not a live schedule.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_lr_schedule_set_milestones(sfr_lr_schedule *sched,
                                                  const int64_t *milestones, int count,
                                                  double gamma);

/**
 * @brief The learning rate at a step.
 *
 * @param[in]  sched The schedule.
 * @param[in]  step  The step number, >= 0 (0 is the first step).
 * @param[out] lr    Receives the rate (> 0 unless a cosine minimum of 0 is
 *                   reached at the last step).
 * @retval SFR_OK              *lr holds the rate.
 * @retval SFR_ERR_INVALID_ARG sched or lr is NULL, or step < 0.
 * @retval SFR_ERR_MISUSE      sched is not a live schedule.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_lr_schedule_lr(const sfr_lr_schedule *sched, int64_t step, double *lr);

/**
 * @brief Releases a schedule.
 *
 * @param[in] sched The schedule; NULL is a no-op.
 * @since 0.2.0
 */
SFR_API void sfr_lr_schedule_destroy(sfr_lr_schedule *sched);

#ifdef __cplusplus
}
#endif

#endif /* SFR_SCHEDULE_H */
