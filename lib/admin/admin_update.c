/*
 * Schema migrations and vendor updates (`pinsplice db update`, lib/admin/admin.h): part of the
 * write side, see lib/admin/admin.c. The merge itself is SQL text in lib/admin/vmerge.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "admin.h"
#include "admin_int.h"
#include "err.h"
#include "store.h"
#include "text.h"
#include "vmerge.h"

#define SQL_FILE_MAX (16 * 1024 * 1024) /* the shipped SQL is ~100 KB; anything this big is wrong  \
                                         */

/* ---- migrations -------------------------------------------------------------------------------
 */

/* Schema 1 -> 2: what sql/schema.sql's "v2." parts create, for a database made at version 1.
 * Kept equal to schema.sql (tests/unit/test_admin.c compares a migrated DB's tables, columns and
 * triggers with a fresh one's). Existing rules get mode 'enforce' and verify 'inherit': they mean
 * what they meant. */
static const char step_1_2[] =
    "ALTER TABLE rules ADD COLUMN mode TEXT NOT NULL DEFAULT 'enforce'"
    " CHECK (mode IN ('enforce', 'monitor'));"
    "ALTER TABLE rules ADD COLUMN verify TEXT NOT NULL DEFAULT 'inherit'"
    " CHECK (verify IN ('inherit', 'off', 'ip', 'always'));"
    "ALTER TABLE rules ADD COLUMN verify_ca_file TEXT CHECK (verify_ca_file IS NULL OR"
    " (typeof(verify_ca_file) = 'text' AND verify_ca_file GLOB '/?*' AND"
    " length(verify_ca_file) <= 4095));"
    "CREATE TABLE rule_destinations ("
    " rule_id INTEGER NOT NULL,"
    " cidr TEXT NOT NULL CHECK (length(cidr) BETWEEN 4 AND 43 AND cidr GLOB '*?/[0-9]*'"
    "  AND NOT cidr GLOB '*[^0-9a-f.:/]*'),"
    " comment TEXT,"
    " PRIMARY KEY (rule_id, cidr));"
    "CREATE TABLE rule_pins ("
    " rule_id INTEGER NOT NULL,"
    " spki_sha256 TEXT NOT NULL CHECK (length(spki_sha256) = 44 AND spki_sha256 GLOB '*[^=]='"
    "  AND NOT spki_sha256 GLOB '*[^A-Za-z0-9+/=]*'"
    "  AND NOT substr(spki_sha256, 1, 43) GLOB '*=*'),"
    " comment TEXT,"
    " PRIMARY KEY (rule_id, spki_sha256));"
    "CREATE TABLE app_destinations ("
    " app_id INTEGER NOT NULL,"
    " cidr TEXT NOT NULL CHECK (length(cidr) BETWEEN 4 AND 43 AND cidr GLOB '*?/[0-9]*'"
    "  AND NOT cidr GLOB '*[^0-9a-f.:/]*'),"
    " note TEXT,"
    " PRIMARY KEY (app_id, cidr));"
    "CREATE TRIGGER rule_destinations_rule BEFORE INSERT ON rule_destinations"
    " WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)"
    " BEGIN SELECT raise(ABORT, 'rule_destinations: no rule with this rule_id'); END;"
    "CREATE TRIGGER rule_pins_rule BEFORE INSERT ON rule_pins"
    " WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)"
    " BEGIN SELECT raise(ABORT, 'rule_pins: no rule with this rule_id'); END;"
    "CREATE TRIGGER app_destinations_app BEFORE INSERT ON app_destinations"
    " WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)"
    " BEGIN SELECT raise(ABORT, 'app_destinations: no app with this app_id'); END;"
    "DROP TRIGGER rules_delete;"
    "CREATE TRIGGER rules_delete AFTER DELETE ON rules"
    " BEGIN"
    " DELETE FROM rule_domains WHERE rule_id = OLD.id;"
    " DELETE FROM rule_programs WHERE rule_id = OLD.id;"
    " DELETE FROM rule_categories WHERE rule_id = OLD.id;"
    " DELETE FROM rule_sources WHERE rule_id = OLD.id;"
    " DELETE FROM rule_destinations WHERE rule_id = OLD.id;"
    " DELETE FROM rule_pins WHERE rule_id = OLD.id;"
    " END;"
    "DROP TRIGGER apps_delete;"
    "CREATE TRIGGER apps_delete AFTER DELETE ON apps"
    " BEGIN"
    " DELETE FROM app_domains WHERE app_id = OLD.id;"
    " DELETE FROM app_programs WHERE app_id = OLD.id;"
    " DELETE FROM app_destinations WHERE app_id = OLD.id;"
    " END;";

