/*
 * File helpers on POSIX descriptors. The atomic write follows the usual
 * recipe (write a temporary, fsync it, rename it, fsync the directory): a
 * reader of path never sees a partly written file, and after a successful
 * return the new content survives a power loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "file_io.h"

/* Attempts at finding an unused temporary name before giving up. */
#define TEMP_NAME_TRIES 64

/* A 64-bit mix (splitmix64's finalizer) spreading the name seeds. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Bytes of the temporary name create_temp_beside writes for path. */
static size_t temp_name_size(const char *path)
{
    return strlen(path) + sizeof ".tmp-0123456789abcdef";
}

/*
 * Creates "<path>.tmp-<16 hex digits>" with O_EXCL, as mkstemp does, but
 * with mode 0666 filtered by the umask (mkstemp's 0600 would make every
 * checkpoint private). The name, written into name (temp_name_size(path)
 * bytes), is in path's directory, so the rename that follows stays within
 * one file system. Returns the descriptor or -1 with errno set.
 */
static int create_temp_beside(const char *path, char *name)
{
    static atomic_uint_fast64_t serial;
    size_t cap = temp_name_size(path);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seed = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    seed ^= (uint64_t)getpid() << 32;
    for (int attempt = 0; attempt < TEMP_NAME_TRIES; attempt++) {
        uint64_t tag = mix64(seed + atomic_fetch_add(&serial, 1) * 0x9e3779b97f4a7c15ull);
        snprintf(name, cap, "%s.tmp-%016llx", path, (unsigned long long)tag);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static int write_all(int fd, const unsigned char *p, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* The directory part of path ("/" for "/x", "." for a bare name) in a new
 * block, or NULL when out of memory. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *src = slash != NULL ? path : ".";
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = sfri_malloc(n + 1);
    if (dir != NULL) {
        memcpy(dir, src, n);
        dir[n] = '\0';
    }
    return dir;
}

/*
 * Makes the rename durable. A file system that cannot sync directories
 * (EINVAL) has nothing more to do, and that is not a failure.
 */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    if (rc != 0 && errno == EINVAL)
        rc = 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The write itself, given the temporary name buffer and the directory name. */
static sfr_status write_rename_sync(const char *path, const void *data, size_t size, char *temp,
                                    const char *dir, const char *func)
{
    int fd = create_temp_beside(path, temp);
    if (fd < 0)
        return sfri_fail(SFR_ERR_IO, func, "cannot create a temporary file beside '%s': %s",
                         path, strerror(errno));
    const char *step = NULL;
    if (write_all(fd, data, size) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "sync";
    int saved = errno;
    if (close(fd) != 0 && step == NULL) {
        step = "close";
        saved = errno;
    }
    if (step == NULL && rename(temp, path) != 0) {
        step = "rename over";
        saved = errno;
    }
    if (step != NULL) {
        unlink(temp);
        return sfri_fail(SFR_ERR_IO, func, "cannot %s '%s': %s", step, path, strerror(saved));
    }
    if (sync_dir(dir) != 0)
        return sfri_fail(SFR_ERR_IO, func, "'%s' was written but its directory cannot be synced: %s",
                         path, strerror(errno));
    return SFR_OK;
}

sfr_status sfri_write_file_atomic(const char *path, const void *data, size_t size,
                                  const char *func)
{
    /* Both names are allocated before anything is written, so that running
     * out of memory is reported as such, and never after the rename. */
    char *temp = sfri_malloc(temp_name_size(path));
    char *dir = parent_dir(path);
    sfr_status st = temp == NULL || dir == NULL
                        ? sfri_fail(SFR_ERR_NOMEM, func, "no memory for the names of '%s'", path)
                        : write_rename_sync(path, data, size, temp, dir, func);
    sfri_free(temp);
    sfri_free(dir);
    return st;
}

/* Reads exactly size bytes; a short file (changed under us) is an error. */
static int read_all(int fd, unsigned char *p, size_t size)
{
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

sfr_status sfri_read_file(const char *path, void **data, size_t *size, const char *func)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sfri_fail(SFR_ERR_IO, func, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return sfri_fail(SFR_ERR_IO, func, "cannot stat '%s': %s", path, strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sfri_fail(SFR_ERR_IO, func, "'%s' is not a regular file", path);
    }
    if ((uintmax_t)st.st_size >= SIZE_MAX) {
        close(fd);
        return sfri_fail(SFR_ERR_IO, func, "'%s' is too large to read (%lld bytes)", path,
                         (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = sfri_malloc(n);
    if (buf == NULL) {
        close(fd);
        return sfri_fail(SFR_ERR_NOMEM, func, "no memory to read '%s' (%zu bytes)", path, n);
    }
    if (read_all(fd, buf, n) != 0) {
        int saved = errno;
        close(fd);
        sfri_free(buf);
        return sfri_fail(SFR_ERR_IO, func, "cannot read '%s': %s", path, strerror(saved));
    }
    close(fd);
    *data = buf;
    *size = n;
    return SFR_OK;
}
