/*
 * Published copies (`pinsplice db publish`, lib/admin/admin.h): part of the write side, see
 * lib/admin/admin.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "admin.h"
#include "admin_int.h"
#include "err.h"
#include "snapshot.h"
#include "store.h"
#include "tmpfile.h"

/* ---- publishing -------------------------------------------------------------------------------
 */

static int
fsync_path(const char *path, bool dir, struct ps_err *err)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    int rc = 0;

    if (fd < 0 || fsync(fd) < 0)
        rc = ps_err_set(err, PS_EIO, "%s: fsync: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* VACUUM INTO tmp from one read transaction of src, then rollback-journal mode. */
static int
copy_db(const char *src, const char *tmp, int busy_ms, struct ps_err *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0, v = 0;

    if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc =
            ps_err_set(err, PS_EDB, "%s: %s", src, db != NULL ? sqlite3_errmsg(db) : "cannot open");
        goto done;
    }
    sqlite3_busy_timeout(db, busy_ms);
    if ((rc = ps_admin_user_version(db, src, &v, err)) < 0)
        goto done;
    if (v != PS_SCHEMA_VERSION) {
        rc = ps_err_set(err, PS_EDB,
                        "%s: schema version %d, this build reads %d (run "
                        "'pinsplice db update' first)",
                        src, v, PS_SCHEMA_VERSION);
        goto done;
    }
    if (sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK) {
        rc = ps_admin_db_fail(db, "copying", err);
        goto done;
    }
    sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ps_admin_db_fail(db, "copying", err);
    sqlite3_finalize(st);
    sqlite3_close(db);
    db = NULL;
    if (rc < 0)
        goto done;
    /* A copy of a WAL database could come out in WAL mode: readers of a published file in a
     * directory they cannot write would then fail. */
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = ps_admin_db_fail(db, tmp, err);
done:
    sqlite3_close(db);
    return rc;
}

int
ps_admin_publish(const char *src, const char *dst, int busy_ms, long long *bytes,
                 struct ps_err *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    struct ps_snapshot *snap = NULL;
    struct stat ss, ds;
    char *slash;
    int rc;

    if (stat(src, &ss) < 0)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", src,
                          strerror(errno));
    if (stat(dst, &ds) == 0) {
        if (S_ISDIR(ds.st_mode))
            return ps_err_set(err, PS_EINVAL, "%s: a directory (give the file name)", dst);
        if (ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino)
            return ps_err_set(err, PS_EINVAL, "%s and %s are the same file", src, dst);
    }
    if ((size_t)snprintf(dir, sizeof(dir), "%s", dst) >= sizeof(dir))
        return ps_err_set(err, PS_ETOOLONG, "%s: path too long", dst);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    /* mkstemp, not a predictable PATH.publish-PID: nothing planted there is opened or followed */
    if ((rc = ps_tmpfile_create(dst, "publish", tmp, sizeof(tmp), err)) < 0)
        return rc;
    if ((rc = copy_db(src, tmp, busy_ms, err)) < 0)
        goto done;
    /* Refuse to hand the fleet a file its helpers would not load. */
    if ((rc = ps_store_load(tmp, busy_ms, &snap, err)) < 0) {
        ps_err_prefix(err, "the copy does not load");
        goto done;
    }
    ps_snapshot_release(snap);
    if ((rc = fsync_path(tmp, false, err)) < 0)
        goto done;
    if (chmod(tmp, 0644) < 0 || stat(tmp, &ds) < 0 || rename(tmp, dst) < 0) {
        rc = ps_err_set(err, PS_EIO, "%s: %s", dst, strerror(errno));
        goto done;
    }
    if (bytes != NULL)
        *bytes = (long long)ds.st_size;
    rc = fsync_path(dir, true, err);
done:
    if (rc < 0)
        unlink(tmp);
    return rc;
}