/* Schema 2 -> 3: what sql/schema.sql's "v3." parts create (vendor feeds: `pinsplice feed import`),
 * kept equal to schema.sql. Existing apps get feed NULL (not from a feed) and their domains
 * exact 0 (what they meant: a catalogue domain covered its subtree). */
static const char step_2_3[] =
    "ALTER TABLE apps ADD COLUMN feed TEXT;"
    "ALTER TABLE app_domains ADD COLUMN exact INTEGER NOT NULL DEFAULT 0 CHECK (exact IN (0, 1));"
    "CREATE TABLE feeds ("
    " name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = trim(name)),"
    " format TEXT NOT NULL CHECK (format IN ('m365', 'json')),"
    " source TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " imported_at TEXT NOT NULL);"
    "CREATE TABLE feed_base (feed TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL,"
    " item TEXT NOT NULL, value, PRIMARY KEY (feed, kind, owner, item)) WITHOUT ROWID;"
    "CREATE INDEX apps_feed ON apps (feed);"
    "CREATE TRIGGER apps_feed_insert BEFORE INSERT ON apps"
    " WHEN NEW.feed IS NOT NULL AND NOT EXISTS (SELECT 1 FROM feeds WHERE name = NEW.feed)"
    " BEGIN SELECT raise(ABORT, 'apps: no feed with this name (see feeds.name)'); END;"
    "CREATE TRIGGER apps_feed_update BEFORE UPDATE OF feed ON apps"
    " WHEN NEW.feed IS NOT NULL AND NOT EXISTS (SELECT 1 FROM feeds WHERE name = NEW.feed)"
    " BEGIN SELECT raise(ABORT, 'apps: no feed with this name (see feeds.name)'); END;"
    "CREATE TRIGGER feeds_name_update BEFORE UPDATE OF name ON feeds"
    " BEGIN SELECT raise(ABORT, 'feeds: name cannot change (apps.feed refers to it)'); END;"
    "CREATE TRIGGER feeds_delete AFTER DELETE ON feeds"
    " BEGIN"
    " DELETE FROM apps WHERE feed = OLD.name;"
    " DELETE FROM feed_base WHERE feed = OLD.name;"
    " END;";

/* {from, what, sql}: one step per version, in order. */
static const struct ps_admin_step steps_v[] = {
    {1, "rule mode, per-rule verify, destinations, pins", step_1_2},
    {2, "vendor feeds: feeds, feed_base, apps.feed, app_domains.exact", step_2_3},
};
#define N_STEPS_V 2

const struct ps_admin_step *
ps_admin_steps(size_t *n)
{
    *n = N_STEPS_V;
    return steps_v;
}

/* Inside the caller's transaction: run the steps from the DB's version up to target. */
static int
migrate_conn(struct ps_admin *a, const struct ps_admin_step *steps, size_t n, int target, int *from,
             struct ps_err *err)
{
    char sql[64], what[128];
    int v = 0, rc;
    size_t i, guard;

