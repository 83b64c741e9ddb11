/* lib/admin/catimport.c, catmap.c, catscan.c: the line parser (table-driven), the map, and whole
 * imports of real directories into real DBs built from the shipped SQL (fixture.c), also through
 * ps_catimport_db. */
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
#include "catimport.h"
#include "err.h"
#include "fixture.h"

static void
test_line(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *out; /* the name, or a fragment of the error */
    } cases[] = {
        {"example.com", 1, "example.com"},
        {"example.com\n", 1, "example.com"},
        {"Example.COM.\r\n", 1, "example.com"},
        {"  \t www.example.com \t ", 1, "www.example.com"},
        {".example.com", 1, "example.com"},
        {"example.com # a comment", 1, "example.com"},
        {"b\xc3\xbc"
         "cher.de",
         1, "xn--bcher-kva.de"},
        {"under_score.example", 1, "under_score.example"},
        {"github.io", 1, "github.io"}, /* private-section suffix: imported as listed */
        {"", 0, NULL},
        {"\n", 0, NULL},
        {"   \r\n", 0, NULL},
        {"# comment", 0, NULL},
        {"   # indented comment", 0, NULL},
        {"bad name.com", PS_EINVAL, "space"},
        {"1.2.3.4", PS_EINVAL, "IP address"},
        {"[2001:db8::1]", PS_EINVAL, "IP address"},
        {"2001:db8::1", PS_EINVAL, "IP address"},
        {"localhost", PS_EINVAL, "single label"},
        {"com", PS_EINVAL, "single label"},
        {"co.uk", PS_EINVAL, "public suffix"},
        {"foo..bar", PS_EINVAL, "empty label"},
        {"..foo.bar", PS_EINVAL, "leading dot"},
        {"-foo.bar", PS_EINVAL, "'-'"},
        {"foo.bar-", PS_EINVAL, "'-'"},
        {"foo.bar/path", PS_EINVAL, "not allowed"},
        {"%00.example", PS_EINVAL, "not allowed"},
        {"*.example.com", PS_EINVAL, "not allowed"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", PS_EINVAL, "63"},
    };
    char out[PS_NAME_MAX + 1];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ps_err err = {0, ""};
        int rc = ps_catimport_line(cases[i].in, strlen(cases[i].in), out, &err);
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, expected %d (%s)", cases[i].in, rc, cases[i].rc, err.msg);
        if (rc == 1 && strcmp(out, cases[i].out) != 0)
            fail_msg("'%s': got '%s', expected '%s'", cases[i].in, out, cases[i].out);
        if (rc < 0 && strstr(err.msg, cases[i].out) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].in, err.msg, cases[i].out);
    }
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(ps_catimport_line("example.comXYZ", 11, out, NULL), 1);
    assert_string_equal(out, "example.com");
}

