/* lib/admin/admin.c: the write side. Every test works on real SQLite DBs built from the shipped SQL
 * ($PS_SQLDIR, fixture.c), and checks the result by reading the DB back with SQL. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "admin.h"
#include "err.h"
#include "fixture.h"
#include "snapshot.h"
#include "store.h"
#include "tmpfile.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

static char *
slurp(const char *name)
{
    const char *dir = getenv("PS_SQLDIR");
    char path[4096];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "sql", name);
    assert_non_null(f = fopen(path, "rb"));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_non_null(buf = malloc((size_t)len + 1));
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static bool
have_manage(void)
{
    const char *dir = getenv("PS_SQLDIR");
    char path[4096];

    snprintf(path, sizeof(path), "%s/manage.sql", dir ? dir : "sql");
    return access(path, R_OK) == 0;
}

/* A default DB (schema, vendor, defaults), with audit.sql and manage.sql loaded after schema.sql
 * when asked and present, as `pinsplice db init` does. */
static char *
db_new(bool manage)
{
    char *db = fx_db(NULL, 0), *sql;

    if (manage && have_manage()) {
        sql = slurp("audit.sql");
        fx_exec(db, sql, 0);
        free(sql);
        sql = slurp("manage.sql");
        fx_exec(db, sql, 0);
        free(sql);
    }
    sql = slurp("vendor.sql");
    fx_exec(db, sql, 0);
    free(sql);
    sql = slurp("defaults.sql");
    fx_exec(db, sql, 0);
    free(sql);
    return db;
}

/* The first column of the first row, as an integer (-1: no row). */
static long long
q(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* ... as text in out ("" for NULL, "(none)" for no row). */
static const char *
qs(const char *db, const char *sql, char out[512])
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;

    strcpy(out, "(none)");
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, 512, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

static void
write_file(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    fputs(a, f);
    if (b != NULL)
        fputs(b, f);
    fclose(f);
}

/* A vendor SQL directory: the shipped files with extra SQL appended to vendor.sql and
 * defaults.sql (what a newer vendor release would ship). */
struct vdir {
    char dir[64];
    char schema[128], vendor[128], defaults[128];
    struct ps_admin_sql sql;
};

static void
vdir_make(struct vdir *v, const char *vendor_extra, const char *defaults_extra)
{
    char *s;

    strcpy(v->dir, "/tmp/pinsplice-vdir-XXXXXX");
    assert_non_null(mkdtemp(v->dir));
    snprintf(v->schema, sizeof(v->schema), "%s/schema.sql", v->dir);
    snprintf(v->vendor, sizeof(v->vendor), "%s/vendor.sql", v->dir);
    snprintf(v->defaults, sizeof(v->defaults), "%s/defaults.sql", v->dir);
    s = slurp("schema.sql");
    write_file(v->schema, s, NULL);
    free(s);
    s = slurp("vendor.sql");
    write_file(v->vendor, s, vendor_extra);
    free(s);
    s = slurp("defaults.sql");
    write_file(v->defaults, s, defaults_extra);
    free(s);
    v->sql.schema = v->schema;
    v->sql.vendor = v->vendor;
    v->sql.defaults = v->defaults;
    v->sql.manage = NULL;
    v->sql.audit = NULL;
}

static void
vdir_remove(struct vdir *v)
{
    unlink(v->schema);
    unlink(v->vendor);
    unlink(v->defaults);
    rmdir(v->dir);
}

/* Report lines collected as "op kind owner item" in one buffer. */
struct lines {
    char buf[8192];
    size_t len;
};

static void
collect(const struct ps_admin_change *c, void *ud)
{
    struct lines *l = ud;
    int n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s %s '%s' %s\n", c->op, c->kind,
                     c->owner, c->item);

    if (n > 0 && (size_t)n < sizeof(l->buf) - l->len)
        l->len += (size_t)n;
}

static int
update(const char *db, const struct ps_admin_sql *sql, struct lines *l,
       struct ps_admin_update_stats *st, struct ps_err *err)
{
    if (l != NULL)
        memset(l, 0, sizeof(*l));
    return ps_admin_update(db, 1000, sql, "tester", false, l != NULL ? collect : NULL, l, st, err);
}

static bool
has_line(const struct lines *l, const char *line)
{
    return strstr(l->buf, line) != NULL;
}

/* ---- open -------------------------------------------------------------------------------------
 */

static void
test_open_errors(void **state)
{
    struct ps_admin *a = NULL;
    struct ps_err err = {0, ""};
    char *db = fx_db("PRAGMA user_version = 0;", 0);
    char *db2 = fx_db("PRAGMA user_version = 7;", 0);
    char path[] = "/tmp/pinsplice-unit-garbage-XXXXXX";
    int fd = mkstemp(path);

    (void)state;
    assert_int_equal(ps_admin_open("/nonexistent/rules.db", 100, NULL, &a, &err), PS_ENOENT);
    assert_null(a);
    assert_int_equal(ps_admin_open(db, 100, NULL, &a, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "user_version 0"));
    assert_int_equal(ps_admin_open(db2, 100, NULL, &a, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "schema version 7"));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "this is not a database, not at all.............", 48), 48);
    close(fd);
    assert_int_equal(ps_admin_open(path, 100, NULL, &a, &err), PS_EDB);
    assert_int_equal(ps_admin_open("/tmp", 100, NULL, &a, &err), PS_EINVAL);
    ps_admin_free(NULL);
    unlink(path);
    fx_remove(db);
    fx_remove(db2);
}

