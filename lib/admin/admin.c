/*
 * The write side of the rules database (lib/admin/admin.h): one write transaction, audit.who,
 * bulk category lists. With lib/admin/admin_update.c (migrations, vendor updates),
 * admin_publish.c (published copies) and admin_feed.c (feed imports), which share this file's
 * internals through lib/admin/admin_int.h, and lib/core/store.c (the read side), these are the
 * only files that call SQLite; lib/admin/vmerge.c only holds SQL text.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "admin.h"
#include "admin_int.h"
#include "err.h"
#include "name.h"
#include "store.h"

#define IMPORT_CACHE_KB "131072" /* page cache (KiB) for bulk imports: 1M names fit */

static char *
sdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Map SQLite's state to a code; message "what: SQLite's message". */
int
ps_admin_db_fail(sqlite3 *db, const char *what, struct ps_err *err)
{
    int code = sqlite3_errcode(db);

    return ps_err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? PS_EBUSY : PS_EDB,
                      "%s: %s", what, sqlite3_errmsg(db));
}

int
ps_admin_exec(sqlite3 *db, const char *sql, const char *what, struct ps_err *err)
{
    char *msg = NULL;
    int rc;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    rc = sqlite3_errcode(db);
    rc = ps_err_set(err, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? PS_EBUSY : PS_EDB, "%s: %s",
                    what, msg != NULL ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

/* One integer from a one-row query. */
int
ps_admin_query_int(sqlite3 *db, const char *sql, const char *text_arg, long long *out,
                   struct ps_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return ps_admin_db_fail(db, "preparing a query", err);
    if (text_arg != NULL)
        sqlite3_bind_text(st, 1, text_arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = ps_admin_db_fail(db, "reading", err);
    sqlite3_finalize(st);
    return rc;
}

bool
ps_admin_has_object(sqlite3 *db, const char *type, const char *name)
{
    static const char sql[] =
        "SELECT count(*) FROM main.sqlite_master WHERE type = ?1 AND name = ?2";
    sqlite3_stmt *st = NULL;
    bool yes = false;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return yes;
}

int
ps_admin_user_version(sqlite3 *db, const char *path, int *v, struct ps_err *err)
{
    long long n = 0;
    int rc = ps_admin_query_int(db, "PRAGMA main.user_version", NULL, &n, err);

    if (rc < 0)
        return ps_err_prefix(err, "%s", path);
    if (n == 0)
        return ps_err_set(err, PS_EDB, "%s: not a pinsplice rules database (user_version 0)",
                          path);
    *v = (int)n;
    return 0;
}

/*
 * Between ps_admin_list_begin and ps_admin_list_end the connection runs only the insert of list
 * rows, and runs it without the schema's CHECK constraints and triggers. What they would check is
 * checked here instead, in C: each name by ps_name_check_stored (the same rules, the ones the
 * matcher applies when it loads), the category's existence by ps_admin_list_begin; the audit
 * trail takes one row per list, not one per name. The CHECKs' GLOB patterns and the trigger are
 * most of an import's cost otherwise (bench/README.md, "Categories import"). Both settings are
 * compiled into statements, and changing them expires the prepared ones, so they stay off for the
 * list and are put back by ps_admin_list_end (or on any error, commit or free).
 */
static void
bulk_mode(struct ps_admin *a, bool on)
{
    if (a->bulk == on)
        return;
    sqlite3_finalize(a->ins);
    a->ins = NULL;
    sqlite3_db_config(a->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on ? 0 : 1, (int *)NULL);
    sqlite3_exec(a->db,
                 on ? "PRAGMA ignore_check_constraints = 1" : "PRAGMA ignore_check_constraints = 0",
                 NULL, NULL, NULL);
    a->bulk = on;
}

void
ps_admin_close(struct ps_admin *a)
{
    if (a == NULL)
        return;
    if (a->db != NULL)
        bulk_mode(a, false);
    sqlite3_finalize(a->ins);
    if (a->in_tx)
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(a->db);
    free(a->path);
    free(a->who);
    free(a->list);
    free(a->category);
    free(a);
}

/* Open an existing file read-write (never create it). */
int
ps_admin_connect(const char *path, int busy_ms, const char *who, struct ps_admin **out,
                 struct ps_err *err)
{
    struct ps_admin *a = NULL;
    struct stat st;

    if (stat(path, &st) < 0)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ps_err_set(err, PS_EINVAL, "%s: not a regular file", path);
    if ((a = calloc(1, sizeof(*a))) == NULL || (a->path = sdup(path)) == NULL ||
        (who != NULL && who[0] != '\0' && (a->who = sdup(who)) == NULL)) {
        ps_admin_close(a);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        int rc = ps_err_set(err, PS_EDB, "%s: %s", path,
                            a->db != NULL ? sqlite3_errmsg(a->db) : "cannot open");
        ps_admin_close(a);
        return rc;
    }
    sqlite3_busy_timeout(a->db, busy_ms);
    *out = a;
    return 0;
}

int
ps_admin_begin(struct ps_admin *a, struct ps_err *err)
{
    int rc = ps_admin_exec(a->db, "BEGIN IMMEDIATE", "starting a write transaction", err);

    if (rc < 0)
        return ps_err_prefix(err, "%s", a->path);
    a->in_tx = true;
    return 0;
}

/* The session's identity for the audit (sql/audit.sql, "Who"): TEMP objects, so they belong to
 * this connection alone and vanish with it. The trigger rewrites each audit row the connection
 * adds with the session's name: the row as the audit trigger built it, then RAISE(IGNORE) drops
 * the original (a BEFORE trigger cannot change NEW). The inner INSERT carries the session's
 * name, so the trigger does not fire for it again. A name the audit triggers found in the retired
 * setting audit_who (a DB not yet updated) is replaced too: it is someone else's. */
static const char session_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS pinsplice_session (who TEXT NOT NULL);\n"
    "DELETE FROM temp.pinsplice_session;\n"
    "INSERT INTO temp.pinsplice_session (who) VALUES (%Q);\n"
    "CREATE TEMP TRIGGER IF NOT EXISTS pinsplice_session_who BEFORE INSERT ON main.audit\n"
    "WHEN EXISTS (SELECT 1 FROM temp.pinsplice_session)\n"
    "     AND NEW.who IS NOT (SELECT who FROM temp.pinsplice_session)\n"
    "BEGIN\n"
    "    INSERT INTO audit (at, tbl, op, row_id, old, new, who)\n"
    "    VALUES (NEW.at, NEW.tbl, NEW.op, NEW.row_id, NEW.old, NEW.new,\n"
    "            (SELECT who FROM temp.pinsplice_session));\n"
    "    SELECT raise(IGNORE);\n"
    "END;\n";

int
ps_admin_session_sql(const char *who, char **out, struct ps_err *err)
{
    char *sql, *copy;

    if (who == NULL || who[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "no user name for the audit");
    if ((sql = sqlite3_mprintf(session_sql, who)) == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    copy = strdup(sql);
    sqlite3_free(sql);
    if (copy == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    *out = copy;
    return 0;
}

/* Make this connection's audit rows name a->who (when the DB has audit.sql's audit trail). */
int
ps_admin_who_apply(struct ps_admin *a, struct ps_err *err)
{
    char *sql = NULL;
    int rc;

    if (a->who == NULL || a->who_set || !ps_admin_has_object(a->db, "table", "audit"))
        return 0;
    if ((rc = ps_admin_session_sql(a->who, &sql, err)) < 0)
        return rc;
    rc = ps_admin_exec(a->db, sql, "recording the user for the audit", err);
    free(sql);
    a->who_set = rc == 0;
    return rc;
}

/* Drop the session's TEMP objects (they would go with the connection anyway). */
int
ps_admin_who_restore(struct ps_admin *a, struct ps_err *err)
{
    int rc;

    if (!a->who_set)
        return 0;
    rc = ps_admin_exec(a->db,
                       "DROP TRIGGER IF EXISTS temp.pinsplice_session_who;"
                       "DROP TABLE IF EXISTS temp.pinsplice_session;",
                       "ending the audit session", err);
    a->who_set = rc < 0;
    return rc;
}

/* Whether path is an existing pinsplice DB with the audit trail, opened read-only. */
int
ps_admin_session_check(const char *path, struct ps_err *err)
{
    sqlite3 *db = NULL;
    struct stat st;
    int rc = 0, v = 0;

    if (stat(path, &st) != 0)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ps_err_set(err, PS_EINVAL, "%s: not a regular file", path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = ps_err_set(err, PS_EDB, "%s: %s", path,
                        db != NULL ? sqlite3_errmsg(db) : "cannot open");
    else if ((rc = ps_admin_user_version(db, path, &v, err)) == 0 &&
             !ps_admin_has_object(db, "table", "audit"))
        rc = ps_err_set(err, PS_EDB,
                        "%s: no audit trail (a database made before manage.sql): run "
                        "'pinsplice db update' first",
                        path);
    sqlite3_close(db);
    return rc;
}

int
ps_admin_open(const char *path, int busy_ms, const char *who, struct ps_admin **out,
              struct ps_err *err)
{
    struct ps_admin *a = NULL;
    int rc, v = 0;

    if ((rc = ps_admin_connect(path, busy_ms, who, &a, err)) < 0)
        return rc;
    if ((rc = ps_admin_begin(a, err)) < 0 || (rc = ps_admin_user_version(a->db, path, &v, err)) < 0)
        goto done;
    if (v != PS_SCHEMA_VERSION) {
        rc = ps_err_set(err, PS_EDB,
                        "%s: schema version %d, this build writes %d (run "
                        "'pinsplice db update')",
                        path, v, PS_SCHEMA_VERSION);
        goto done;
    }
    a->audited = ps_admin_has_object(a->db, "view", "audit_import");
    if ((rc = ps_admin_who_apply(a, err)) < 0)
        goto done;
    sqlite3_exec(a->db, "PRAGMA cache_size = -" IMPORT_CACHE_KB, NULL, NULL, NULL);
    *out = a;
    a = NULL;
done:
    ps_admin_close(a);
    return rc;
}

int
ps_admin_commit(struct ps_admin *a, struct ps_err *err)
{
    int rc;

    if (a == NULL)
        return ps_err_set(err, PS_EINVAL, "no transaction");
    bulk_mode(a, false);
    rc = ps_admin_who_restore(a, err);
    if (rc == 0 && (rc = ps_admin_exec(a->db, "COMMIT", "committing", err)) == 0)
        a->in_tx = false;
    if (rc < 0)
        ps_err_prefix(err, "%s", a->path);
    ps_admin_close(a);
    return rc;
}

void
ps_admin_free(struct ps_admin *a)
{
    ps_admin_close(a);
}

bool
ps_admin_audited(const struct ps_admin *a)
{
    return a != NULL && a->audited;
}

/* ---- category lists ---------------------------------------------------------------------------
 */

int
ps_admin_list_begin(struct ps_admin *a, const char *list, const char *category, long long *removed,
                    bool *created, struct ps_err *err)
{
    static const char ins_sql[] =
        "INSERT INTO category_domains (category, domain, list) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (category, domain) DO NOTHING";
    long long n = 0;
    sqlite3_stmt *st = NULL;
    int rc;

    if (a->list != NULL)
        return ps_err_set(err, PS_EINVAL, "list '%s' is still open", a->list);
    if (list == NULL || list[0] == '\0' || category == NULL || category[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "empty list or category name");
    if ((rc = ps_admin_query_int(a->db, "SELECT count(*) FROM categories WHERE name = ?1", category,
                                 &n, err)) < 0)
        return rc;
    *created = n == 0;
    if (n == 0) {
        if (sqlite3_prepare_v2(a->db,
                               "INSERT INTO categories (name, comment) VALUES (?1, "
                               "'created by pinsplice categories import for list ' || ?2)",
                               -1, &st, NULL) != SQLITE_OK)
            return ps_admin_db_fail(a->db, "adding a category", err);
        sqlite3_bind_text(st, 1, category, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : ps_err_set(err, PS_EINVAL, "category '%s': %s", category, sqlite3_errmsg(a->db));
        sqlite3_finalize(st);
        if (rc < 0)
            return rc;
    }
    /* The old rows all have a list, so no audit trigger (audit.sql audits rows without one)
     * would fire for them: the delete runs in bulk mode too. */
    bulk_mode(a, true);
    if (sqlite3_prepare_v2(a->db, "DELETE FROM category_domains WHERE list = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = ps_admin_db_fail(a->db, "deleting the list's old entries", err);
        bulk_mode(a, false);
        return rc;
    }
    sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? 0
             : ps_admin_db_fail(a->db, "deleting the list's old entries", err);
    sqlite3_finalize(st);
    if (rc < 0) {
        bulk_mode(a, false);
        return rc;
    }
    *removed = a->removed = sqlite3_changes64(a->db);
    if (sqlite3_prepare_v2(a->db, ins_sql, -1, &a->ins, NULL) != SQLITE_OK) {
        rc = ps_admin_db_fail(a->db, "preparing the insert", err);
        bulk_mode(a, false);
        return rc;
    }
    if ((a->list = sdup(list)) == NULL || (a->category = sdup(category)) == NULL) {
        free(a->list);
        a->list = NULL;
        bulk_mode(a, false);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    sqlite3_bind_text(a->ins, 1, a->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(a->ins, 3, a->list, -1, SQLITE_STATIC);
    return 0;
}

int
ps_admin_list_add(struct ps_admin *a, const char *domain, struct ps_err *err)
{
    int step, code;

    if (a->list == NULL)
        return ps_err_set(err, PS_EINVAL, "no list open");
    if (ps_name_check_stored(domain, err) < 0)
        return PS_EINVAL;
    sqlite3_bind_text(a->ins, 2, domain, -1, SQLITE_STATIC);
    step = sqlite3_step(a->ins);
    sqlite3_reset(a->ins);
    if (step == SQLITE_DONE)
        return sqlite3_changes(a->db) > 0 ? 0 : 1;
    code = sqlite3_errcode(a->db);
    if ((code & 0xff) == SQLITE_CONSTRAINT)
        return ps_err_set(err, PS_EINVAL, "%s", sqlite3_errmsg(a->db));
    return ps_admin_db_fail(a->db, "adding a name", err);
}

int
ps_admin_list_end(struct ps_admin *a, long long added, struct ps_err *err)
{
    static const char sql[] =
        "INSERT INTO audit_import (list, category, removed, added) VALUES (?1, ?2, ?3, ?4)";
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (a->list == NULL)
        return ps_err_set(err, PS_EINVAL, "no list open");
    bulk_mode(a, false);
    if (a->audited) {
        if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
            return ps_admin_db_fail(a->db, "writing the audit row", err);
        sqlite3_bind_text(st, 1, a->list, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->category, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a->removed);
        sqlite3_bind_int64(st, 4, added);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ps_admin_db_fail(a->db, "writing the audit row", err);
        sqlite3_finalize(st);
    }
    free(a->list);
    free(a->category);
    a->list = a->category = NULL;
    return rc;
}

/* ---- who --------------------------------------------------------------------------------------
 */

void
ps_admin_os_user(char *out, size_t size)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    const char *sudo = getenv("SUDO_USER");
    const char *name = "unknown";
    char uid[32];

    if (size == 0)
        return;
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
        name = res->pw_name;
    else {
        snprintf(uid, sizeof(uid), "uid %lu", (unsigned long)getuid());
        name = uid;
    }
    if (sudo != NULL && sudo[0] != '\0' && strcmp(sudo, name) != 0)
        snprintf(out, size, "%s (sudo by %s)", name, sudo);
    else
        snprintf(out, size, "%s", name);
}
