/*
 * Careful file reads and crash-safe whole-file writes, for the checkpoint
 * code. Failures are reported with sfri_fail for the caller's func and are
 * SFR_ERR_IO (or SFR_ERR_NOMEM for the file names).
 */
#ifndef SFR_LIB_FILE_IO_H
#define SFR_LIB_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "sfr/status.h"

/*
 * Writes size bytes to path so that path holds either its old content or
 * all of data, even across a crash: the bytes go to a new uniquely named
 * file beside the file path names (path itself, or the target its
 * symbolic links lead to, which stay links), which is given the replaced
 * file's mode, synced, closed and renamed over it, and then the directory
 * is synced. On a failure before the rename the temporary file is removed
 * and path is left as it was; when only the directory sync fails, the
 * file is replaced and the SFR_ERR_IO message says so.
 */
sfr_status sfri_write_file_atomic(const char *path, const void *data, size_t size,
                                  const char *func);

/*
 * Opens path for reading, never blocking on it (a FIFO without a writer,
 * a device), and accepts only a regular file: *fd receives the descriptor,
 * to close, and *size the file's size. Writes no output on failure.
 */
sfr_status sfri_open_regular(const char *path, int *fd, uint64_t *size, const char *func);

/*
 * Reads exactly size bytes at offset from fd, the file at path (named in
 * messages); a file shorter than that (changed under us) is SFR_ERR_IO.
 */
sfr_status sfri_read_at(int fd, void *buf, size_t size, uint64_t offset, const char *path,
                        const char *func);

/*
 * A whole regular file (opened as sfri_open_regular does) in a new buffer of
 * *size bytes (one more is allocated, so that an empty file has one), to
 * release with sfri_free. Writes no output on failure.
 */
sfr_status sfri_read_file(const char *path, unsigned char **data, size_t *size, const char *func);

#endif /* SFR_LIB_FILE_IO_H */
