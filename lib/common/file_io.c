/*
 * The crash-safe whole-file write. It follows the usual recipe (write a
 * temporary, fsync it, rename it, fsync the directory): a reader of path
 * never sees a partly written file, and after a successful return the new
 * content survives a power loss. Saving through a symbolic link replaces
 * its target; a replaced file keeps its mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
 * with mode (filtered by the umask; mkstemp's 0600 would make every
 * checkpoint private). The name, written into name (temp_name_size(path)
 * bytes), is in path's directory, so the rename that follows stays within
 * one file system. Returns the descriptor or -1 with errno set.
 */
static int create_temp_beside(const char *path, char *name, mode_t mode)
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
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
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

/* Symbolic links followed at most, as the kernel's own limit (ELOOP). */
#define MAX_LINK_HOPS 40

/* A copy of the n bytes at s, terminated, in a new block (NULL: no memory). */
static char *copy_of(const char *s, size_t n)
{
    char *c = sfri_malloc(n + 1);
    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
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

/* The target of the symbolic link at link (lstat gave st), a relative one
 * taken from the link's directory, in a new block; NULL with errno set. */
static char *link_target(const char *link, const struct stat *st)
{
    size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : PATH_MAX;
    char *text = sfri_malloc(cap);
    ssize_t n = text == NULL ? -1 : readlink(link, text, cap);
    char *target = NULL;
    if (text == NULL) {
        errno = ENOMEM;
    } else if (n >= 0 && (size_t)n >= cap) {
        errno = ENAMETOOLONG; /* the link grew under us */
    } else if (n >= 0) {
        char *dir = text[0] == '/' ? NULL : parent_dir(link);
        size_t bytes = (dir != NULL ? strlen(dir) + 1 : 0) + (size_t)n + 1;
        if (text[0] == '/' || dir != NULL)
            target = sfri_malloc(bytes);
        if (target != NULL)
            snprintf(target, bytes, "%s%s%.*s", dir != NULL ? dir : "", dir != NULL ? "/" : "",
                     (int)n, text);
        else
            errno = ENOMEM;
        sfri_free(dir);
    }
    sfri_free(text);
    return target;
}

/*
 * The file a save replaces, in a new block: path, or when path is a
 * symbolic link the file it leads to (links followed one after another),
 * so that the link stays a link and its target receives the checkpoint,
 * as an editor saving through a link does. A path that does not exist, or
 * cannot be looked at, is itself: creating the temporary beside it then
 * reports the problem. NULL with errno set (ENOMEM, ELOOP, ...).
 */
static char *final_target(const char *path)
{
    char *cur = copy_of(path, strlen(path));
    if (cur == NULL)
        errno = ENOMEM;
    for (int hops = 0; cur != NULL; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        char *next = NULL;
        if (hops < MAX_LINK_HOPS)
            next = link_target(cur, &st);
        else
            errno = ELOOP;
        sfri_free(cur);
        cur = next;
    }
    return NULL;
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

/*
 * The write itself over path (no longer a link), given the temporary name
 * buffer and the directory name. A file replaced keeps its permission
 * bits: the temporary is created with them (the umask may only narrow
 * them, so it is never more open than the file it replaces) and then given
 * them exactly.
 */
static sfr_status write_rename_sync(const char *path, const void *data, size_t size, char *temp,
                                    const char *dir, const char *func)
{
    struct stat old;
    int replaces = stat(path, &old) == 0 && S_ISREG(old.st_mode);
    mode_t mode = replaces ? old.st_mode & 0777 : 0666;
    int fd = create_temp_beside(path, temp, mode);
    if (fd < 0)
        return sfri_fail(SFR_ERR_IO, func, "cannot create a temporary file beside '%s': %s",
                         path, strerror(errno));
    const char *step = NULL;
    if (replaces && fchmod(fd, mode) != 0)
        step = "keep the mode of";
    else if (write_all(fd, data, size) != 0)
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
    /* Past the rename nothing can be undone: the status still says that
     * durability is not confirmed, and the message that path was replaced. */
    if (sync_dir(dir) != 0)
        return sfri_fail(SFR_ERR_IO, func,
                         "'%s' was replaced by the new content, but its directory cannot be "
                         "synced (%s): the replacement may not survive a power loss",
                         path, strerror(errno));
    return SFR_OK;
}

sfr_status sfri_write_file_atomic(const char *path, const void *data, size_t size,
                                  const char *func)
{
    /* Every name is made before anything is written, so that running out
     * of memory is reported as such, and never after the rename. */
    char *target = final_target(path);
    if (target == NULL)
        return errno == ENOMEM
                   ? sfri_fail(SFR_ERR_NOMEM, func, "no memory for the names of '%s'", path)
                   : sfri_fail(SFR_ERR_IO, func, "cannot follow the links of '%s': %s", path,
                               strerror(errno));
    char *temp = sfri_malloc(temp_name_size(target));
    char *dir = parent_dir(target);
    sfr_status st = temp == NULL || dir == NULL
                        ? sfri_fail(SFR_ERR_NOMEM, func, "no memory for the names of '%s'", path)
                        : write_rename_sync(target, data, size, temp, dir, func);
    sfri_free(target);
    sfri_free(temp);
    sfri_free(dir);
    return st;
}
