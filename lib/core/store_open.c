/* Opening the rules DB read-only, safely: never blocking on a FIFO or device, a WAL-mode file
 * without -wal opened immutable, and the schema version checked. See store_int.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

int
ps_store_db_err(sqlite3 *db, const char *path, const char *what, struct ps_err *err)
{
    int code = sqlite3_errcode(db);
    int rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PS_EBUSY : PS_EDB;

    return ps_err_set(err, rc, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

/*
 * Every file SQLite opens (the DB, its journal, -wal, -shm) is opened with O_NONBLOCK, and one
 * that turns out to be a FIFO, a device or a socket is refused: open(2) of a FIFO without
 * O_NONBLOCK waits for a writer, forever, and a path swapped for one between our own check and
 * SQLite's open must not hang the loader. O_NONBLOCK has no effect on regular files. The unix
 * VFS's system-call table is per process, so this applies to every SQLite user in the process;
 * it only ever refuses files SQLite cannot use as a database anyway.
 */
typedef int open_fn(const char *, int, int);
static sqlite3_syscall_ptr real_open;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static int
guarded_open(const char *path, int flags, int mode)
{
    struct stat st;
    int fd = ((open_fn *)(void *)real_open)(path, flags | O_NONBLOCK, mode);

    if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        close(fd);
        errno = ENXIO;
        return -1;
    }
    return fd;
}

static void
install_guard(void)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find("unix");

    if (vfs == NULL || vfs->iVersion < 3 || vfs->xGetSystemCall == NULL)
        return;
    real_open = vfs->xGetSystemCall(vfs, "open");
    if (real_open != NULL)
        vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)(void *)guarded_open);
}

/*
 * Check path without ever blocking: O_NONBLOCK, then fstat on what was really opened. Sets *st and
 * *wal (the header says WAL mode: read and write versions 2, bytes 18-19).
 */
static int
check_regular(const char *path, struct stat *st, bool *wal, struct ps_err *err)
{
    unsigned char h[2];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    if (fd < 0 && errno == ENOENT)
        return ps_err_set(err, PS_ENOENT, "%s: %s (create it with 'pinsplice db init')", path,
                          strerror(ENOENT));
    if (fd < 0)
        return ps_err_set(err, PS_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, st) < 0) {
        int rc = ps_err_set(err, PS_EIO, "%s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    *wal = S_ISREG(st->st_mode) && pread(fd, h, sizeof(h), 18) == (ssize_t)sizeof(h) &&
           h[0] == 2 && h[1] == 2;
    close(fd);
    if (!S_ISREG(st->st_mode))
        return ps_err_set(err, PS_EDB, "%s: not a regular file (%s)", path,
                          S_ISDIR(st->st_mode)    ? "a directory"
                          : S_ISFIFO(st->st_mode) ? "a FIFO"
                          : S_ISSOCK(st->st_mode) ? "a socket"
                                                  : "a device");
    return 0;
}

static bool
exists(const char *path, const char *suffix)
{
    char p[4096];
    struct stat st;

    if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix) >= sizeof(p))
        return true; /* cannot tell: take the safe branch (a normal open) */
    return lstat(p, &st) == 0 || errno != ENOENT;
}

/* "file:" URI for path with immutable=1; everything but unreserved characters and '/' escaped. */
static int
immutable_uri(const char *path, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    const unsigned char *c;

    n = (size_t)snprintf(out, size, "file:");
    for (c = (const unsigned char *)path; *c != '\0'; c++) {
        if (n + 4 >= size)
            return PS_ETOOLONG;
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("/-._~", *c) != NULL) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    if ((size_t)snprintf(out + n, size - n, "?immutable=1") >= size - n)
        return PS_ETOOLONG;
    return 0;
}

/*
 * Open path read-only. A WAL-mode DB with no -wal file holds every commit in the main file (the
 * last writer checkpointed it and removed -wal and -shm), but SQLite would still want to create
 * -shm, which a reader that may not write the directory (Squid's `proxy`) cannot: "attempt to
 * write a readonly database". Such a file is opened immutable (no -shm, no locks) and marked
 * frozen; ps_store_close_ro() then refuses the read if a writer came along meanwhile. With a -wal file
 * present, SQLite's own read-only WAL support applies (it needs -shm readable).
 */
int
ps_store_open_ro(const char *path, int busy_ms, struct ps_store_ro *out, struct ps_err *err)
{
    struct ps_store_ro r = {NULL, false, {0}};
    char uri[4096 * 3 + 32];
    bool wal = false;
    int rc, flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;

    pthread_once(&guard_once, install_guard);
    rc = check_regular(path, &r.before, &wal, err);
    if (rc < 0)
        return rc;
    r.frozen = wal && !exists(path, "-wal") && !exists(path, "-shm");
    if (r.frozen) {
        if (immutable_uri(path, uri, sizeof(uri)) < 0)
            return ps_err_set(err, PS_ETOOLONG, "%s: path too long", path);
        flags |= SQLITE_OPEN_URI;
    }
    if (sqlite3_open_v2(r.frozen ? uri : path, &r.db, flags, NULL) != SQLITE_OK) {
        rc = ps_err_set(err, PS_EDB, "%s: %s", path, r.db ? sqlite3_errmsg(r.db) : "cannot open");
        sqlite3_close(r.db);
        return rc;
    }
    sqlite3_busy_timeout(r.db, busy_ms);
    *out = r;
    return 0;
}

/*
 * Close; for a frozen read, check that no writer appeared while it ran (a writer creates -wal
 * before it writes anything, and a checkpoint changes the main file). Returns rc, or PS_EBUSY
 * when the read may have seen a half-written file (the caller retries later).
 */
int
ps_store_close_ro(struct ps_store_ro *r, const char *path, int rc, struct ps_err *err)
{
    struct stat st;

    sqlite3_close(r->db);
    r->db = NULL;
    if (!r->frozen || rc < 0)
        return rc;
    if (exists(path, "-wal") || stat(path, &st) < 0 || st.st_ino != r->before.st_ino ||
        st.st_dev != r->before.st_dev || st.st_size != r->before.st_size ||
        st.st_mtim.tv_sec != r->before.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != r->before.st_mtim.tv_nsec ||
        st.st_ctim.tv_sec != r->before.st_ctim.tv_sec ||
        st.st_ctim.tv_nsec != r->before.st_ctim.tv_nsec)
        return ps_err_set(err, PS_EBUSY, "%s: written while being read (WAL mode), will retry",
                          path);
    return rc;
}

int
ps_store_check_version(sqlite3 *db, const char *path, struct ps_err *err)
{
    sqlite3_stmt *st = NULL;
    int v = -1, rc;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return ps_store_db_err(db, path, "reading user_version", err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return ps_store_db_err(db, path, "reading user_version", err);
    if (v == 0)
        return ps_err_set(err, PS_EDB, "%s: not a pinsplice rules database (user_version 0)",
                          path);
    if (v != PS_SCHEMA_VERSION)
        return ps_err_set(err, PS_EDB, "%s: schema version %d, this build reads %d (run "
                          "'pinsplice db update')", path, v, PS_SCHEMA_VERSION);
    return 0;
}

