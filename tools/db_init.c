/* `pinsplice db init`: create the rules database from the installed SQL. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#ifndef PS_DATADIR
#define PS_DATADIR "/usr/share/pinsplice"
#endif

/* schema first, then the admin views and audit triggers (so loading the vendor data is audited),
 * then the data. */
static const char *const sql_names[] = {"schema.sql", "manage.sql", "vendor.sql", "defaults.sql"};
#define N_SQL (sizeof(sql_names) / sizeof(sql_names[0]))

/* Create every missing directory above path, mode 0755 whatever the umask (Squid's helper user
 * must be able to reach the database). The walk is bounded by PATH_MAX. */
static int
make_parents(const char *cmd, const char *path)
{
    char buf[PATH_MAX];
    struct stat st;
    size_t len = strlen(path), i;

    if (len >= sizeof(buf)) {
        ps_cli_error(cmd, "%s: path too long", path);
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (i = 1; i < len; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (stat(buf, &st) < 0) {
            if (errno != ENOENT || mkdir(buf, 0755) < 0 || chmod(buf, 0755) < 0) {
                ps_cli_error(cmd, "%s: %s", buf, strerror(errno));
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            ps_cli_error(cmd, "%s: not a directory", buf);
            return -1;
        }
        buf[i] = '/';
    }
    return 0;
}

/* The SQL files, in $PINSPLICE_SQLDIR or PS_DATADIR; each must be readable. */
static int
sql_paths(const char *cmd, char paths[N_SQL][PATH_MAX])
{
    const char *dir = getenv("PINSPLICE_SQLDIR");
    size_t i;

    if (dir == NULL || dir[0] == '\0')
        dir = PS_DATADIR;
    for (i = 0; i < N_SQL; i++) {
        if ((size_t)snprintf(paths[i], PATH_MAX, "%s/%s", dir, sql_names[i]) >= PATH_MAX) {
            ps_cli_error(cmd, "%s: path too long", dir);
            return -1;
        }
        if (access(paths[i], R_OK) < 0) {
            ps_cli_error(cmd, "%s: %s (PINSPLICE_SQLDIR names the SQL directory)", paths[i],
                         strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Load what was created, as the helper will: proves the shipped SQL gives a usable database. */
static int
report(const char *cmd, const char *path)
{
    struct ps_snapshot *snap = NULL;
    struct ps_snapshot_stats st;
    struct ps_err err = {0, ""};

    if (ps_store_load(path, 2000, &snap, &err) < 0) {
        ps_cli_error(cmd, "created %s, but it does not load: %s", path, err.msg);
        return PS_EXIT_ERROR;
    }
    ps_snapshot_stats(snap, &st);
    printf("%s: created (schema version %d): %zu enabled rules, %zu domain entries\n", path,
           PS_SCHEMA_VERSION, st.rules, st.domains);
    ps_snapshot_release(snap);
    return PS_EXIT_OK;
}

int
ps_cmd_db_init(int argc, char **argv)
{
    const char *db = NULL, *path;
    bool force = false;
    const struct ps_cli_opt opts[] = {{"db", &db, NULL}, {"force", NULL, &force}};
    char paths[N_SQL][PATH_MAX];
    const char *files[N_SQL];
    struct ps_err err = {0, ""};
    struct ps_admin_sql sql;
    char tmp[PATH_MAX + 32];
    size_t i;
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    path = ps_cli_db_path(db);
    if (path[0] == '\0') {
        ps_cli_error(argv[0], "empty database path");
        return PS_EXIT_ERROR;
    }
    if (sql_paths(argv[0], paths) < 0 || make_parents(argv[0], path) < 0)
        return PS_EXIT_ERROR;
    for (i = 0; i < N_SQL; i++)
        files[i] = paths[i];
    if (!force && access(path, F_OK) == 0) {
        ps_cli_error(argv[0], "%s: exists (use --force to replace it)", path);
        return PS_EXIT_ERROR;
    }
    /* Build the whole DB beside the target and rename it over only when it is complete: an
     * existing DB (with --force) stays as it was if any step fails. */
    /* mkstemp (O_EXCL), not a predictable PATH.init-PID */
    if (ps_tmpfile_create(path, "init", tmp, sizeof(tmp), &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        return PS_EXIT_ERROR;
    }
    if (ps_store_create(tmp, files, N_SQL, true, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        unlink(tmp);
        return PS_EXIT_ERROR;
    }
    /* Record what the vendor shipped (vendor_base) with a first, empty update, so every later
     * `db update` is a three-way merge that can tell an admin's edit from a vendor change. */
    sql.schema = paths[0];
    sql.manage = paths[1];
    sql.vendor = paths[2];
    sql.defaults = paths[3];
    if (ps_admin_update(tmp, 2000, &sql, "pinsplice db init", false, NULL, NULL, NULL, &err) < 0) {
        ps_cli_error(argv[0], "%s: recording the vendor baseline: %s", path, err.msg);
        unlink(tmp);
        return PS_EXIT_ERROR;
    }
    if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
        ps_cli_error(argv[0], "%s: %s", path, strerror(errno));
        unlink(tmp);
        return PS_EXIT_ERROR;
    }
    return report(argv[0], path);
}
