/* The parameter table of SFR.md section 10: defaults, ranges, set and get. */
#include <math.h>
#include <stdint.h>

#include "common/common.h"
#include "reg_internal.h"

enum kind { REAL, INTEGER };

struct spec {
    sfr_param key;
    const char *name;
    enum kind kind;
    double lo, hi;      /* inclusive bounds, except lo when lo_open */
    int lo_open;
    double def;
};

#define INT_MAX_KEY 2147483647.0

/* Indexed by enum sfri_param_index. Enum keys are integers 0 .. count-1. */
static const struct spec specs[SFRI_P_COUNT] = {
    [SFRI_P_SINKHORN_EPS] = {SFR_PARAM_SINKHORN_EPS, "sinkhorn_eps", REAL, 0, INFINITY, 1, 0.2},
    [SFRI_P_MAX_ITER] = {SFR_PARAM_MAX_ITER, "max_iter", INTEGER, 1, 100000, 0, 100},
    [SFRI_P_TOL] = {SFR_PARAM_TOL, "tol", REAL, 0, INFINITY, 0, 1e-4},
    [SFRI_P_MATCH] = {SFR_PARAM_MATCH, "match", INTEGER, 0, 1, 0, SFR_MATCH_EMD},
    [SFRI_P_NORM] = {SFR_PARAM_NORM, "norm", INTEGER, 0, 1, 0, SFR_NORM_RMS},
    [SFRI_P_DELTA] = {SFR_PARAM_DELTA, "delta", REAL, 0, INFINITY, 1, 1e-6},
    [SFRI_P_TEACHER_GRAD] = {SFR_PARAM_TEACHER_GRAD, "teacher_grad", INTEGER, 0, 1, 0, 0},
    [SFRI_P_GRID_H] = {SFR_PARAM_GRID_H, "grid_h", INTEGER, 0, INT_MAX_KEY, 0, 0},
    [SFRI_P_GRID_W] = {SFR_PARAM_GRID_W, "grid_w", INTEGER, 0, INT_MAX_KEY, 0, 0},
    [SFRI_P_TEACHER_GRID_H] = {SFR_PARAM_TEACHER_GRID_H, "teacher_grid_h", INTEGER, 0,
                               INT_MAX_KEY, 0, 0},
    [SFRI_P_TEACHER_GRID_W] = {SFR_PARAM_TEACHER_GRID_W, "teacher_grid_w", INTEGER, 0,
                               INT_MAX_KEY, 0, 0},
    [SFRI_P_LS_SCHEDULE] = {SFR_PARAM_LS_SCHEDULE, "ls_schedule", INTEGER, 0, 2, 0,
                            SFR_LS_LINEAR},
    [SFRI_P_LS_EPS_START] = {SFR_PARAM_LS_EPS_START, "ls_eps_start", REAL, 0, 1, 0, 0},
    [SFRI_P_LS_EPS_END] = {SFR_PARAM_LS_EPS_END, "ls_eps_end", REAL, 0, 1, 0, 0.1},
    [SFRI_P_LS_SOURCE] = {SFR_PARAM_LS_SOURCE, "ls_source", INTEGER, 0, 2, 0, SFR_LS_UNIFORM},
    [SFRI_P_LS_TEMPERATURE] = {SFR_PARAM_LS_TEMPERATURE, "ls_temperature", REAL, 0, INFINITY, 1,
                               4},
    [SFRI_P_LS_BANK_SIZE] = {SFR_PARAM_LS_BANK_SIZE, "ls_bank_size", INTEGER, 0, INT_MAX_KEY, 0,
                             0},
    [SFRI_P_GAMMA] = {SFR_PARAM_GAMMA, "gamma", REAL, 0, INFINITY, 0, 1},
    [SFRI_P_EPS_RELATIVE] = {SFR_PARAM_EPS_RELATIVE, "eps_relative", INTEGER, 0, 1, 0, 1},
    [SFRI_P_EPS_SCALING] = {SFR_PARAM_EPS_SCALING, "eps_scaling", REAL, 0, 0.99, 0, 0},
    [SFRI_P_DEBIAS] = {SFR_PARAM_DEBIAS, "debias", INTEGER, 0, 1, 0, 0},
    [SFRI_P_WARMUP] = {SFR_PARAM_WARMUP, "warmup", REAL, 0, 1, 0, 0},
    [SFRI_P_HEAD_TEMPERATURE] = {SFR_PARAM_HEAD_TEMPERATURE, "head_temperature", REAL, 0.05, 100,
                                 0, 3},
    [SFRI_P_COOLDOWN] = {SFR_PARAM_COOLDOWN, "cooldown", REAL, 0, 1, 0, 0},
    [SFRI_P_HEAD_MUTUAL] = {SFR_PARAM_HEAD_MUTUAL, "head_mutual", REAL, 0, 1e6, 0, 0},
    [SFRI_P_CLASSWISE] = {SFR_PARAM_CLASSWISE, "classwise", REAL, 0, 1e6, 0, 0},
    [SFRI_P_CLASSWISE_TEMPERATURE] = {SFR_PARAM_CLASSWISE_TEMPERATURE, "classwise_temperature",
                                      REAL, 0.05, 100, 0, 4},
    [SFRI_P_LAST_BATCH] = {SFR_PARAM_LAST_BATCH, "last_batch", REAL, 0, 1e6, 0, 0},
    [SFRI_P_LAST_BATCH_TEMPERATURE] = {SFR_PARAM_LAST_BATCH_TEMPERATURE,
                                       "last_batch_temperature", REAL, 0.05, 100, 0, 3},
};

