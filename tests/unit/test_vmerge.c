#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"
#include "vmerge.h"

/*
 * The vendor merge SQL of lib/vmerge.c run as lib/admin.c runs it, on DBs built here from
 * sql/schema.sql (no manage.sql: no audit trail): the target as main, the new vendor DB attached
 * as v. Each test says what the report lines are and what main holds after.
 */

static void
exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("SQL failed: %s\n%s", msg ? msg : "?", sql);
}

/* Rows of sql as "a|b|c\n" lines of the first ncols columns (NULL as "-"), into out. */
static const char *
rows(sqlite3 *db, const char *sql, int ncols, char *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    size_t len = 0;
    int i;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare failed: %s\n%s", sqlite3_errmsg(db), sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (i = 0; i < ncols && i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "|" : "", v ? v : "-");
        }
        len += (size_t)snprintf(out + len, size - len, "\n");
        assert_true(len < size);
    }
    sqlite3_finalize(st);
    return out;
}

/*
 * Merge the vendor DB at vpath into the DB at path: every statement in order (those that need
 * the audit trail skipped), then the report, in one transaction. Returns the report lines
 * "kind|owner|item|op|local|vendor" in report[size].
 */
static void
merge(const char *path, const char *vpath, char *report, size_t size)
{
    const struct ps_vmerge_stmt *m = NULL;
    sqlite3 *db = NULL;
    char attach[300];
    size_t i, n = 0;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(attach, sizeof(attach), "ATTACH '%s' AS v", vpath);
    exec(db, attach);
    exec(db, "BEGIN");
    m = ps_vmerge_stmts(&n);
    for (i = 0; i < n; i++) {
        char *msg = NULL;
        if (m[i].needs_audit)
            continue;
        if (sqlite3_exec(db, m[i].sql, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("%s: %s", m[i].what, msg ? msg : "?");
    }
    /* Columns 7 and 8 (local present, vendor present) say again what local and vendor say. */
    rows(db, ps_vmerge_report_sql, 6, report, size);
    exec(db, "COMMIT");
    sqlite3_close(db);
}

/* Four vendor rules (a domain each, Zoom in the category Video), an app and the category. */
static const char vendor_v1[] =
    "INSERT INTO categories (name, comment) VALUES ('Video', 'video calls');"
    "INSERT INTO rules (id, name, action, position, origin) VALUES"
    " (1, 'Zoom', 'splice', 10, 'vendor'), (2, 'Webex', 'splice', 20, 'vendor'),"
    " (3, 'Old', 'splice', 30, 'vendor'), (4, 'Tuned', 'splice', 40, 'vendor');"
    "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'zoom.us'), (2, 'webex.com'),"
    " (3, 'old.test'), (4, 'tuned.test');"
    "INSERT INTO rule_categories (rule_id, category) VALUES (1, 'Video');"
    "INSERT INTO apps (name, reason, origin) VALUES ('Zoom', 'pinned certificate', 'vendor');"
    "INSERT INTO app_domains (app_id, domain) VALUES (1, 'zoom.us');";

/* The main DB's rules and entries, as the merge left them. */
static const char *
state_of(const char *path, char *out, size_t size)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    rows(db,
         "SELECT r.name, r.action, r.position, r.origin, group_concat(d.domain, ' ') FROM rules r"
         " LEFT JOIN (SELECT * FROM rule_domains ORDER BY domain) d ON d.rule_id = r.id"
         " GROUP BY r.id ORDER BY r.name",
         5, out, size);
    sqlite3_close(db);
    return out;
}

static void
test_stmts(void **state)
{
    const struct ps_vmerge_stmt *m;
    size_t i, j, n = 0;

    (void)state;
    m = ps_vmerge_stmts(&n);
    assert_non_null(m);
    assert_true(n >= 10);
    for (i = 0; i < n; i++) {
        assert_non_null(m[i].what);
        assert_true(m[i].what[0] != '\0');
        assert_true(sqlite3_complete(m[i].sql));
        /* Only the statements that read the audit trail are marked, and all of them are. */
        assert_int_equal(m[i].needs_audit, strstr(m[i].sql, "main.audit") != NULL);
        for (j = 0; j < i; j++)
            assert_string_not_equal(m[i].what, m[j].what);
    }
    assert_string_equal(m[0].what, "reading the vendor items");
    assert_string_equal(m[n - 1].what, "recording the vendor baseline");
    assert_memory_equal(ps_vmerge_report_sql,
                        "SELECT kind, owner, item, op, local, vendor, lp, np ", 52);
}

/* The first update of a DB that has no vendor baseline yet: every vendor item the DB lacks is
 * added (its entries folded into its 'exists' line); local rules are left alone. */
static void
test_first_update(void **state)
{
    char *path = fx_db("INSERT INTO rules (name, action, position) VALUES ('Mine', 'bump', 5);"
                       "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'mine.test');",
                       0);
    char *vpath = fx_db(vendor_v1, 0);
    char report[4096], st[2048];
    sqlite3 *db = NULL;

    (void)state;
    merge(path, vpath, report, sizeof(report));
    assert_string_equal(report, "category|Video|exists|add|-|-\n"
                                "app|Zoom|exists|add|-|-\n"
                                "rule|Old|exists|add|-|-\n"
                                "rule|Tuned|exists|add|-|-\n"
                                "rule|Webex|exists|add|-|-\n"
                                "rule|Zoom|exists|add|-|-\n");
    assert_string_equal(state_of(path, st, sizeof(st)), "Mine|bump|5|local|mine.test\n"
                                                        "Old|splice|30|vendor|old.test\n"
                                                        "Tuned|splice|40|vendor|tuned.test\n"
                                                        "Webex|splice|20|vendor|webex.com\n"
                                                        "Zoom|splice|10|vendor|zoom.us\n");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_string_equal(rows(db,
                             "SELECT r.name, c.category FROM rule_categories c JOIN rules r"
                             " ON r.id = c.rule_id",
                             2, st, sizeof(st)),
                        "Zoom|Video\n");
    assert_string_equal(rows(db,
                             "SELECT a.name, a.origin, d.domain FROM apps a JOIN app_domains d"
                             " ON d.app_id = a.id",
                             3, st, sizeof(st)),
                        "Zoom|vendor|zoom.us\n");
    /* The baseline holds what was applied, so the next update is three-way: 4 rules x 6 fields,
     * 4 domains, 1 category entry, the app (3 fields, 1 domain) and the category (2); owners
     * Video, Zoom (rule and app), Webex, Old, Tuned. */
    assert_string_equal(
        rows(db, "SELECT count(*), count(DISTINCT owner) FROM vendor_base", 2, st, sizeof(st)),
        "35|5\n");
    sqlite3_close(db);
    /* The same vendor DB again: nothing to report. */
    merge(path, vpath, report, sizeof(report));
    assert_string_equal(report, "");
    fx_remove(path);
    fx_remove(vpath);
}

/* The vendor's next release: Zoom bumps now and has a second domain, Old and Tuned are
 * dropped, Teams is new, a rule Mine is new (the DB has a local one), Video's comment changed. */
static const char vendor_v2[] =
    "INSERT INTO categories (name, comment) VALUES ('Video', 'video conferencing');"
    "INSERT INTO rules (id, name, action, position, origin) VALUES"
    " (1, 'Zoom', 'bump', 10, 'vendor'), (2, 'Webex', 'splice', 20, 'vendor'),"
    " (5, 'Teams', 'splice', 50, 'vendor'), (6, 'Mine', 'splice', 60, 'vendor');"
    "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'zoom.us'), (1, 'zoomgov.com'),"
    " (2, 'webex.com'), (5, 'teams.test'), (6, 'mine.test');"
    "INSERT INTO rule_categories (rule_id, category) VALUES (1, 'Video');"
    "INSERT INTO apps (name, reason, origin) VALUES ('Zoom', 'pinned certificate', 'vendor');"
    "INSERT INTO app_domains (app_id, domain) VALUES (1, 'zoom.us');";

/* With a baseline, per item: what the admin left alone takes the vendor's change; what the
 * admin changed is kept (and reported); a dropped rule the admin changed is kept whole. */
static void
test_three_way(void **state)
{
    char *path = fx_db("INSERT INTO rules (name, action, position) VALUES ('Mine', 'bump', 5);", 0);
    char *v1 = fx_db(vendor_v1, 0), *v2 = fx_db(vendor_v2, 0);
    char report[4096], st[2048];

    (void)state;
    merge(path, v1, report, sizeof(report));
    fx_exec(path,
            "UPDATE rules SET position = 99 WHERE name = 'Zoom';"
            "UPDATE rules SET action = 'bump' WHERE name = 'Tuned';",
            0);
    merge(path, v2, report, sizeof(report));
    assert_string_equal(report,
                        "category|Video|comment|update|video calls|video conferencing\n"
                        "rule|Mine|exists|conflict|-|-\n" /* the local rule wins */
                        "rule|Old|exists|remove|-|-\n"
                        "rule|Teams|exists|add|-|-\n"
                        "rule|Tuned|exists|keep|-|-\n" /* dropped, but the admin changed it */
                        "rule|Tuned|action|keep|bump|-\n"
                        "rule|Tuned|comment|keep|-|-\n"
                        "rule|Tuned|enabled|keep|1|-\n"
                        "rule|Tuned|expires_at|keep|-|-\n"
                        "rule|Tuned|position|keep|40|-\n"
                        "rule_domain|Tuned|tuned.test|keep|{\"exact\":0,\"comment\":null}|-\n"
                        "rule|Zoom|action|update|splice|bump\n"
                        "rule|Zoom|position|keep|99|10\n" /* the admin's position stays */
                        "rule_domain|Zoom|zoomgov.com|add|-|{\"exact\":0,\"comment\":null}\n");
    assert_string_equal(state_of(path, st, sizeof(st)),
                        "Mine|bump|5|local|-\n"
                        "Teams|splice|50|vendor|teams.test\n"
                        "Tuned|bump|40|vendor|tuned.test\n"
                        "Webex|splice|20|vendor|webex.com\n"
                        "Zoom|bump|99|vendor|zoom.us zoomgov.com\n");
    fx_remove(path);
    fx_remove(v1);
    fx_remove(v2);
}

/* The SQL expects v attached, and the audit statements an audit table. */
static void
test_errors(void **state)
{
    char *path = fx_db(NULL, 0);
    const struct ps_vmerge_stmt *m;
    sqlite3 *db = NULL;
    size_t i, n = 0;

    (void)state;
    m = ps_vmerge_stmts(&n);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, m[0].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_memory_equal(sqlite3_errmsg(db), "no such table: v.", 17);
    sqlite3_close(db);
    for (i = 0; i < n && !m[i].needs_audit; i++)
        ;
    assert_true(i < n);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "CREATE TEMP TABLE vm_g (kind, owner, item);"
             "CREATE TEMP TABLE vm_h (fam, owner);"
             "CREATE TEMP TABLE vm_t (kind, owner, item)");
    assert_int_not_equal(sqlite3_exec(db, m[i].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_string_equal(sqlite3_errmsg(db), "no such table: main.audit");
    sqlite3_close(db);
    fx_remove(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stmts),
        cmocka_unit_test(test_first_update),
        cmocka_unit_test(test_three_way),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