static char *
tmpfile_with(const char *text)
{
    char *path = strdup("/tmp/pinsplice-unit-map-XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void
test_map(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *msg;
    } bad[] = {
        {"bank Financial Services\n", PS_EINVAL, ":1: expected 'LIST = Category'"},
        {"# ok\n\nba nk = X\n", PS_EINVAL, ":3: bad list name"},
        {"bank =\n", PS_EINVAL, ":1: category empty"},
        {"= X\n", PS_EINVAL, ":1: bad list name"},
        {"/abs = X\n", PS_EINVAL, "bad list name"},
        {"bank = A\nbank = B\n", PS_EINVAL, ":2: list 'bank' mapped twice"},
    };
    struct ps_catmap *m = NULL;
    struct ps_err err = {0, ""};
    const char *l, *c;
    char *path;
    size_t i;

    (void)state;
    assert_int_equal(ps_catmap_builtin(&m, &err), 0);
    assert_string_equal(ps_catmap_lookup(m, "bank"), "Financial Services");
    assert_string_equal(ps_catmap_lookup(m, "finance/banking"), "Financial Services");
    assert_string_equal(ps_catmap_lookup(m, "government"), "Government");
    assert_string_equal(ps_catmap_lookup(m, "medical"), "Health and Medicine");
    assert_string_equal(ps_catmap_lookup(m, "legal"), "Legal");
    assert_null(ps_catmap_lookup(m, "adult"));
    assert_null(ps_catmap_lookup(m, "Bank")); /* list names are case-sensitive, like dirs */
    assert_true(ps_catmap_size(m) >= 5);
    ps_catmap_entry(m, 0, &l, &c);
    assert_string_equal(l, "bank");
    ps_catmap_free(m);
    ps_catmap_free(NULL);

    path = tmpfile_with("# my map\n\n  bank =  Banks  # trailing comment\nfinance/x=Other\n");
    assert_int_equal(ps_catmap_load(path, &m, &err), 0);
    assert_int_equal(ps_catmap_size(m), 2);
    assert_string_equal(ps_catmap_lookup(m, "bank"), "Banks");
    assert_string_equal(ps_catmap_lookup(m, "finance/x"), "Other");
    assert_null(ps_catmap_lookup(m, "legal")); /* replaces the built-in map */
    ps_catmap_free(m);
    unlink(path);
    free(path);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = NULL;
        path = tmpfile_with(bad[i].text);
        assert_int_equal(ps_catmap_load(path, &m, &err), bad[i].rc);
        assert_null(m);
        if (strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("map '%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].msg);
        unlink(path);
        free(path);
    }
    assert_int_equal(ps_catmap_load("/nonexistent/map", &m, &err), PS_ENOENT);
}

/* ---- whole imports ----------------------------------------------------------------------------
 */

static void
put(const char *dir, const char *rel, const char *text)
{
    char path[512], *slash;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    assert_non_null(f = fopen(path, "wb"));
    fputs(text, f);
    fclose(f);
}

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

struct seen {
    char invalid[2048];
    char lists[1024];
    int progress;
};

static void
on_invalid(const char *path, long long line, const char *text, const char *why, void *ud)
{
    struct seen *s = ud;
    const char *base = strrchr(path, '/');
    size_t len = strlen(s->invalid);
    char dirbase[64];

    /* "LIST/domains:LINE:TEXT\n" */
    snprintf(dirbase, sizeof(dirbase), "%.*s", (int)(base - path), path);
    snprintf(s->invalid + len, sizeof(s->invalid) - len, "%s%s:%lld:%s\n",
             strrchr(dirbase, '/') + 1, base, line, text);
    (void)why;
}

static void
on_list(const struct ps_catimport_list *l, void *ud)
{
    struct seen *s = ud;
    size_t len = strlen(s->lists);

    snprintf(s->lists + len, sizeof(s->lists) - len, "%s=%s:%lld/%lld/%lld/%lld\n", l->list,
             l->category ? l->category : "-", l->removed, l->added, l->duplicates, l->invalid);
}

static void
on_progress(const struct ps_catimport_progress *p, void *ud)
{
    struct seen *s = ud;

    assert_true(p->bytes_done <= p->bytes_total);
    s->progress++;
}

static int
run(const char *db, const char *dir, const struct ps_catmap *map, struct seen *s,
    struct ps_catimport_stats *st, struct ps_err *err)
{
    struct ps_catimport_cb cb = {on_progress, on_invalid, on_list, s};
    struct ps_admin *a = NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    assert_int_equal(ps_admin_open(db, 1000, "unit", &a, err), 0);
    rc = ps_catimport_run(a, dir, map, &cb, st, err);
    if (rc == 0)
        assert_int_equal(ps_admin_commit(a, err), 0);
    else
        ps_admin_free(a);
    return rc;
}

static void
test_run(void **state)
{
    char dir[] = "/tmp/pinsplice-unit-bl-XXXXXX";
    char *db = fx_db(NULL, 1);
    char longline[5000];
    struct ps_catmap *map = NULL;
    struct ps_catimport_stats st;
    struct ps_err err = {0, ""};
    struct seen s;
    char cmd[600], expect[400];

    (void)state;
    assert_non_null(mkdtemp(dir));
    memset(longline, 'a', sizeof(longline) - 2);
    longline[sizeof(longline) - 2] = '\n';
    longline[sizeof(longline) - 1] = '\0';
    put(dir, "bank/domains", "# UT1 bank\n\nbank.test\nWWW.Bank.Test.\n1.2.3.4\nbank.test\n");
    put(dir, "bank/urls", "bank.test/login\n");
    put(dir, "bank/usage", "white\n");
    put(dir, "adult/domains", "adult.test\n");
    put(dir, "adult/urls", "adult.test/x\n");
    put(dir, "finance/banking/domains", "second.test\nbank.test\n");
    put(dir, "government/domains", "gov.test\n");
    put(dir, "government/urls", "");
    put(dir, "legal/domains", "");
    put(dir, "legal/more/domains", "ignored.test\n"); /* legal is a list: no deeper */
    put(dir, ".hidden/domains", "hidden.test\n");
    put(dir, "medical/domains", longline);
    assert_int_equal(ps_catmap_builtin(&map, &err), 0);

    assert_int_equal(run(db, dir, map, &s, &st, &err), 0);
    assert_string_equal(s.lists, "adult=-:0/0/0/0\n"
                                 "bank=Financial Services:0/2/1/1\n"
                                 "finance/banking=Financial Services:0/1/1/0\n"
                                 "government=Government:0/1/0/0\n"
                                 "legal=Legal:0/0/0/0\n"
                                 "medical=Health and Medicine:0/0/0/1\n");
    /* The over-long line is shown cut to 200 bytes. */
    snprintf(expect, sizeof(expect), "bank/domains:5:1.2.3.4\nmedical/domains:1:%.200s\n",
             longline);
    assert_string_equal(s.invalid, expect);
    assert_true(s.progress >= 5);
    assert_int_equal(st.lists, 5);
    assert_int_equal(st.unmapped, 1);
    assert_int_equal(st.urls_files, 3);
    assert_int_equal(st.names, 4);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.invalid, 2);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains"), 4);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE domain = 'www.bank.test'"
                           " AND list = 'bank' AND category = 'Financial Services'"),
                     1);

    /* Re-import after the list changed: its rows are replaced, other lists stay. */
    put(dir, "bank/domains", "only.test\n");
    assert_int_equal(run(db, dir, map, &s, &st, &err), 0);
    assert_non_null(strstr(s.lists, "bank=Financial Services:2/1/0/0\n"));
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list = 'bank'"), 1);
    /* bank.test was bank's; finance/banking also lists it, and now holds it. */
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE domain = 'bank.test'"
                           " AND list = 'finance/banking'"),
                     1);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE domain = 'gov.test'"), 1);

    /* Errors: a missing directory is fatal, nothing is written. */
    assert_int_equal(run(db, "/nonexistent/blacklists", map, &s, &st, &err), PS_ENOENT);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    ps_catmap_free(map);
    fx_remove(db);
}