static void
test_open_busy(void **state)
{
    char *db = db_new(false);
    struct ps_admin *a = NULL, *b = NULL;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_admin_open(db, 100, NULL, &a, &err), 0);
    assert_int_equal(ps_admin_open(db, 100, NULL, &b, &err), PS_EBUSY);
    assert_null(b);
    ps_admin_free(a);
    assert_int_equal(ps_admin_open(db, 100, NULL, &b, &err), 0);
    ps_admin_free(b);
    fx_remove(db);
}

/* ---- category lists ---------------------------------------------------------------------------
 */

static void
import(const char *db, const char *list, const char *cat, const char *const *names, size_t n,
       bool commit, long long *removed)
{
    struct ps_admin *a = NULL;
    struct ps_err err = {0, ""};
    bool created = false;
    long long added = 0;
    size_t i;

    assert_int_equal(ps_admin_open(db, 1000, "alice", &a, &err), 0);
    assert_int_equal(ps_admin_list_begin(a, list, cat, removed, &created, &err), 0);
    for (i = 0; i < n; i++)
        if (ps_admin_list_add(a, names[i], &err) == 0)
            added++;
    assert_int_equal(ps_admin_list_end(a, added, &err), 0);
    if (commit)
        assert_int_equal(ps_admin_commit(a, &err), 0);
    else
        ps_admin_free(a);
}

static void
test_list_replace(void **state)
{
    static const char *const first[] = {"bank.test", "other.test", "bank.test"};
    static const char *const second[] = {"new.test"};
    char *db = db_new(false);
    long long removed = -1;

    (void)state;
    import(db, "bank", "Financial Services", first, 3, true, &removed);
    assert_int_equal(removed, 0);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list = 'bank'"), 2);
    /* Re-import: the list's old rows go, in the same transaction as the new ones come. */
    import(db, "bank", "Financial Services", second, 1, true, &removed);
    assert_int_equal(removed, 2);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list = 'bank'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE domain = 'new.test'"), 1);
    /* Not committed: nothing happened. */
    import(db, "bank", "Financial Services", first, 3, false, &removed);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE domain = 'new.test'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains"), 1);
    fx_remove(db);
}

