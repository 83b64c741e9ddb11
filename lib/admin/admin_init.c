/*
 * A new rules DB (`pinsplice db init`, lib/admin/admin.h): the installed SQL loaded into a file
 * beside the target, the vendor baseline recorded, then renamed over the target.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "err.h"
#include "snapshot.h"
#include "store.h"
#include "tmpfile.h"

/* schema first, then the audit trail and the admin views (so loading the vendor data is audited),
 * then the data. */
static const char *const sql_names[] = {"schema.sql", "audit.sql", "manage.sql", "vendor.sql",
                                        "defaults.sql"};
#define N_SQL (sizeof(sql_names) / sizeof(sql_names[0]))

/* Create every missing directory above path, mode 0755 whatever the umask (Squid's helper user
 * must be able to reach the database). The walk is bounded by PATH_MAX. */
static int
make_parents(const char *path, struct ps_err *err)
{
    char buf[PATH_MAX];
    struct stat st;
    size_t len = strlen(path), i;

    if (len >= sizeof(buf))
        return ps_err_set(err, PS_ETOOLONG, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    for (i = 1; i < len; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (stat(buf, &st) < 0) {
            if (errno != ENOENT || mkdir(buf, 0755) < 0 || chmod(buf, 0755) < 0)
                return ps_err_set(err, PS_EIO, "%s: %s", buf, strerror(errno));
        } else if (!S_ISDIR(st.st_mode)) {
            return ps_err_set(err, PS_EINVAL, "%s: not a directory", buf);
        }
        buf[i] = '/';
    }
    return 0;
}

/* The SQL files in dir; each must be readable. */
static int
sql_paths(const char *dir, char paths[N_SQL][PATH_MAX], struct ps_err *err)
{
    size_t i;

    for (i = 0; i < N_SQL; i++) {
        if ((size_t)snprintf(paths[i], PATH_MAX, "%s/%s", dir, sql_names[i]) >= PATH_MAX)
            return ps_err_set(err, PS_ETOOLONG, "%s: path too long", dir);
        if (access(paths[i], R_OK) < 0)
            return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO,
                              "%s: %s (PINSPLICE_SQLDIR names the SQL directory)", paths[i],
                              strerror(errno));
    }
    return 0;
}

/* Load what was created, as the helper will: proves the shipped SQL gives a usable database. */
static int
check_load(const char *path, int busy_ms, struct ps_admin_init_stats *st, struct ps_err *err)
{
    struct ps_snapshot *snap = NULL;
    struct ps_snapshot_stats ss;
    struct ps_err e = {0, ""};
    int rc;

    if ((rc = ps_store_load(path, busy_ms, &snap, &e)) < 0)
        return ps_err_set(err, rc, "created %s, but it does not load: %s", path, e.msg);
    ps_snapshot_stats(snap, &ss);
    if (st != NULL) {
        st->rules = ss.rules;
        st->domains = ss.domains;
    }
    ps_snapshot_release(snap);
    return 0;
}

/* The DB built in tmp: the SQL, then the vendor baseline, then mode 0644. */
static int
build(const char *tmp, const char *path, int busy_ms, char paths[N_SQL][PATH_MAX],
      struct ps_err *err)
{
    const char *files[N_SQL];
    struct ps_admin_sql sql;
    struct ps_err e = {0, ""};
    size_t i;
    int rc;

    for (i = 0; i < N_SQL; i++)
        files[i] = paths[i];
    if ((rc = ps_store_create(tmp, files, N_SQL, true, err)) < 0)
        return rc;
    /* Record what the vendor shipped (vendor_base) with a first, empty update, so every later
     * `db update` is a three-way merge that can tell an admin's edit from a vendor change. */
    sql.schema = paths[0];
    sql.audit = paths[1];
    sql.manage = paths[2];
    sql.vendor = paths[3];
    sql.defaults = paths[4];
    if ((rc = ps_admin_update(tmp, busy_ms, &sql, "pinsplice db init", false, NULL, NULL, NULL,
                              &e)) < 0)
        return ps_err_set(err, rc, "%s: recording the vendor baseline: %s", path, e.msg);
    if (chmod(tmp, 0644) < 0)
        return ps_err_set(err, PS_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

int
ps_admin_db_init(const struct ps_admin_init *in, struct ps_admin_init_stats *st, struct ps_err *err)
{
    char paths[N_SQL][PATH_MAX];
    char tmp[PATH_MAX + 32];
    int rc;

    if (in->path[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "empty database path");
    if ((rc = sql_paths(in->sql_dir, paths, err)) < 0 || (rc = make_parents(in->path, err)) < 0)
        return rc;
    if (!in->force && access(in->path, F_OK) == 0)
        return ps_err_set(err, PS_EINVAL, "%s: exists (use --force to replace it)", in->path);
    /* Build the whole DB beside the target and rename it over only when it is complete: an
     * existing DB (with --force) stays as it was if any step fails. mkstemp (O_EXCL), not a
     * predictable PATH.init-PID. */
    if ((rc = ps_tmpfile_create(in->path, "init", tmp, sizeof(tmp), err)) < 0)
        return rc;
    if ((rc = build(tmp, in->path, in->busy_ms, paths, err)) < 0) {
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, in->path) < 0) {
        rc = ps_err_set(err, PS_EIO, "%s: %s", in->path, strerror(errno));
        unlink(tmp);
        return rc;
    }
    return check_load(in->path, in->busy_ms, st, err);
}