/* ps_catimport_db: committed when a list was mapped, rolled back when none was. */
static void
test_db(void **state)
{
    char dir[] = "/tmp/pinsplice-unit-bldb-XXXXXX";
    char *db = fx_db(NULL, 1);
    struct ps_catmap *map = NULL;
    struct ps_catimport_stats st;
    struct ps_catimport_cb cb = {NULL, NULL, NULL, NULL};
    struct ps_err err = {0, ""};
    long long audit0;
    char cmd[600];

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(ps_catmap_builtin(&map, &err), 0);
    put(dir, "adult/domains", "adult.test\n");
    audit0 = q(db, "SELECT count(*) FROM audit");
    assert_int_equal(ps_catimport_db(db, 1000, "unit", dir, map, &cb, &st, &err), 0);
    assert_int_equal(st.lists, 0);
    assert_int_equal(st.unmapped, 1);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM audit"), audit0);
    put(dir, "bank/domains", "bank.test\n");
    assert_int_equal(ps_catimport_db(db, 1000, "unit", dir, map, &cb, &st, &err), 0);
    assert_int_equal(st.lists, 1);
    assert_int_equal(q(db, "SELECT count(*) FROM category_domains WHERE list = 'bank'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM audit WHERE op = 'IMPORT' AND who = 'unit'"), 1);
    assert_int_equal(ps_catimport_db("/nonexistent.db", 1000, "unit", dir, map, &cb, &st, &err),
                     PS_ENOENT);
    assert_int_equal(ps_catimport_db(db, 1000, "unit", "/nonexistent/bl", map, &cb, &st, &err),
                     PS_ENOENT);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    ps_catmap_free(map);
    fx_remove(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_run),
        cmocka_unit_test(test_db),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
