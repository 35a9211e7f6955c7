/*
 * Whole-file reads and crash-safe whole-file writes, for the checkpoint
 * code. Failures are reported with sfri_fail for the caller's func and are
 * SFR_ERR_IO (or SFR_ERR_NOMEM for the read buffer and the file names).
 */
#ifndef SFR_LIB_FILE_IO_H
#define SFR_LIB_FILE_IO_H

#include <stddef.h>

#include "sfr/status.h"

/*
 * Writes size bytes to path so that path holds either its old content or
 * all of data, even across a crash: the bytes go to a new uniquely named
 * file beside path, which is synced, closed and renamed over path, and then
 * the directory is synced. On failure the temporary file is removed and
 * path is left as it was.
 */
sfr_status sfri_write_file_atomic(const char *path, const void *data, size_t size,
                                  const char *func);

/*
 * Reads the whole regular file at path into a new buffer (*data, freed
 * with sfri_free; never NULL on success, even for an empty file) of *size
 * bytes. Writes no output on failure.
 */
sfr_status sfri_read_file(const char *path, void **data, size_t *size, const char *func);

#endif /* SFR_LIB_FILE_IO_H */