static void
test_list_add_results(void **state)
{
    char *db = db_new(false);
    struct ps_admin *a = NULL;
    struct ps_err err = {0, ""};
    long long removed = 0;
    bool created = false;

    (void)state;
    fx_exec(db, "INSERT INTO category_domains (category, domain) VALUES ('Legal', 'byhand.test');",
            0);
    assert_int_equal(ps_admin_open(db, 1000, NULL, &a, &err), 0);
    assert_int_equal(ps_admin_list_add(a, "x.test", &err), PS_EINVAL); /* no list open */
    assert_int_equal(ps_admin_list_end(a, 0, &err), PS_EINVAL);
    assert_int_equal(ps_admin_list_begin(a, "", "Legal", &removed, &created, &err), PS_EINVAL);
    assert_int_equal(ps_admin_list_begin(a, "legal", "Legal", &removed, &created, &err), 0);
    assert_false(created);
    assert_int_equal(ps_admin_list_begin(a, "x", "Legal", &removed, &created, &err), PS_EINVAL);
    assert_int_equal(ps_admin_list_add(a, "law.test", &err), 0);
    assert_int_equal(ps_admin_list_add(a, "law.test", &err), 1);    /* twice */
    assert_int_equal(ps_admin_list_add(a, "byhand.test", &err), 1); /* already, by hand */
    /* What the schema refuses is an error for this name only; the transaction goes on. */
    assert_int_equal(ps_admin_list_add(a, "Upper.test", &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "upper case"));
    assert_int_equal(ps_admin_list_add(a, "a..b", &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "empty label"));
    assert_int_equal(ps_admin_list_add(a, "fine.test", &err), 0);
    assert_int_equal(ps_admin_list_end(a, 2, &err), 0);
    /* A category the DB lacks is created. */
    assert_int_equal(ps_admin_list_begin(a, "adult", "Adult", &removed, &created, &err), 0);
    assert_true(created);
    assert_int_equal(ps_admin_list_add(a, "adult.test", &err), 0);
    assert_int_equal(ps_admin_list_end(a, 1, &err), 0);
    assert_int_equal(ps_admin_commit(a, &err), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list = 'legal'"), 2);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list IS NULL"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM categories WHERE name = 'Adult'"), 1);
    fx_remove(db);
}

static void
test_list_audit_who(void **state)
{
    static const char *const names[] = {"a.test", "b.test"};
    char *db;
    char buf[512];
    long long removed = 0;

    (void)state;
    if (!have_manage())
        skip();
    db = db_new(true);
    import(db, "bank", "Financial Services", names, 2, true, &removed);
    assert_string_equal(qs(db,
                           "SELECT list || '|' || category || '|' || removed || '|' || added"
                           " || '|' || who FROM audit_import",
                           buf),
                        "bank|Financial Services|0|2|alice");
    /* Rows of a list are not audited one by one. */
    assert_int_equal(q(db, "SELECT count(*) FROM audit WHERE tbl = 'category_domains'"), 1);
    /* The name lived in the import's connection only: nothing about it is stored, and the
     * next change made elsewhere (here a plain connection) records no name. */
    assert_int_equal(q(db, "SELECT count(*) FROM settings WHERE key = 'audit_who'"), 0);
    fx_exec(db, "INSERT INTO categories (name) VALUES ('Plain');", 0);
    assert_int_equal(q(db, "SELECT count(*) FROM audit WHERE tbl = 'categories' AND op = 'INSERT'"
                           " AND new ->> 'name' = 'Plain' AND who IS NULL"),
                     1);
    import(db, "bank", "Financial Services", names, 1, true, &removed);
    assert_string_equal(qs(db,
                           "SELECT removed || '|' || added FROM audit_import"
                           " ORDER BY at DESC, rowid DESC",
                           buf),
                        "2|1");
    /* A category the import creates is audited like any insert (triggers are off only for the
     * list's own rows). */
    import(db, "adult", "Adult", names, 2, true, &removed);
    assert_string_equal(qs(db,
                           "SELECT who FROM audit WHERE tbl = 'categories' AND op = 'INSERT'"
                           " AND new ->> 'name' = 'Adult'",
                           buf),
                        "alice");
    /* Nothing of the bulk mode stays in the DB: a bad row by hand is still refused. */
    assert_int_equal(fx_exec(db,
                             "INSERT INTO category_domains (category, domain) VALUES"
                             " ('Adult', 'Bad.Test')",
                             1),
                     -1);
    fx_remove(db);
}

/* ---- migrations -------------------------------------------------------------------------------
 */

static void
test_migrate(void **state)
{
    static const struct ps_admin_step steps[] = {
        {3, "add rules.owner", "ALTER TABLE rules ADD COLUMN owner TEXT;"},
        {4, "owner table",
         "CREATE TABLE owners (name TEXT PRIMARY KEY);"
         "INSERT INTO owners VALUES ('ops');"},
    };
    static const struct ps_admin_step broken[] = {
        {3, "ok", "ALTER TABLE rules ADD COLUMN owner TEXT;"},
        {4, "broken", "CREATE TABLE nope (;"},
    };
    char *db = db_new(false);
    struct ps_err err = {0, ""};
    size_t n = 99;
    int from = -1;
    const struct ps_admin_step *mine = ps_admin_steps(&n);

    (void)state;
    /* This build's steps: ordered, one up each, ending at PS_SCHEMA_VERSION. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mine[i].from, i == 0 ? 1 : mine[i - 1].from + 1);
        assert_true(mine[i].from < PS_SCHEMA_VERSION);
    }
    assert_int_equal(n, (size_t)(PS_SCHEMA_VERSION - 1));
    /* Already there. */
    assert_int_equal(ps_admin_migrate(db, 100, steps, 2, 3, &from, &err), 0);
    assert_int_equal(from, 3);
    /* A failing step: everything rolled back, the version too. */
    assert_int_equal(ps_admin_migrate(db, 100, broken, 2, 5, &from, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "version 4 to 5 (broken)"));
    assert_int_equal(q(db, "PRAGMA user_version"), 3);
    assert_int_equal(q(db, "SELECT count(*) FROM pragma_table_info('rules') WHERE name = 'owner'"),
                     0);
    /* A gap. */
    assert_int_equal(ps_admin_migrate(db, 100, steps, 1, 5, &from, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "no migration from schema version 4"));
    assert_int_equal(q(db, "PRAGMA user_version"), 3);
    /* 3 -> 5 in one go. */
    assert_int_equal(ps_admin_migrate(db, 100, steps, 2, 5, &from, &err), 0);
    assert_int_equal(from, 3);
    assert_int_equal(q(db, "PRAGMA user_version"), 5);
    assert_int_equal(q(db, "SELECT count(*) FROM owners"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM rules"), 16); /* the data is still there */
    /* Newer than the target. */
    assert_int_equal(ps_admin_migrate(db, 100, steps, 2, 4, &from, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "newer"));
    fx_remove(db);
    db = fx_db("PRAGMA user_version = 0;", 0);
    assert_int_equal(ps_admin_migrate(db, 100, steps, 2, 5, &from, &err), PS_EDB);
    fx_remove(db);
}

/* The describing text of a DB's schema: every table's columns (name, type, not null, default,
 * key), every index and trigger name, one line each, sorted. Trigger and CHECK texts differ in
 * layout between schema.sql and an ALTER TABLE, so they are compared by behaviour below. */
static char *
describe(const char *path)
{
    static const char sql[] =
        "SELECT group_concat(l, char(10)) FROM (SELECT l FROM ("
        " SELECT m.type || ' ' || m.name || ' ' || coalesce(p.name, '') || ' ' ||"
        "  coalesce(p.type, '') || ' ' || coalesce(p.\"notnull\", '') || ' ' ||"
        "  coalesce(p.dflt_value, '') || ' ' || coalesce(p.pk, '') AS l"
        " FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p ON m.type = 'table'"
        " WHERE m.name NOT LIKE 'sqlite_%') ORDER BY l)";
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_non_null(out = strdup((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* This build's steps 1 -> 2 -> 3 on a DB made by the version 1 schema (tests/fixtures/schema-v1.sql,
 * sql/schema.sql as it was) keeps every row and ends with what sql/schema.sql makes now. */
static void
test_migrate_v1(void **state)
{
    const char *src = getenv("PS_SRCDIR");
    char v1path[4096], *v1, *sql, *fresh, *old, *a, *b;
    FILE *f;
    long len;
    size_t n;
    int from = -1;
    struct ps_err err = {0, ""};
    const struct ps_admin_step *mine = ps_admin_steps(&n);
    struct ps_snapshot *snap = NULL;

    (void)state;
    snprintf(v1path, sizeof(v1path), "%s/tests/fixtures/schema-v1.sql", src ? src : ".");
    assert_non_null(f = fopen(v1path, "rb"));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_non_null(v1 = malloc((size_t)len + 1));
    assert_int_equal(fread(v1, 1, (size_t)len, f), (size_t)len);
    v1[len] = '\0';
    fclose(f);
    /* a v1 DB with data: the vendor catalogue and default rules (they need no v2 table) */
    old = fx_db("SELECT 1;", 0);
    fx_exec(old, "DROP TABLE settings; DROP TABLE rules; DROP TABLE rule_domains;"
                 "DROP TABLE rule_programs; DROP TABLE rule_categories; DROP TABLE rule_sources;"
                 "DROP TABLE apps; DROP TABLE app_domains; DROP TABLE app_programs;"
                 "DROP TABLE categories; DROP TABLE category_domains;"
                 "DROP TABLE rule_destinations; DROP TABLE rule_pins; DROP TABLE app_destinations;"
                 "DROP TABLE feeds; DROP TABLE feed_base;",
            0);
    fx_exec(old, v1, 0);
    free(v1);
    assert_int_equal(q(old, "PRAGMA user_version"), 1);
    sql = slurp("vendor.sql");
    fx_exec(old, sql, 0);
    free(sql);
    sql = slurp("defaults.sql");
    fx_exec(old, sql, 0);
    free(sql);
    long long rules = q(old, "SELECT count(*) FROM rules"), doms = q(old, "SELECT count(*) FROM rule_domains");
    assert_true(rules > 5);
    assert_int_equal(ps_admin_migrate(old, 100, mine, n, PS_SCHEMA_VERSION, &from, &err), 0);
    assert_int_equal(from, 1);
    assert_int_equal(q(old, "PRAGMA user_version"), PS_SCHEMA_VERSION);
    assert_int_equal(q(old, "SELECT count(*) FROM rules"), rules);
    assert_int_equal(q(old, "SELECT count(*) FROM apps WHERE feed IS NULL"),
                     q(old, "SELECT count(*) FROM apps"));
    assert_int_equal(q(old, "SELECT count(*) FROM app_domains WHERE exact = 0"),
                     q(old, "SELECT count(*) FROM app_domains"));
    assert_int_equal(q(old, "SELECT count(*) FROM rule_domains"), doms);
    assert_int_equal(q(old, "SELECT count(*) FROM rules WHERE mode = 'enforce' AND verify = 'inherit'"
                            " AND verify_ca_file IS NULL"), rules);
    fresh = db_new(false);
    a = describe(old);
    b = describe(fresh);
    if (strcmp(a, b) != 0)
        fail_msg("migrated schema differs from sql/schema.sql:\n--- migrated\n%s\n--- fresh\n%s", a, b);
    free(a);
    free(b);
    /* the same CHECKs and triggers, by behaviour */
    {
        static const char *const bad[] = {
            "UPDATE rules SET mode = 'watch' WHERE id = 1",
            "UPDATE rules SET verify = 'yes' WHERE id = 1",
            "UPDATE rules SET verify_ca_file = 'rel.pem' WHERE id = 1",
            "INSERT INTO rule_destinations (rule_id, cidr) VALUES (9999, '10.0.0.0/8')",
            "INSERT INTO rule_destinations (rule_id, cidr) VALUES (1, '10.0.0.0')",
            "INSERT INTO rule_pins (rule_id, spki_sha256) VALUES (1, 'abc')",
            "INSERT INTO app_destinations (app_id, cidr) VALUES (99999, '10.0.0.0/8')",
            "INSERT INTO apps (name, feed) VALUES ('x', 'no such feed')",
            "UPDATE apps SET feed = 'no such feed' WHERE id = 2",
            "UPDATE app_domains SET exact = 2 WHERE id = (SELECT min(id) FROM app_domains)",
            "INSERT INTO feeds (name, format, source, version, imported_at) VALUES"
            " ('f', 'csv', 's', 'v', 't')",
        };
        const char *dbs[2] = {old, fresh};
        for (int d = 0; d < 2; d++)
            for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (fx_exec(dbs[d], bad[i], 1) == 0)
                    fail_msg("%s: accepted: %s", d ? "fresh" : "migrated", bad[i]);
        for (int d = 0; d < 2; d++) {
            fx_exec(dbs[d], "INSERT INTO rule_destinations (rule_id, cidr) VALUES (1, '10.0.0.0/8');"
                            "INSERT INTO rule_pins (rule_id, spki_sha256) VALUES"
                            " (1, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');"
                            "DELETE FROM rules WHERE id = 1;"
                            "INSERT INTO feeds (name, format, source, version, imported_at) VALUES"
                            " ('f', 'json', 's', 'v', 't');"
                            "INSERT INTO apps (name, feed) VALUES ('fa', 'f');"
                            "INSERT INTO app_domains (app_id, domain, exact) SELECT id, 'fa.test', 1"
                            " FROM apps WHERE name = 'fa';"
                            "DELETE FROM feeds WHERE name = 'f';", 0);
            assert_int_equal(q(dbs[d], "SELECT count(*) FROM apps WHERE name = 'fa'"), 0);
            assert_int_equal(q(dbs[d], "SELECT count(*) FROM app_domains WHERE domain = 'fa.test'"), 0);
            assert_int_equal(q(dbs[d], "SELECT count(*) FROM rule_destinations"), 0);
            assert_int_equal(q(dbs[d], "SELECT count(*) FROM rule_pins"), 0);
        }
    }
    assert_int_equal(ps_store_load(old, 100, &snap, &err), 0);
    ps_snapshot_release(snap);
    fx_remove(fresh);
    fx_remove(old);
}

/* ---- vendor updates ---------------------------------------------------------------------------
 */

static const char v2_vendor[] =
    "INSERT INTO apps (id, name, note, origin) VALUES (21, 'NewApp', 'new in v2', 'vendor');\n"
    "INSERT INTO app_domains (app_id, domain) VALUES (21, 'newapp.test'), (20, 'zoomgov.com');\n"
    "DELETE FROM app_domains WHERE app_id = 2 AND domain = 'xp.apple.com';\n";
static const char v2_defaults[] =
    "INSERT INTO rules (id, name, action, enabled, position, origin) VALUES\n"
    " (17, 'Bypass NewApp - Pre-configured', 'splice', 1, 170, 'vendor');\n"
    "INSERT INTO rule_domains (rule_id, domain) VALUES (17, 'newapp.test'), (14, 'zoom.com');\n"
    "DELETE FROM rule_domains WHERE rule_id = 12 AND domain = 'music.apple.com';\n"
    "UPDATE rules SET action = 'bump' WHERE id = 16;\n"
    "UPDATE rules SET comment = 'v2' WHERE id = 13;\n"
    "INSERT INTO categories (name) VALUES ('Education');\n"
    "INSERT INTO settings (key, value) VALUES ('new_setting', 'x');\n";

/* What an admin typically does to a fresh DB. */
static const char admin_edits[] =
    "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured';"
    "UPDATE rules SET action = 'bump' WHERE name = 'Bypass Dropbox - Pre-configured';"
    "DELETE FROM rule_domains WHERE domain = 'mzstatic.com';"
    "INSERT INTO rules (name) VALUES ('Local');"
    "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'intranet.test' FROM rules"
    " WHERE name = 'Local';"
    "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'mine.test' FROM rules"
    " WHERE name = 'Bypass Webex - Pre-configured';";

static void
check_local_decisions(const char *db)
{
    char buf[512];

    assert_int_equal(q(db, "SELECT enabled FROM rules WHERE name = 'Bypass Zoom - Pre-configured'"),
                     0);
    assert_string_equal(qs(db,
                           "SELECT action FROM rules WHERE name = "
                           "'Bypass Dropbox - Pre-configured'",
                           buf),
                        "bump");
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'mzstatic.com'"), 0);
    assert_string_equal(qs(db,
                           "SELECT group_concat(d.domain) FROM rules r JOIN rule_domains d"
                           " ON d.rule_id = r.id WHERE r.name = 'Local'",
                           buf),
                        "intranet.test");
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'mine.test'"), 1);
}

static void
check_new_data(const char *db)
{
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE name = 'NewApp'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM app_domains WHERE domain = 'zoomgov.com'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM rules r JOIN rule_domains d ON d.rule_id = r.id"
                           " WHERE r.name = 'Bypass NewApp - Pre-configured' AND r.enabled = 1"
                           " AND r.origin = 'vendor' AND r.position = 170"
                           " AND d.domain = 'newapp.test'"),
                     1);
    assert_int_equal(q(db, "SELECT count(*) FROM rules r JOIN rule_domains d ON d.rule_id = r.id"
                           " WHERE r.name = 'Bypass Zoom - Pre-configured'"
                           " AND d.domain = 'zoom.com'"),
                     1);
    assert_int_equal(q(db, "SELECT count(*) FROM categories WHERE name = 'Education'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM settings WHERE key = 'new_setting'"), 1);
}

/* With a baseline (an update right after creation), the merge is three-way. */
static void
test_update_with_base(void **state)
{
    char *db = db_new(false);
    struct ps_admin_sql cur = {NULL, NULL, NULL, NULL, NULL};
    struct ps_admin_update_stats st;
    struct ps_err err = {0, ""};
    struct lines l;
    struct vdir v0, v2;
    char buf[512];

    (void)state;
    vdir_make(&v0, "", "");
    vdir_make(&v2, v2_vendor, v2_defaults);
    cur = v0.sql;
    assert_int_equal(update(db, &cur, &l, &st, &err), 0);
    assert_false(st.had_base);
    assert_int_equal(st.added + st.removed + st.updated + st.kept + st.conflicts, 0);
    assert_int_equal(q(db, "SELECT count(*) > 100 FROM vendor_base"), 1);
    fx_exec(db, admin_edits, 0);
    assert_int_equal(update(db, &v2.sql, &l, &st, &err), 0);
    assert_true(st.had_base);
    check_local_decisions(db);
    check_new_data(db);
    /* Untouched vendor items follow the vendor: removals, changes. */
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'music.apple.com'"),
                     0);
    assert_int_equal(q(db, "SELECT count(*) FROM app_domains WHERE domain = 'xp.apple.com'"), 0);
    assert_string_equal(qs(db,
                           "SELECT action FROM rules WHERE name = "
                           "'Bypass Spotify - Pre-configured'",
                           buf),
                        "bump");
    assert_string_equal(qs(db,
                           "SELECT comment FROM rules WHERE name = "
                           "'Bypass Bitdefender services - Pre-configured'",
                           buf),
                        "v2");
    assert_true(has_line(&l, "keep rule 'Bypass Zoom - Pre-configured' enabled\n"));
    assert_true(has_line(&l, "keep rule 'Bypass Dropbox - Pre-configured' action\n"));
    assert_true(has_line(&l, "keep rule_domain 'Bypass Apple services - Pre-configured' mzstatic"));
    assert_true(has_line(&l, "add rule 'Bypass NewApp - Pre-configured' exists\n"));
    assert_true(has_line(&l, "remove rule_domain 'Bypass Apple services - Pre-configured' music"));
    assert_true(has_line(&l, "add setting 'new_setting' exists\n"));
    /* Entries of a rule added whole are folded into its line. */
    assert_false(has_line(&l, "rule_domain 'Bypass NewApp - Pre-configured'"));
    /* Idempotent: the same vendor set again changes nothing and reports only kept values. */
    assert_int_equal(update(db, &v2.sql, &l, &st, &err), 0);
    assert_int_equal(st.added + st.removed + st.updated + st.conflicts, 0);
    assert_int_equal(st.kept, 3);
    check_local_decisions(db);
    vdir_remove(&v0);
    vdir_remove(&v2);
    fx_remove(db);
}

/* Without a baseline: nothing the DB holds is lost; with the audit trail, the admin's deletions
 * are not resurrected and untouched values are refreshed. */
static void
test_update_bootstrap(void **state)
{
    char *db = db_new(true);
    struct ps_admin_update_stats st;
    struct ps_err err = {0, ""};
    struct lines l;
    struct vdir v2;
    char buf[512];

    (void)state;
    vdir_make(&v2, v2_vendor, v2_defaults);
    fx_exec(db, admin_edits, 0);
    assert_int_equal(update(db, &v2.sql, &l, &st, &err), 0);
    assert_false(st.had_base);
    check_local_decisions(db);
    check_new_data(db);
    /* What the vendor dropped is not removed without a baseline. */
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'music.apple.com'"),
                     1);
    if (have_manage())
        assert_string_equal(qs(db,
                               "SELECT action FROM rules WHERE name = "
                               "'Bypass Spotify - Pre-configured'",
                               buf),
                            "bump");
    else
        assert_string_equal(qs(db,
                               "SELECT action FROM rules WHERE name = "
                               "'Bypass Spotify - Pre-configured'",
                               buf),
                            "splice");
    if (have_manage()) {
        /* The update's own changes are audited under the name given. */
        assert_int_equal(q(db, "SELECT count(*) > 0 FROM audit WHERE who = 'tester'"), 1);
        assert_int_equal(q(db, "SELECT count(*) FROM audit WHERE who IS NOT 'tester'"
                               " AND id > (SELECT min(id) FROM audit WHERE who = 'tester')"),
                         0);
        assert_int_equal(q(db, "SELECT count(*) FROM settings WHERE key = 'audit_who'"), 0);
    }
    vdir_remove(&v2);
    fx_remove(db);
}

static void
test_update_conflicts_and_drops(void **state)
{
    char *db = db_new(false);
    struct ps_admin_update_stats st;
    struct ps_err err = {0, ""};
    struct lines l;
    struct vdir v0, v3;
    char buf[512];

    (void)state;
    vdir_make(&v0, "", "");
    /* v3 drops two default rules and adds one whose name a local rule already has. */
    vdir_make(&v3, "",
              "DELETE FROM rules WHERE id IN (15, 16);"
              "INSERT INTO rules (id, name, origin) VALUES (17, 'Mine', 'vendor');"
              "INSERT INTO rule_domains (rule_id, domain) VALUES (17, 'vendor.test');");
    assert_int_equal(update(db, &v0.sql, NULL, &st, &err), 0);
    fx_exec(db,
            "INSERT INTO rules (name, action) VALUES ('Mine', 'bump');"
            "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'mine.test' FROM rules"
            " WHERE name = 'Mine';"
            "UPDATE rules SET position = 5 WHERE name = 'Bypass Webex - Pre-configured';",
            0);
    assert_int_equal(update(db, &v3.sql, &l, &st, &err), 0);
    /* Spotify: untouched, dropped by the vendor: removed. Webex: moved by the admin: kept. */
    assert_int_equal(q(db, "SELECT count(*) FROM rules WHERE name = "
                           "'Bypass Spotify - Pre-configured'"),
                     0);
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'spotify.com'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM rules r JOIN rule_domains d ON d.rule_id = r.id"
                           " WHERE r.name = 'Bypass Webex - Pre-configured'"
                           " AND d.domain = 'webex.com' AND r.position = 5"),
                     1);
    assert_true(has_line(&l, "remove rule 'Bypass Spotify - Pre-configured' exists\n"));
    assert_true(has_line(&l, "keep rule 'Bypass Webex - Pre-configured' exists\n"));
    /* The local 'Mine' is untouched; the conflict is reported. */
    assert_string_equal(qs(db,
                           "SELECT action || '|' || origin || '|' || (SELECT group_concat("
                           "domain) FROM rule_domains WHERE rule_id = rules.id) FROM rules"
                           " WHERE name = 'Mine'",
                           buf),
                        "bump|local|mine.test");
    assert_int_equal(q(db, "SELECT count(*) FROM rule_domains WHERE domain = 'vendor.test'"), 0);
    assert_true(has_line(&l, "conflict rule 'Mine' exists\n"));
    assert_int_equal(st.conflicts, 1);
    vdir_remove(&v0);
    vdir_remove(&v3);
    fx_remove(db);
}