    if ((rc = ps_admin_user_version(a->db, a->path, &v, err)) < 0)
        return rc;
    if (from != NULL)
        *from = v;
    if (v > target)
        return ps_err_set(err, PS_EDB, "%s: schema version %d is newer than this build's %d",
                          a->path, v, target);
    for (guard = 0; v < target && guard <= n; guard++) {
        for (i = 0; i < n && steps[i].from != v; i++)
            ;
        if (i == n)
            return ps_err_set(err, PS_EDB, "%s: no migration from schema version %d to %d",
                              a->path, v, v + 1);
        snprintf(what, sizeof(what), "%s: migrating schema version %d to %d (%s)",
                 a->path, v, v + 1, steps[i].what != NULL ? steps[i].what : "");
        if ((rc = ps_admin_exec(a->db, steps[i].sql, what, err)) < 0)
            return rc;
        snprintf(sql, sizeof(sql), "PRAGMA main.user_version = %d", v + 1);
        if ((rc = ps_admin_exec(a->db, sql, what, err)) < 0)
            return rc;
        v++;
    }
    return 0;
}

int
ps_admin_migrate(const char *path, int busy_ms, const struct ps_admin_step *steps, size_t n,
                 int target, int *from, struct ps_err *err)
{
    struct ps_admin *a = NULL;
    int rc;

    if ((rc = ps_admin_connect(path, busy_ms, NULL, &a, err)) < 0)
        return rc;
    if ((rc = ps_admin_begin(a, err)) == 0 &&
        (rc = migrate_conn(a, steps, n, target, from, err)) == 0 &&
        (rc = ps_admin_exec(a->db, "COMMIT", "committing", err)) == 0)
        a->in_tx = false;
    ps_admin_close(a);
    return rc;
}

/* ---- vendor updates ---------------------------------------------------------------------------
 */

/* The SQL file at path, refused over SQL_FILE_MAX with this file's own message. */
static int
read_file(const char *path, char **out, struct ps_err *err)
{
    struct stat st;

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > SQL_FILE_MAX)
        return ps_err_set(err, PS_ETOOLONG, "%s: over %d bytes", path, SQL_FILE_MAX);
    return ps_file_read(path, SQL_FILE_MAX, out, NULL, err);
}

static int
exec_file(sqlite3 *db, const char *path, struct ps_err *err)
{
    char *sql = NULL;
    int rc = read_file(path, &sql, err);

    if (rc == 0)
        rc = ps_admin_exec(db, sql, path, err);
    free(sql);
    return rc;
}

