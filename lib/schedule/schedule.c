/* The learning-rate schedule helper: closed forms of a linear warm-up
 * followed by a constant, cosine or multi-step rate (sfr/schedule.h). */
#include <math.h>
#include <string.h>

#include "../common/common.h"
#include "sfr/schedule.h"

#define MAX_MILESTONES 64

struct sfr_lr_schedule {
    uint32_t magic;          /* SFRI_MAGIC_SCHEDULE while live */
    int shape;               /* sfr_lr_shape */
    double base_lr;          /* > 0 */
    int64_t total;           /* >= 1 */
    int64_t warmup;          /* in [0, total] */
    double start_factor;     /* in (0, 1] */
    double min_lr;           /* in [0, base_lr] */
    double gamma;            /* in (0, 1] */
    int n_milestones;
    int64_t milestones[MAX_MILESTONES]; /* increasing, >= 1 */
};

SFR_API sfr_status sfr_lr_schedule_create(sfr_lr_schedule **out, int shape, double base_lr,
                                          int64_t total_steps)
{
    static const char *const fn = "sfr_lr_schedule_create";
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    if (shape != SFR_LR_CONSTANT && shape != SFR_LR_COSINE && shape != SFR_LR_STEP)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn,
                         "shape is %d: it must be SFR_LR_CONSTANT, SFR_LR_COSINE or SFR_LR_STEP",
                         shape);
    if (!(isfinite(base_lr) && base_lr > 0))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "base_lr is %g: it must be finite and > 0",
                         base_lr);
    if (total_steps < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "total_steps is %lld: it must be >= 1",
                         (long long)total_steps);
    sfr_lr_schedule *s = sfri_calloc(1, sizeof *s);
    if (s == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    s->magic = SFRI_MAGIC_SCHEDULE;
    s->shape = shape;
    s->base_lr = base_lr;
    s->total = total_steps;
    s->start_factor = 1.0;
    s->gamma = 1.0;
    *out = s;
    return SFR_OK;
}

SFR_API sfr_status sfr_lr_schedule_set_warmup(sfr_lr_schedule *sched, int64_t steps,
                                              double start_factor)
{
    static const char *const fn = "sfr_lr_schedule_set_warmup";
    sfr_status st = sfri_check_handle(sched, SFRI_MAGIC_SCHEDULE, fn, "sched");
    if (st != SFR_OK)
        return st;
    if (steps < 0 || steps > sched->total)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "steps is %lld: it must be in [0, %lld]",
                         (long long)steps, (long long)sched->total);
    if (!(start_factor > 0 && start_factor <= 1))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "start_factor is %g: it must be in (0, 1]",
                         start_factor);
    sched->warmup = steps;
    sched->start_factor = start_factor;
    return SFR_OK;
}

SFR_API sfr_status sfr_lr_schedule_set_min_lr(sfr_lr_schedule *sched, double min_lr)
{
    static const char *const fn = "sfr_lr_schedule_set_min_lr";
    sfr_status st = sfri_check_handle(sched, SFRI_MAGIC_SCHEDULE, fn, "sched");
    if (st != SFR_OK)
        return st;
    if (!(min_lr >= 0 && min_lr <= sched->base_lr))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "min_lr is %g: it must be in [0, %g]", min_lr,
                         sched->base_lr);
    sched->min_lr = min_lr;
    return SFR_OK;
}

SFR_API sfr_status sfr_lr_schedule_set_milestones(sfr_lr_schedule *sched,
                                                  const int64_t *milestones, int count,
                                                  double gamma)
{
    static const char *const fn = "sfr_lr_schedule_set_milestones";
    sfr_status st = sfri_check_handle(sched, SFRI_MAGIC_SCHEDULE, fn, "sched");
    if (st != SFR_OK)
        return st;
    if (count < 0 || count > MAX_MILESTONES)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "count is %d: it must be in [0, %d]", count,
                         MAX_MILESTONES);
    if (count > 0 && milestones == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "milestones is NULL");
    for (int i = 0; i < count; i++) {
        int64_t floor = i == 0 ? 1 : milestones[i - 1] + 1;
        if (milestones[i] < floor)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn,
                             "milestones[%d] is %lld: each must be >= 1 and larger than the "
                             "one before",
                             i, (long long)milestones[i]);
    }
    if (!(gamma > 0 && gamma <= 1))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "gamma is %g: it must be in (0, 1]", gamma);
    if (count > 0)
        memcpy(sched->milestones, milestones, (size_t)count * sizeof *milestones);
    sched->n_milestones = count;
    sched->gamma = gamma;
    return SFR_OK;
}

/* The rate after the warm-up, at step (>= warmup). */
static double after_warmup(const sfr_lr_schedule *s, int64_t step)
{
    switch (s->shape) {
    case SFR_LR_COSINE: {
        int64_t span = s->total - s->warmup, done = step - s->warmup;
        if (span == 0 || done >= span)
            return s->min_lr;
        return s->min_lr +
               (s->base_lr - s->min_lr) * (1.0 + cos(M_PI * (double)done / (double)span)) / 2.0;
    }
    case SFR_LR_STEP: {
        double lr = s->base_lr;
        for (int i = 0; i < s->n_milestones && s->milestones[i] <= step; i++)
            lr *= s->gamma;
        return lr;
    }
    default:
        return s->base_lr;
    }
}

SFR_API sfr_status sfr_lr_schedule_lr(const sfr_lr_schedule *sched, int64_t step, double *lr)
{
    static const char *const fn = "sfr_lr_schedule_lr";
    sfr_status st = sfri_check_handle(sched, SFRI_MAGIC_SCHEDULE, fn, "sched");
    if (st != SFR_OK)
        return st;
    if (lr == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "lr is NULL");
    if (step < 0)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "step is %lld: it must be >= 0",
                         (long long)step);
    if (step < sched->warmup) {
        double f = sched->start_factor;
        *lr = sched->base_lr * (f + (1.0 - f) * (double)step / (double)sched->warmup);
    } else {
        *lr = after_warmup(sched, step < sched->total ? step : sched->total);
    }
    return SFR_OK;
}

SFR_API void sfr_lr_schedule_destroy(sfr_lr_schedule *sched)
{
    if (sched == NULL || sched->magic != SFRI_MAGIC_SCHEDULE)
        return;
    sched->magic = SFRI_MAGIC_DEAD;
    sfri_free(sched);
}