static void
test_update_errors(void **state)
{
    char *db = db_new(false);
    struct ps_admin_update_stats st;
    struct ps_err err = {0, ""};
    struct vdir bad, v2;
    struct ps_admin_sql missing;
    struct ps_admin *a = NULL;
    char buf[512];

    (void)state;
    vdir_make(&bad, "INSERT INTO nonsense VALUES (1);", "");
    vdir_make(&v2, v2_vendor, v2_defaults);
    /* Broken vendor SQL: the file is named, the DB is unchanged. */
    assert_int_equal(update(db, &bad.sql, NULL, &st, &err), PS_EDB);
    assert_non_null(strstr(err.msg, bad.vendor));
    assert_int_equal(q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'vendor_base'"), 0);
    /* A missing file. */
    missing = v2.sql;
    missing.defaults = "/nonexistent/defaults.sql";
    assert_int_equal(update(db, &missing, NULL, &st, &err), PS_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/defaults.sql"));
    /* Dry run: reported, not written. */
    assert_int_equal(ps_admin_update(db, 100, &v2.sql, NULL, true, NULL, NULL, &st, &err), 0);
    assert_true(st.added > 0);
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE name = 'NewApp'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'vendor_base'"), 0);
    /* Locked by another writer. */
    assert_int_equal(ps_admin_open(db, 100, NULL, &a, &err), 0);
    assert_int_equal(update(db, &v2.sql, NULL, &st, &err), PS_EBUSY);
    ps_admin_free(a);
    /* A DB from the future. */
    fx_exec(db, "PRAGMA user_version = 9;", 0);
    assert_int_equal(update(db, &v2.sql, NULL, &st, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "newer"));
    assert_string_equal(qs(db, "SELECT count(*) FROM apps", buf), "20");
    vdir_remove(&bad);
    vdir_remove(&v2);
    fx_remove(db);
}

/* audit.sql and manage.sql applied by an update to a DB that lacks them. */
static void
test_update_applies_manage(void **state)
{
    char *db;
    struct ps_admin_update_stats st;
    struct ps_err err = {0, ""};
    struct vdir v0;
    char manage[4096], audit[4096];
    const char *dir = getenv("PS_SQLDIR");

    (void)state;
    if (!have_manage())
        skip();
    db = db_new(false);
    vdir_make(&v0, "", "");
    snprintf(manage, sizeof(manage), "%s/manage.sql", dir ? dir : "sql");
    v0.sql.manage = manage;
    snprintf(audit, sizeof(audit), "%s/audit.sql", dir ? dir : "sql");
    v0.sql.audit = audit;
    assert_int_equal(q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 0);
    assert_int_equal(update(db, &v0.sql, NULL, &st, &err), 0);
    assert_true(st.manage_applied);
    assert_int_equal(q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'rule_overview'"), 1);
    /* ... and again (it is re-runnable). */
    assert_int_equal(update(db, &v0.sql, NULL, &st, &err), 0);
    vdir_remove(&v0);
    fx_remove(db);
}

/* ---- publish ----------------------------------------------------------------------------------
 */

static void
test_publish(void **state)
{
    char *src = db_new(false);
    char dst[] = "/tmp/pinsplice-unit-pub-XXXXXX";
    char path[128], tmp[512];
    struct ps_err err = {0, ""};
    struct ps_snapshot *s = NULL;
    struct ps_snapshot_stats ss;
    struct stat a, b;
    long long bytes = 0;

    (void)state;
    assert_non_null(mkdtemp(dst));
    snprintf(path, sizeof(path), "%s/rules.db", dst);
    fx_exec(src, "PRAGMA journal_mode = WAL; UPDATE rules SET enabled = 0 WHERE id = 14;", 0);
    assert_int_equal(ps_admin_publish(src, path, 100, &bytes, &err), 0);
    assert_true(bytes > 0);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_mode & 0777, 0644);
    assert_string_equal(qs(path, "PRAGMA journal_mode", tmp), "delete"); /* src is WAL */
    assert_int_equal(ps_store_load(path, 100, &s, &err), 0);
    ps_snapshot_stats(s, &ss);
    assert_int_equal(ss.rules, 14);
    ps_snapshot_release(s);
    /* Again: a new inode (what readers notice), no temporary file left. */
    assert_int_equal(ps_admin_publish(src, path, 100, NULL, &err), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    snprintf(tmp, sizeof(tmp), "%s.publish-%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* Refusals. */
    assert_int_equal(ps_admin_publish(src, src, 100, NULL, &err), PS_EINVAL);
    assert_int_equal(ps_admin_publish(src, dst, 100, NULL, &err), PS_EINVAL);
    assert_int_equal(ps_admin_publish("/nonexistent.db", path, 100, NULL, &err), PS_ENOENT);
    assert_int_not_equal(ps_admin_publish(src, "/nonexistent-dir/x.db", 100, NULL, &err), 0);
    /* A DB the helper would refuse is not published; dst keeps the last good copy. */
    fx_exec(src,
            "PRAGMA ignore_check_constraints = 1;"
            "UPDATE rule_domains SET domain = 'bad domain' WHERE domain = 'adobe.com';",
            0);
    assert_int_equal(ps_admin_publish(src, path, 100, NULL, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "does not load"));
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_not_equal(access(tmp, F_OK), 0);
    unlink(path);
    rmdir(dst);
    /* A read-only connection (the copy's) cannot remove a WAL database's side files. */
    snprintf(tmp, sizeof(tmp), "%s-wal", src);
    unlink(tmp);
    snprintf(tmp, sizeof(tmp), "%s-shm", src);
    unlink(tmp);
    fx_remove(src);
}

/* db init: the directories made, the DB built aside and renamed, the baseline recorded; an
 * existing DB refused without force and kept when a step fails. */
static void
test_db_init(void **state)
{
    const char *sqldir = getenv("PS_SQLDIR");
    char dir[] = "/tmp/pinsplice-unit-init-XXXXXX";
    char path[128], file[256], tmp[512];
    struct ps_admin_init in;
    struct ps_admin_init_stats st = {0, 0};
    struct ps_err err = {0, ""};
    struct stat a, b;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a/b/rules.db", dir);
    in.path = path;
    in.sql_dir = sqldir != NULL ? sqldir : "sql";
    in.force = false;
    in.busy_ms = 100;
    assert_int_equal(ps_admin_db_init(&in, &st, &err), 0);
    assert_true(st.rules > 0 && st.domains > 0);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_mode & 0777, 0644);
    snprintf(file, sizeof(file), "%s/a/b", dir);
    assert_int_equal(stat(file, &b), 0);
    assert_int_equal(b.st_mode & 0777, 0755);
    assert_true(q(path, "SELECT count(*) FROM vendor_base") > 0);
    if (have_manage())
        assert_int_equal(q(path, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 1);
    /* Exists: refused, untouched; with force: replaced by a new file. */
    assert_int_equal(ps_admin_db_init(&in, NULL, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "exists (use --force to replace it)"));
    assert_int_equal(stat(path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    in.force = true;
    assert_int_equal(ps_admin_db_init(&in, NULL, &err), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    /* A missing SQL file: the existing DB is kept, no temporary file left. */
    in.sql_dir = "/nonexistent-sql";
    assert_int_equal(ps_admin_db_init(&in, NULL, &err), PS_ENOENT);
    snprintf(tmp, sizeof(tmp), "/nonexistent-sql/schema.sql: No such file or directory "
                               "(PINSPLICE_SQLDIR names the SQL directory)");
    assert_string_equal(err.msg, tmp);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    /* Bad SQL: ps_store_create fails, the DB stays, the directory holds only it. */
    snprintf(file, sizeof(file), "%s/sql", dir);
    assert_int_equal(mkdir(file, 0755), 0);
    {
        static const char *const names[] = {"schema.sql", "manage.sql", "vendor.sql",
                                            "defaults.sql"};
        size_t i;
        for (i = 0; i < 4; i++) {
            snprintf(tmp, sizeof(tmp), "%s/%s", file, names[i]);
            write_file(tmp, i == 2 ? "this is not SQL;" : "SELECT 1;", NULL);
        }
    }
    in.sql_dir = file;
    assert_true(ps_admin_db_init(&in, NULL, &err) < 0);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    snprintf(tmp, sizeof(tmp), "%s/a/b", dir);
    {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", tmp);
        assert_int_equal(system(cmd), 0);
    }
    /* A parent that is a file (the DB itself); an empty path. */
    in.sql_dir = sqldir != NULL ? sqldir : "sql";
    snprintf(tmp, sizeof(tmp), "%s/x.db", path);
    in.path = tmp;
    assert_int_equal(ps_admin_db_init(&in, NULL, &err), PS_EINVAL);
    snprintf(file, sizeof(file), "%s: not a directory", path);
    assert_string_equal(err.msg, file);
    in.path = "";
    assert_int_equal(ps_admin_db_init(&in, NULL, &err), PS_EINVAL);
    assert_string_equal(err.msg, "empty database path");
    snprintf(tmp, sizeof(tmp), "rm -rf %s", dir);
    assert_int_equal(system(tmp), 0);
}

static void
test_os_user(void **state)
{
    char who[64];

    (void)state;
    ps_admin_os_user(who, sizeof(who));
    assert_true(who[0] != '\0');
    setenv("SUDO_USER", "alice-unit", 1);
    ps_admin_os_user(who, sizeof(who));
    assert_non_null(strstr(who, "(sudo by alice-unit)"));
    unsetenv("SUDO_USER");
    ps_admin_os_user(who, 4);
    assert_int_equal(strlen(who), 3);
}

/* Issue 12 item 12: temporary files beside a DB are made by mkstemp (unpredictable, O_EXCL,
 * 0600), never a PATH.publish-PID name that someone could plant a symlink at. */
static void
test_tmpfile(void **state)
{
    char dir[] = "/tmp/ps-tmpfile-XXXXXX", path[256], a[300], b[300], longp[5000];
    struct stat st;
    struct ps_err err = {0, ""};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rules.db", dir);
    assert_int_equal(ps_tmpfile_create(path, "publish", a, sizeof(a), &err), 0);
    assert_int_equal(ps_tmpfile_create(path, "publish", b, sizeof(b), &err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, path, strlen(path)), 0);
    assert_non_null(strstr(a, ".publish-"));
    assert_int_equal(lstat(a, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 0);
    unlink(a);
    unlink(b);
    memset(longp, 'x', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(ps_tmpfile_create(longp, "new", a, sizeof(a), &err), PS_ETOOLONG);
    assert_string_equal(a, "");
    snprintf(path, sizeof(path), "%s/no-such-dir/rules.db", dir);
    assert_int_equal(ps_tmpfile_create(path, "new", a, sizeof(a), &err), PS_EIO);
    assert_non_null(strstr(err.msg, "no-such-dir"));
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_busy),
        cmocka_unit_test(test_list_replace),
        cmocka_unit_test(test_list_add_results),
        cmocka_unit_test(test_list_audit_who),
        cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_update_with_base),
        cmocka_unit_test(test_update_bootstrap),
        cmocka_unit_test(test_update_conflicts_and_drops),
        cmocka_unit_test(test_update_errors),
        cmocka_unit_test(test_update_applies_manage),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_db_init),
        cmocka_unit_test(test_tmpfile),
        cmocka_unit_test(test_os_user),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
