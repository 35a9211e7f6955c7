/*
 * libsfr: status codes, error messages and threading.
 *
 * Every function that can fail returns an sfr_status. SFR_OK is 0 and every
 * error is negative. The values are part of the ABI: they are never changed
 * or reused, and new codes are only ever appended.
 *
 * On failure a function also records a message for the calling thread, read
 * with sfr_last_error(), and writes none of its outputs.
 */
#ifndef SFR_STATUS_H
#define SFR_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sfr_status {
    SFR_OK = 0,                /* success */
    SFR_ERR_INVALID_ARG = -1,  /* NULL pointer, value out of range, bad label or id */
    SFR_ERR_SHAPE = -2,        /* dimensions that do not fit */
    SFR_ERR_NONFINITE = -3,    /* NaN or infinity in an input */
    SFR_ERR_NOMEM = -4,        /* an allocation failed */
    SFR_ERR_STATE = -5,        /* call out of order, e.g. forward before compile */
    SFR_ERR_IO = -6,           /* a file could not be read or written */
    SFR_ERR_FORMAT = -7,       /* corrupt or incompatible file */
    SFR_ERR_BACKEND = -8,      /* oneDNN failed */
    SFR_ERR_UNSUPPORTED = -9,  /* valid request this build cannot serve */
    SFR_ERR_MISUSE = -10       /* not a live handle of that kind, where detectable */
} sfr_status;

/*
 * A short static description of a status code ("invalid argument", ...).
 * Unknown codes give "unknown status". Never NULL; do not free.
 * Thread-safe. Since 0.1.0.
 */
SFR_API const char *sfr_status_string(sfr_status code);

/*
 * The message of the calling thread's most recent failure, naming the
 * function and the problem ("sfr_reg_add_pair: teacher has 96 channels,
 * student 64: one must divide the other"). Each thread has its own message;
 * it is bounded in length (longer messages are truncated), replaced by the
 * next failure on the same thread and left as is by successful calls. Never
 * NULL: "" before the first failure. The pointer stays valid until the
 * thread's next libsfr call. Since 0.1.0.
 */
SFR_API const char *sfr_last_error(void);

/*
 * Number of OpenMP threads libsfr (and oneDNN, which shares the same OpenMP
 * runtime) uses for work started from the calling thread. n > 0 sets the
 * count; n == 0 restores the default (OMP_NUM_THREADS when set, otherwise the
 * number of processors). n < 0: SFR_ERR_INVALID_ARG. Affects only the calling
 * thread, as omp_set_num_threads does. Since 0.1.0.
 */
SFR_API sfr_status sfr_set_num_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* SFR_STATUS_H */
