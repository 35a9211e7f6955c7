/* Status strings and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static _Thread_local char last_error[SFRI_ERROR_CAP];

SFR_API const char *sfr_status_string(sfr_status code)
{
    switch (code) {
    case SFR_OK: return "success";
    case SFR_ERR_INVALID_ARG: return "invalid argument";
    case SFR_ERR_SHAPE: return "shape mismatch";
    case SFR_ERR_NONFINITE: return "non-finite value";
    case SFR_ERR_NOMEM: return "out of memory";
    case SFR_ERR_STATE: return "call out of order";
    case SFR_ERR_IO: return "input/output error";
    case SFR_ERR_FORMAT: return "corrupt or incompatible file";
    case SFR_ERR_BACKEND: return "backend (oneDNN) failure";
    case SFR_ERR_UNSUPPORTED: return "unsupported";
    case SFR_ERR_MISUSE: return "not a live handle of that kind";
    }
    return "unknown status";
}

SFR_API const char *sfr_last_error(void)
{
    return last_error;
}

sfr_status sfri_fail(sfr_status code, const char *func, const char *fmt, ...)
{
    int used = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (used < 0 || (size_t)used >= sizeof last_error)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + used, sizeof last_error - (size_t)used, fmt, ap);
    va_end(ap);
    return code;
}

sfr_status sfri_fail_context(sfr_status code, const char *func, const char *fmt, ...)
{
    size_t func_len = strlen(func);
    const char *detail = last_error;
    if (strncmp(last_error, func, func_len) == 0 && strncmp(last_error + func_len, ": ", 2) == 0)
        detail += func_len + 2;
    char saved[SFRI_ERROR_CAP];
    snprintf(saved, sizeof saved, "%s", detail);
    int used = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (used < 0 || (size_t)used >= sizeof last_error)
        return code;
    va_list ap;
    va_start(ap, fmt);
    int added = vsnprintf(last_error + used, sizeof last_error - (size_t)used, fmt, ap);
    va_end(ap);
    if (added < 0 || (size_t)(used + added) >= sizeof last_error)
        return code;
    snprintf(last_error + used + added, sizeof last_error - (size_t)(used + added), "%s", saved);
    return code;
}

sfr_status sfri_check_handle(const void *handle, uint32_t magic, const char *func,
                             const char *what)
{
    if (handle == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is NULL", what);
    uint32_t seen;
    memcpy(&seen, handle, sizeof seen);
    if (seen != magic)
        return sfri_fail(SFR_ERR_MISUSE, func, "%s is not a live handle of its kind%s", what,
                         seen == SFRI_MAGIC_DEAD ? " (already destroyed)" : "");
    return SFR_OK;
}