/* The new vendor DB, built in memory and attached to a's connection as "v". */
static int
attach_vendor(struct ps_admin *a, const struct ps_admin_sql *sql, struct ps_err *err)
{
    const char *files[3] = {sql->schema, sql->vendor, sql->defaults};
    sqlite3 *scratch = NULL;
    unsigned char *img = NULL;
    sqlite3_int64 size = 0;
    long long v = 0;
    size_t i;
    int rc = 0;

    if (sqlite3_open_v2(":memory:", &scratch, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = ps_err_set(err, PS_ENOMEM, "cannot open an in-memory database");
        goto done;
    }
    for (i = 0; i < 3 && rc == 0; i++)
        rc = files[i] != NULL ? exec_file(scratch, files[i], err)
                              : ps_err_set(err, PS_EINVAL, "missing vendor SQL file");
    if (rc == 0 && (rc = ps_admin_query_int(scratch, "PRAGMA user_version", NULL, &v, err)) == 0 &&
        v != PS_SCHEMA_VERSION)
        rc = ps_err_set(err, PS_EDB, "%s: schema version %lld, this build writes %d", sql->schema,
                        v, PS_SCHEMA_VERSION);
    if (rc < 0)
        goto done;
    if ((img = sqlite3_serialize(scratch, "main", &size, 0)) == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "cannot copy the vendor database");
        goto done;
    }
    if ((rc = ps_admin_exec(a->db, "ATTACH ':memory:' AS v", "attaching the vendor database",
                            err)) < 0)
        goto done;
    if (sqlite3_deserialize(a->db, "v", img, size, size,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
        SQLITE_OK) {
        img = NULL; /* freed by SQLite even on failure */
        rc = ps_admin_db_fail(a->db, "loading the vendor database", err);
        goto done;
    }
    img = NULL;
done:
    sqlite3_free(img);
    sqlite3_close(scratch);
    return rc;
}

static int
count_change(struct ps_admin_update_stats *st, const char *op)
{
    if (strcmp(op, "add") == 0)
        st->added++;
    else if (strcmp(op, "remove") == 0)
        st->removed++;
    else if (strcmp(op, "update") == 0)
        st->updated++;
    else if (strcmp(op, "keep") == 0)
        st->kept++;
    else
        st->conflicts++;
    return 0;
}

static const char *
col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int
report(struct ps_admin *a, ps_admin_change_fn *fn, void *ud, struct ps_admin_update_stats *st,
       struct ps_err *err)
{
    sqlite3_stmt *q = NULL;
    int step;

    if (sqlite3_prepare_v2(a->db, ps_vmerge_report_sql, -1, &q, NULL) != SQLITE_OK)
        return ps_admin_db_fail(a->db, "reading the report", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ps_admin_change c = {col(q, 0),
                                    col(q, 1),
                                    col(q, 2),
                                    col(q, 3),
                                    col(q, 4),
                                    col(q, 5),
                                    sqlite3_column_int(q, 6) != 0,
                                    sqlite3_column_int(q, 7) != 0};
        if (c.kind == NULL || c.owner == NULL || c.item == NULL || c.op == NULL)
            continue;
        count_change(st, c.op);
        if (fn != NULL)
            fn(&c, ud);
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? 0 : ps_admin_db_fail(a->db, "reading the report", err);
}

static int
merge(struct ps_admin *a, ps_admin_change_fn *fn, void *ud, struct ps_admin_update_stats *st,
      struct ps_err *err)
{
    const struct ps_vmerge_stmt *m;
    bool audit = ps_admin_has_object(a->db, "table", "audit");
    long long has_base = 0;
    size_t i, n;
    int rc;

    if ((rc = ps_admin_query_int(a->db,
                                 "SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
                                 " AND name = 'vendor_base'",
                                 NULL, &has_base, err)) < 0)
        return rc;
    st->had_base = has_base > 0;
    m = ps_vmerge_stmts(&n);
    for (i = 0; i < n; i++) {
        char what[160];
        if (m[i].needs_audit && !audit)
            continue;
        snprintf(what, sizeof(what), "%s: %s", a->path, m[i].what);
        if ((rc = ps_admin_exec(a->db, m[i].sql, what, err)) < 0)
            return rc;
    }
    return report(a, fn, ud, st, err);
}

int
ps_admin_update(const char *path, int busy_ms, const struct ps_admin_sql *sql, const char *who,
                bool dry_run, ps_admin_change_fn *fn, void *ud, struct ps_admin_update_stats *st,
                struct ps_err *err)
{
    struct ps_admin_update_stats s;
    struct ps_admin *a = NULL;
    size_t n_steps;
    const struct ps_admin_step *steps = ps_admin_steps(&n_steps);
    int rc;

    memset(&s, 0, sizeof(s));
    if ((rc = ps_admin_connect(path, busy_ms, who, &a, err)) < 0)
        return rc;
    if ((rc = attach_vendor(a, sql, err)) < 0 || (rc = ps_admin_begin(a, err)) < 0 ||
        (rc = migrate_conn(a, steps, n_steps, PS_SCHEMA_VERSION, &s.from_version, err)) < 0)
        goto done;
    s.to_version = PS_SCHEMA_VERSION;
    if (sql->manage != NULL) {
        if ((sql->audit != NULL && (rc = exec_file(a->db, sql->audit, err)) < 0) ||
            (rc = exec_file(a->db, sql->manage, err)) < 0)
            goto done;
        s.manage_applied = true;
    }
    if ((rc = ps_admin_who_apply(a, err)) < 0 || (rc = merge(a, fn, ud, &s, err)) < 0 ||
        (rc = ps_admin_who_restore(a, err)) < 0)
        goto done;
    if (!dry_run) {
        if ((rc = ps_admin_exec(a->db, "COMMIT", "committing", err)) < 0) {
            ps_err_prefix(err, "%s", path);
            goto done;
        }
        a->in_tx = false;
    }
    if (st != NULL)
        *st = s;
done:
    ps_admin_close(a);
    return rc;
}
