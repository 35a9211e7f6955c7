/*
 * Reading a file that may be anything: opened without blocking, checked to
 * be a regular file, then read piece by piece where the caller says, so
 * that a caller reads a header before deciding to read (and allocate for)
 * the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "file_io.h"

sfr_status sfri_open_regular(const char *path, int *fd, uint64_t *size, const char *func)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer, forever; on a regular file it changes nothing, and it is
     * cleared anyway before any read. */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0)
        return sfri_fail(SFR_ERR_IO, func, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    const char *problem = NULL;
    int saved = 0;
    if (fstat(f, &st) != 0) {
        problem = "cannot stat";
        saved = errno;
    } else if (!S_ISREG(st.st_mode)) {
        close(f);
        return sfri_fail(SFR_ERR_IO, func, "'%s' is not a regular file", path);
    } else if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0) {
        problem = "cannot set up reading";
        saved = errno;
    }
    if (problem != NULL) {
        close(f);
        return sfri_fail(SFR_ERR_IO, func, "%s '%s': %s", problem, path, strerror(saved));
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return SFR_OK;
}

sfr_status sfri_read_at(int fd, void *buf, size_t size, uint64_t offset, const char *path,
                        const char *func)
{
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t n = pread(fd, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return sfri_fail(SFR_ERR_IO, func, "cannot read '%s': %s", path,
                             n == 0 ? "the file is shorter than it was" : strerror(errno));
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return SFR_OK;
}

sfr_status sfri_read_file(const char *path, unsigned char **data, size_t *size, const char *func)
{
    int fd = -1;
    uint64_t file_size = 0;
    sfr_status st = sfri_open_regular(path, &fd, &file_size, func);
    if (st != SFR_OK)
        return st;
    unsigned char *bytes = file_size < SIZE_MAX ? sfri_malloc((size_t)file_size + 1) : NULL;
    if (bytes == NULL)
        st = sfri_fail(SFR_ERR_NOMEM, func, "no memory to read '%s' (%llu bytes)", path,
                       (unsigned long long)file_size);
    else
        st = sfri_read_at(fd, bytes, (size_t)file_size, 0, path, func);
    close(fd);
    if (st != SFR_OK) {
        sfri_free(bytes);
        return st;
    }
    *data = bytes;
    *size = (size_t)file_size;
    return SFR_OK;
}
