/*
 * An LD_PRELOAD shim for the store's failing-disk test: while the file named
 * by FAILING_IO_SWITCH exists, write(), pwrite(), pwrite64(), fsync() and
 * fdatasync() on files under the directory FAILING_IO_DIR fail with EIO (as
 * a dying disk does).  Everything else goes through untouched.
 * Built by tests/helpers/failingio.py with: cc -shared -fPIC -o X.so X.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int failing_call(const char *call, int fd);

/* FAILING_IO_CALLS, if set, limits the failures to the calls it names (e.g. "fsync,fdatasync"). */
static int failing_call(const char *call, int fd) {
    const char *only = getenv("FAILING_IO_CALLS");
    const char *sw = getenv("FAILING_IO_SWITCH");
    const char *dir = getenv("FAILING_IO_DIR");
    char link[64], path[PATH_MAX];
    ssize_t n;
    if (!sw || !dir || access(sw, F_OK) != 0)
        return 0;
    if (only && call && !strstr(only, call))
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = 0;
    return strncmp(path, dir, strlen(dir)) == 0;
}

#define NEXT(name) static __typeof__(name) *next; if (!next) next = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count) {
    NEXT(write);
    if (failing_call("write", fd)) { errno = EIO; return -1; }
    return next(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    NEXT(pwrite);
    if (failing_call("pwrite", fd)) { errno = EIO; return -1; }
    return next(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    NEXT(pwrite64);
    if (failing_call("pwrite64", fd)) { errno = EIO; return -1; }
    return next(fd, buf, count, offset);
}

int fsync(int fd) {
    NEXT(fsync);
    if (failing_call("fsync", fd)) { errno = EIO; return -1; }
    return next(fd);
}

int fdatasync(int fd) {
    NEXT(fdatasync);
    if (failing_call("fdatasync", fd)) { errno = EIO; return -1; }
    return next(fd);
}