void sfri_params_defaults(double *values)
{
    for (int i = 0; i < SFRI_P_COUNT; i++)
        values[i] = specs[i].def;
}

sfr_param sfri_params_key(int index)
{
    return specs[index].key;
}

/* The dense index of a public key, -1 if unknown. */
static int find(sfr_param key)
{
    for (int i = 0; i < SFRI_P_COUNT; i++)
        if (specs[i].key == key)
            return i;
    return -1;
}

sfr_status sfri_params_check(sfr_param key, double value, int *index, const char *func)
{
    int found = find(key);
    if (found < 0)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "unknown parameter key %d", (int)key);
    const struct spec *s = &specs[found];
    if (!isfinite(value))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s = %g: the value must be finite", s->name,
                         value);
    if (s->kind == INTEGER && value != floor(value))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s = %.17g: the value must be a whole number",
                         s->name, value);
    if (value < s->lo || (s->lo_open && value == s->lo) || value > s->hi)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s = %.17g is outside %c%g, %g]", s->name,
                         value, s->lo_open ? '(' : '[', s->lo, s->hi);
    sfr_status st = sfri_bounds_check(key, value, func);
    if (st != SFR_OK)
        return st;
    *index = found;
    return SFR_OK;
}

/* sfr_reg_set_param with the busy flag held. */
static sfr_status set_param(sfr_reg *reg, sfr_param key, double value)
{
    static const char *const fn = "sfr_reg_set_param";
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    int i;
    st = sfri_params_check(key, value, &i, fn);
    if (st != SFR_OK)
        return st;
    /* A bank of another size holds other samples' slots: every sample is unseen again. */
    if (i == SFRI_P_LS_BANK_SIZE && value != reg->param[i]) {
        sfri_free(reg->bank);
        sfri_free(reg->bank_seen);
        reg->bank = NULL;
        reg->bank_seen = NULL;
        reg->bank_k = 0;
    }
    reg->param[i] = value;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_set_param(sfr_reg *reg, sfr_param key, double value)
{
    sfr_status st = sfri_reg_enter(reg, "sfr_reg_set_param");
    return st != SFR_OK ? st : sfri_reg_leave(reg, set_param(reg, key, value));
}

SFR_API sfr_status sfr_reg_get_param(const sfr_reg *reg, sfr_param key, double *value)
{
    static const char *const fn = "sfr_reg_get_param";
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    int found = find(key);
    if (found < 0)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "unknown parameter key %d", (int)key);
    if (value == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "value is NULL");
    *value = reg->param[found];
    return SFR_OK;
}
