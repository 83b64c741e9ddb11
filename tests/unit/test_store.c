#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "decide.h"
#include "err.h"
#include "fixture.h"
#include "snapshot.h"
#include "store.h"

static void
write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

static void
test_load_defaults(void **state)
{
    char *db = fx_db(NULL, 1);
    struct ps_snapshot *s = NULL;
    struct ps_snapshot_stats st;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_store_load(db, 100, &s, &err), 0);
    ps_snapshot_stats(s, &st);
    assert_int_equal(st.rules, 15);
    assert_int_equal(st.category_domains, 0); /* the vendor ships no category lists */
    assert_true(st.domains >= 15);
    ps_snapshot_release(s);
    fx_remove(db);
}

static void
test_load_errors(void **state)
{
    char path[] = "/tmp/pinsplice-unit-bad-XXXXXX";
    struct ps_snapshot *s = (struct ps_snapshot *)0x1; /* must stay untouched on error */
    struct ps_err err = {0, ""};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    /* empty file: SQLite sees an empty DB, user_version 0 */
    assert_int_equal(ps_store_load(path, 100, &s, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "not a pinsplice rules database"));
    /* garbage */
    write_file(path, "this is not a database, just some text that is long enough to be a header "
                     "of a file that SQLite will refuse to read as a database file at all.....");
    assert_int_equal(ps_store_load(path, 100, &s, &err), PS_EDB);
    unlink(path);
    assert_int_equal(ps_store_load(path, 100, &s, &err), PS_ENOENT);
    assert_non_null(strstr(err.msg, path));
    assert_ptr_equal(s, (struct ps_snapshot *)0x1);
}

static void
test_load_wrong_version(void **state)
{
    char *db = fx_db("PRAGMA user_version = 99;", 0);
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_store_load(db, 100, &s, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "schema version 99"));
    fx_remove(db);
}

static void
test_load_locked(void **state)
{
    char *db = fx_db(NULL, 1);
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};
    sqlite3 *w = NULL;

    (void)state;
    assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, "BEGIN EXCLUSIVE; UPDATE rules SET enabled = 0;", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    assert_int_equal(ps_store_load(db, 50, &s, &err), PS_EBUSY);
    assert_null(s);
    sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(w);
    assert_int_equal(ps_store_load(db, 50, &s, &err), 0);
    ps_snapshot_release(s);
    fx_remove(db);
}

static void
test_load_refuses_bad_entry(void **state)
{
    /* The schema's CHECKs stop this; a DB made without them (or by an older tool) must still
     * not load half: the whole load fails and names rule and value. */
    char *db = fx_db("PRAGMA ignore_check_constraints = 1;"
                     "INSERT INTO rules(id, name) VALUES (1, 'broken');"
                     "INSERT INTO rule_domains(rule_id, domain) VALUES (1, 'zoom..us');",
                     0);
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_store_load(db, 100, &s, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "zoom..us"));
    assert_non_null(strstr(err.msg, "rule id 1"));
    fx_remove(db);
}

static void
test_create(void **state)
{
    char dir[] = "/tmp/pinsplice-unit-create-XXXXXX";
    char db[4096], good[4096], bad[4096];
    const char *files[2];
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/rules.db", dir);
    snprintf(good, sizeof(good), "%s/a.sql", dir);
    snprintf(bad, sizeof(bad), "%s/b.sql", dir);
    write_file(good, "PRAGMA user_version = 3; CREATE TABLE settings(key, value);"
                     "CREATE TABLE rules(id, name, action, enabled, position, expires_at,"
                     " mode, verify, verify_ca_file);"
                     "CREATE TABLE rule_destinations(rule_id, cidr);"
                     "CREATE TABLE rule_pins(rule_id, spki_sha256);"
                     "CREATE TABLE rule_domains(rule_id, domain, exact);"
                     "CREATE TABLE rule_programs(rule_id, program);"
                     "CREATE TABLE rule_categories(rule_id, category);"
                     "CREATE TABLE rule_sources(rule_id, source);"
                     "CREATE TABLE category_domains(category, domain);");
    write_file(bad, "INSERT INTO nosuchtable VALUES (1);");
    files[0] = good;
    files[1] = bad;
    assert_int_equal(ps_store_create(db, files, 2, false, &err), PS_EDB);
    assert_non_null(strstr(err.msg, "b.sql"));
    assert_int_equal(access(db, F_OK), -1); /* nothing left behind */
    assert_int_equal(ps_store_create(db, files, 1, false, &err), 0);
    assert_int_equal(ps_store_load(db, 100, &s, &err), 0);
    ps_snapshot_release(s);
    assert_int_equal(ps_store_create(db, files, 1, false, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "--force"));
    assert_int_equal(ps_store_create(db, files, 1, true, &err), 0);
    unlink(db);
    unlink(good);
    unlink(bad);
    rmdir(dir);
}

struct count {
    int rules, enabled, domains, categories;
    char first[128];
};

static int
count_entry(const struct ps_store_entry *e, void *ud)
{
    struct count *c = ud;

    if (strcmp(e->kind, "rule") == 0) {
        if (c->rules++ == 0)
            snprintf(c->first, sizeof(c->first), "%s", e->rule_name);
        c->enabled += e->enabled;
    } else if (strcmp(e->kind, "domain") == 0) {
        c->domains++;
    } else if (strcmp(e->kind, "category") == 0) {
        c->categories++;
    }
    return 0;
}

static void
test_foreach(void **state)
{
    char *db = fx_db(NULL, 1);
    struct count c;
    struct ps_err err = {0, ""};

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(ps_store_foreach(db, count_entry, &c, &err), 0);
    assert_int_equal(c.rules, 16);
    assert_int_equal(c.enabled, 15);
    assert_int_equal(c.categories, 4);
    assert_string_equal(c.first, "Bypass sensitive traffic - Pre-configured");
    assert_true(c.domains >= 15);
    fx_remove(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_defaults),   cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_wrong_version), cmocka_unit_test(test_load_locked),
        cmocka_unit_test(test_load_refuses_bad_entry), cmocka_unit_test(test_create),
        cmocka_unit_test(test_foreach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
