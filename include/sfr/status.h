/**
 * @file sfr/status.h
 * @brief Status codes, error messages and the thread count.
 *
 * Every function that can fail returns an ::sfr_status. ::SFR_OK is 0 and
 * every error is negative. The values are part of the ABI: they are never
 * changed or reused, and new codes are only ever appended.
 *
 * On failure a function also records a message for the calling thread, read
 * with sfr_last_error(), and writes none of its outputs.
 *
 * @since 0.1.0
 */
#ifndef SFR_STATUS_H
#define SFR_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Result of every libsfr function that can fail.
 *
 * Each function's documentation lists the codes it returns and when;
 * docs/integration.md says what a host should do with each.
 *
 * @since 0.1.0
 */
typedef enum sfr_status {
    /** Success. */
    SFR_OK = 0,
    /** A NULL pointer, a value out of range, a bad label, id or key. */
    SFR_ERR_INVALID_ARG = -1,
    /** Dimensions that do not fit together (or a tensor too large to address). */
    SFR_ERR_SHAPE = -2,
    /** A NaN or an infinity in an input tensor. */
    SFR_ERR_NONFINITE = -3,
    /** An allocation failed (in libsfr or in oneDNN). */
    SFR_ERR_NOMEM = -4,
    /** A call out of order, e.g. a forward before compile. */
    SFR_ERR_STATE = -5,
    /** A file could not be read or written. */
    SFR_ERR_IO = -6,
    /** A corrupt, truncated or incompatible file. */
    SFR_ERR_FORMAT = -7,
    /** oneDNN failed; the message names the oneDNN step and status. */
    SFR_ERR_BACKEND = -8,
    /** A valid request this build cannot serve (no 0.1.0 function returns it yet). */
    SFR_ERR_UNSUPPORTED = -9,
    /** A pointer that is not a live handle of the expected kind, where detectable
     *  (e.g. a destroyed handle whose memory has not been reused). */
    SFR_ERR_MISUSE = -10
} sfr_status;

/**
 * @brief A short static description of a status code.
 *
 * For example "invalid argument" for ::SFR_ERR_INVALID_ARG. Thread-safe;
 * never fails. The exact wording is not part of the ABI.
 *
 * @param[in] code Any value; codes this version does not know give
 *                 "unknown status".
 * @return A static string, never NULL; do not free it.
 * @since 0.1.0
 */
SFR_API const char *sfr_status_string(sfr_status code);

/**
 * @brief The message of the calling thread's most recent failure.
 *
 * The message names the function and the problem, with values
 * ("sfr_reg_add_pair: teacher has 96 channels, student 64: one must divide
 * the other"). Each thread has its own message; it is bounded in length
 * (longer messages are truncated), replaced by the next failure on the same
 * thread and left as is by successful calls. The exact wording is not part
 * of the ABI.
 *
 * @return The message, never NULL: "" before the first failure. Owned by
 *         libsfr; the text stays valid until the thread's next libsfr call.
 * @since 0.1.0
 */
SFR_API const char *sfr_last_error(void);

/**
 * @brief Sets the number of OpenMP threads for work started from the calling thread.
 *
 * libsfr and oneDNN share the same OpenMP runtime, so the count governs
 * both. It affects only the calling thread, as omp_set_num_threads() does
 * (docs/threading.md).
 *
 * @param[in] n Thread count: n > 0 sets it; 0 restores the default
 *              (OMP_NUM_THREADS when set to a positive integer, otherwise
 *              the number of processors).
 * @retval SFR_OK               The count is set.
 * @retval SFR_ERR_INVALID_ARG  n < 0; the count is unchanged.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_set_num_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* SFR_STATUS_H */
