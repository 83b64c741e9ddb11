/* lib/admin/lint*.c: `pinsplice db check`. Entry checks are table-driven (entries fed directly, as
 * ps_store_foreach would); duplicates, shadowing, expiry and loading run on real SQLite DBs built
 * from the shipped schema (fixture.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "fixture.h"
#include "keytab.h"
#include "lint.h"
#include "store.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static void
add_rule(struct ps_lint *l, long long id, const char *name, bool enabled)
{
    struct ps_store_entry e = {"rule", id, name, enabled, NULL, false, NULL, id * 10};

    assert_int_equal(ps_lint_add(l, &e, NULL), 0);
}

static void
add_entry(struct ps_lint *l, long long id, const char *kind, const char *value, bool exact,
          const char *os)
{
    struct ps_store_entry e = {kind, id, "", true, value, exact, os, id * 10};

    assert_int_equal(ps_lint_add(l, &e, NULL), 0);
}

/* "check:value" of every finding, ';'-separated, in order: one string to compare. */
static void
summary(const struct ps_lint *l, char *out, size_t size)
{
    const struct ps_lint_finding *f;
    size_t i, n = 0;

    out[0] = '\0';
    for (i = 0; i < ps_lint_count(l); i++) {
        f = ps_lint_get(l, i);
        n += (size_t)snprintf(out + n, size - n, "%s%s:%s:%s", i ? ";" : "", f->check,
                              f->severity == PS_LINT_ERROR ? "E" : "W",
                              f->value ? f->value : (f->rule ? f->rule : "-"));
        assert_true(n < size);
    }
}

/* Run ps_lint_db on a DB made from the schema (+ defaults) and extra SQL. */
static struct ps_lint *
lint_sql(const char *sql, int with_defaults)
{
    char *db = fx_db(sql, with_defaults);
    struct ps_lint *l = NULL;
    struct ps_err err = {0, ""};

    if (ps_lint_db(db, 100, &l, &err) != 0)
        fail_msg("ps_lint_db: %s", err.msg);
    fx_remove(db);
    return l;
}

static const struct ps_lint_finding *
find(const struct ps_lint *l, const char *check, const char *value)
{
    const struct ps_lint_finding *f;
    size_t i;

    for (i = 0; i < ps_lint_count(l); i++) {
        f = ps_lint_get(l, i);
        if (strcmp(f->check, check) == 0 &&
            (value == NULL || (f->value && !strcmp(f->value, value))))
            return f;
    }
    fail_msg("no finding %s for '%s'", check, value ? value : "-");
    return NULL;
}

/* ---- entry checks, table-driven ----------------------------------------------------------- */

struct entry_case {
    const char *kind, *value;
    bool exact;
    const char *check;   /* expected finding, NULL: none */
    const char *message; /* expected message prefix */
};

static const struct entry_case entry_cases[] = {
    {"domain", "zoom.us", false, NULL, NULL},
    {"domain", "xn--bcher-kva.example", false, NULL, NULL},
    {"domain", "a_b.example", false, NULL, NULL},
    {"domain", "com", false, "public-suffix", "domain 'com' is a public suffix: "},
    {"domain", "co.uk", false, "public-suffix", "domain 'co.uk' is a public suffix: "},
    {"domain", "github.io", false, "public-suffix", "domain 'github.io' is a public suffix"},
    {"domain", "akadns.net", false, "public-suffix", NULL},    /* PSL private section */
    {"domain", "xn--55qx5d.cn", false, "public-suffix", NULL}, /* IDN suffix, as punycode */
    {"domain", "co.uk", true, NULL, NULL},                     /* exact: the name alone */
    {"domain", "github.io", true, NULL, NULL},
    {"domain", "bbc.co.uk", false, NULL, NULL},
    {"domain", "Zoom.us", false, "bad-name", "bad domain 'Zoom.us': upper case"},
    {"domain", "zoom..us", false, "bad-name", "bad domain 'zoom..us': empty label"},
    {"domain", "zoom.us.", false, "bad-name", "bad domain 'zoom.us.': trailing dot"},
    {"domain", ".zoom.us", false, "bad-name", "bad domain '.zoom.us': leading dot"},
    {"domain", "", false, "bad-name", "bad domain '': empty name"},
    {"domain", "zoom us", false, "bad-name", "bad domain 'zoom us': space"},
    {"domain",
     "b\xc3\xbc"
     "cher.example",
     false, "bad-name", NULL},
    {"domain", "%00.example", false, "bad-name", NULL},
    {"domain", "-zoom.us", false, "bad-name", NULL},
    {"domain", "1.2.3.4", false, "bad-name", "domain '1.2.3.4' is an IP address"},
    {"domain", "::1", false, "bad-name", "domain '::1' is an IP address"},
    {"program", "zoom.exe", false, NULL, NULL},
    {"program", "Zoom.EXE", false, NULL, NULL},
    {"program", "C:\\Program Files\\Zoom\\zoom.exe", false, "bad-program",
     "program 'C:\\Program Files\\Zoom\\zoom.exe' has a directory: only the basename is "
     "compared (store 'zoom.exe')"},
    {"program", "/usr/bin/zoom", false, "bad-program", NULL},
    {"program", "", false, "bad-program", "bad program '': "},
    {"program", "zoom\n.exe", false, "bad-program", NULL},
    {"source", "10.0.0.0/8", false, NULL, NULL},
    {"source", "192.0.2.7", false, NULL, NULL},
    {"source", "2001:db8::/32", false, NULL, NULL},
    {"source", "user:alice", false, NULL, NULL},
    {"source", "10.0.0.1/8", false, "bad-source", "bad source: host bits set in '10.0.0.1/8'"},
    {"source", "10.0.0.0/33", false, "bad-source", "bad source: "},
    {"source", "banana", false, "bad-source", "bad source: "},
    {"source", "", false, "bad-source", "bad source: "},
    {"source", "user:", false, "bad-source", "bad source 'user:': empty user name"},
    {"category", "Legal", false, NULL, NULL},
    {"category", "Nope", false, "unknown-category",
     "category 'Nope' is not in the categories table: it matches nothing"},
};

static void
test_entries(void **state)
{
    const struct entry_case *c;
    const struct ps_lint_finding *f;
    struct ps_lint *l;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]); i++) {
        c = &entry_cases[i];
        l = ps_lint_new();
        assert_non_null(l);
        assert_int_equal(ps_lint_known_category(l, "Legal", NULL), 0);
        add_rule(l, 7, "R", true);
        add_entry(l, 7, c->kind, c->value, c->exact, "any");
        assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
        if (c->check == NULL) {
            if (ps_lint_count(l) != 0)
                fail_msg("case %zu %s '%s': unexpected %s: %s", i, c->kind, c->value,
                         ps_lint_get(l, 0)->check, ps_lint_get(l, 0)->message);
        } else {
            if (ps_lint_count(l) != 1)
                fail_msg("case %zu %s '%s': %zu findings, want 1 %s", i, c->kind, c->value,
                         ps_lint_count(l), c->check);
            f = ps_lint_get(l, 0);
            assert_string_equal(f->check, c->check);
            assert_int_equal(f->severity, PS_LINT_ERROR);
            assert_int_equal(f->rule_id, 7);
            assert_string_equal(f->rule, "R");
            assert_string_equal(f->kind, c->kind);
            assert_string_equal(f->value, c->value);
            if (c->message != NULL && strncmp(f->message, c->message, strlen(c->message)) != 0)
                fail_msg("case %zu: message '%s', want prefix '%s'", i, f->message, c->message);
        }
        ps_lint_free(l);
    }
}

/* Without a categories list, unknown categories are not guessed at; a walker may report the list
 * as "known-category" entries, and a disabled rule's unknown category is an error too. */
static void
test_categories_list(void **state)
{
    struct ps_lint *l = ps_lint_new();
    struct ps_store_entry known = {"known-category", 0, NULL, false, "Legal", false, NULL, 0};
    char s[256];

    (void)state;
    add_rule(l, 1, "R", true);
    add_entry(l, 1, "category", "Anything", false, NULL);
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
    assert_int_equal(ps_lint_count(l), 0);
    ps_lint_free(l);

    l = ps_lint_new();
    add_rule(l, 1, "R", true);
    add_rule(l, 2, "Off", false);
    assert_int_equal(ps_lint_add(l, &known, NULL), 0);
    add_entry(l, 1, "category", "Legal", false, NULL);
    add_entry(l, 1, "category", "legal", false, NULL); /* names are exact */
    add_entry(l, 2, "category", "Gone", false, NULL);
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
    summary(l, s, sizeof(s));
    assert_string_equal(s, "unknown-category:E:legal;unknown-category:E:Gone");
    ps_lint_free(l);
}

/* Duplicates inside one rule; the same values in different rules are not duplicates. */
static void
test_duplicates(void **state)
{
    struct ps_lint *l = ps_lint_new();
    const struct ps_lint_finding *f;
    char s[1024];

    (void)state;
    add_rule(l, 1, "One", true);
    add_rule(l, 2, "Two", true);
    add_rule(l, 3, "Off", false);
    add_entry(l, 1, "domain", "zoom.us", false, NULL);
    add_entry(l, 1, "domain", "www.zoom.us", false, NULL);  /* below zoom.us */
    add_entry(l, 1, "domain", "a.b.c.zoom.us", true, NULL); /* far below */
    add_entry(l, 1, "domain", "example.org", true, NULL);
    add_entry(l, 1, "domain", "www.example.org", false, NULL); /* exact parent: not covered */
    add_entry(l, 2, "domain", "www.zoom.us", false, NULL);     /* other rule */
    add_entry(l, 1, "program", "Zoom.exe", false, "windows");
    add_entry(l, 1, "program", "zoom.exe", false, "windows"); /* same, case-insensitive */
    add_entry(l, 1, "program", "zoom.exe", false, "macos");   /* other os */
    add_entry(l, 1, "source", "10.0.0.0/8", false, NULL);
    add_entry(l, 1, "source", "10.1.0.0/16", false, NULL); /* inside /8 */
    add_entry(l, 1, "source", "10.1.2.3", false, NULL);    /* inside /8 (and /16) */
    add_entry(l, 1, "source", "11.0.0.0/8", false, NULL);
    add_entry(l, 1, "source", "2001:db8::1", false, NULL);
    add_entry(l, 1, "source", "2001:db8:0::1", false, NULL); /* same address */
    add_entry(l, 1, "source", "user:bob", false, NULL);
    add_entry(l, 1, "source", "user:Bob", false, NULL); /* user names are exact */
    add_entry(l, 3, "domain", "zoom.us", false, NULL);  /* disabled: no warnings */
    add_entry(l, 3, "domain", "www.zoom.us", false, NULL);
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
    summary(l, s, sizeof(s));
    assert_string_equal(s, "duplicate:W:www.zoom.us;duplicate:W:a.b.c.zoom.us;"
                           "duplicate:W:zoom.exe;duplicate:W:10.1.0.0/16;duplicate:W:10.1.2.3;"
                           "duplicate:W:2001:db8:0::1");
    f = find(l, "duplicate", "a.b.c.zoom.us");
    assert_string_equal(f->message,
                        "domain 'a.b.c.zoom.us' is already covered by 'zoom.us' in the same rule");
    f = find(l, "duplicate", "zoom.exe");
    assert_string_equal(f->message,
                        "program 'zoom.exe' is the same as 'Zoom.exe' in the same rule");
    f = find(l, "duplicate", "10.1.2.3");
    assert_string_equal(f->message, "source '10.1.2.3' is inside '10.0.0.0/8' of the same rule");
    assert_int_equal(ps_lint_count_severity(l, PS_LINT_WARNING), 6);
    assert_int_equal(ps_lint_count_severity(l, PS_LINT_ERROR), 0);
    ps_lint_free(l);
}

/* Empty rules: warned when enabled; errors are reported for disabled rules, warnings are not. */
static void
test_empty_and_disabled(void **state)
{
    struct ps_lint *l = ps_lint_new();
    char s[512];

    (void)state;
    add_rule(l, 1, "Empty on", true);
    add_rule(l, 2, "Empty off", false);
    add_rule(l, 3, "Off", false);
    {
        struct ps_store_entry e = {"domain", 3, "Off", false, "co.uk", false, NULL, 30};
        assert_int_equal(ps_lint_add(l, &e, NULL), 0);
    }
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
    summary(l, s, sizeof(s));
    assert_string_equal(s, "empty-rule:W:Empty on;public-suffix:E:co.uk");
    assert_string_equal(ps_lint_get(l, 0)->message, "rule has no entries: it matches nothing");
    assert_null(ps_lint_get(l, 0)->value);
    assert_null(ps_lint_get(l, 0)->kind);
    assert_null(ps_lint_get(l, 2));
    ps_lint_free(l);
}

/* An entry may come before its rule; bad calls are refused. */
static void
test_add_errors(void **state)
{
    struct ps_lint *l = ps_lint_new();
    struct ps_store_entry bad_kind = {"colour", 1, "R", true, "red", false, NULL, 10};
    struct ps_store_entry no_value = {"domain", 1, "R", true, NULL, false, NULL, 10};
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_lint_add(l, &bad_kind, &err), PS_EINVAL);
    assert_string_equal(err.msg, "lint: unknown entry kind 'colour'");
    assert_int_equal(ps_lint_add(l, &no_value, &err), PS_EINVAL);
    assert_string_equal(err.msg, "rule id 1: domain without a value");
    assert_int_equal(ps_lint_add(NULL, &no_value, NULL), PS_EINVAL);
    add_entry(l, 9, "domain", "zoom.us", false, NULL);
    add_rule(l, 9, "Late", true);
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, NULL), 0);
    assert_int_equal(ps_lint_count(l), 0);
    assert_int_equal(ps_lint_finish(l, NULL, NULL, 0, &err), PS_EINVAL); /* only once */
    assert_int_equal(ps_lint_add(l, &no_value, NULL), PS_EINVAL);        /* not after */
    ps_lint_free(l);
    ps_lint_free(NULL);
}

/* ---- on real databases ---------------------------------------------------------------------- */

/* The shipped defaults have no findings (a fresh DB passes `pinsplice db check`). The two names
 * defaults.sql leaves out of the Apple rule are still in the catalogue, and copying them into
 * the rule gives exactly the two findings that made the correction. */
static const char apple_copy_sql[] =
    "INSERT INTO rule_domains (rule_id, domain) SELECT 12, domain FROM app_domains"
    " WHERE app_id = 2 AND domain IN ('akadns.net', 'p24-keyvalueservice.icloud.com');";

static void
test_defaults(void **state)
{
    struct ps_lint *l = lint_sql(NULL, 1);
    const struct ps_lint_finding *f;
    char s[512];

    (void)state;
    assert_int_equal(ps_lint_count(l), 0);
    ps_lint_free(l);
    l = lint_sql(apple_copy_sql, 1);
    summary(l, s, sizeof(s));
    assert_string_equal(s, "public-suffix:E:akadns.net;duplicate:W:p24-keyvalueservice.icloud.com");
    f = ps_lint_get(l, 0);
    assert_string_equal(f->rule, "Bypass Apple services - Pre-configured");
    assert_int_equal(f->rule_id, 12);
    assert_string_equal(f->kind, "domain");
    ps_lint_free(l);
}

static const char shadow_sql[] =
    "INSERT INTO categories (name) VALUES ('Banks');"
    "INSERT INTO category_domains (category, domain) VALUES ('Banks', 'bank.test');"
    "INSERT INTO rules (id, name, action, position) VALUES"
    " (1, 'Splice zoom', 'splice', 10),"
    " (2, 'Splice www zoom', 'splice', 20),"
    " (3, 'Bump api zoom', 'bump', 30),"
    " (4, 'Exact example', 'splice', 5),"
    " (5, 'Bump example tree', 'bump', 40),"
    " (6, 'Bump example exact', 'bump', 41),"
    " (7, 'Office only', 'splice', 1),"
    " (8, 'Bump net', 'bump', 50),"
    " (9, 'Banks', 'splice', 2),"
    " (10, 'Splice www bank', 'splice', 60),"
    " (11, 'Old', 'terminate', 3),"
    " (12, 'Bump old', 'bump', 70),"
    " (13, 'Later broad', 'bump', 80),"
    " (14, 'Off early', 'terminate', 0),"
    " (15, 'Narrow first', 'splice', 75);"
    "UPDATE rules SET expires_at = '2000-01-01 00:00:00' WHERE id = 11;"
    "UPDATE rules SET enabled = 0 WHERE id = 14;"
    "INSERT INTO rule_domains (rule_id, domain, exact) VALUES"
    " (1, 'zoom.us', 0), (2, 'www.zoom.us', 0), (3, 'api.zoom.us', 0),"
    " (4, 'example.org', 1), (5, 'example.org', 0), (6, 'example.org', 1),"
    " (7, 'example.net', 0), (8, 'example.net', 0),"
    " (10, 'www.bank.test', 0),"
    " (11, 'old.test', 0), (12, 'old.test', 0),"
    " (13, 'later.test', 0), (14, 'www.zoom.us', 0), (15, 'x.later.test', 0);"
    "INSERT INTO rule_sources (rule_id, source) VALUES (7, '10.0.0.0/8');"
    "INSERT INTO rule_categories (rule_id, category) VALUES (9, 'Banks');";

static void
test_shadowed(void **state)
{
    struct ps_lint *l = lint_sql(shadow_sql, 0);
    const struct ps_lint_finding *f;
    char s[1024];

    (void)state;
    summary(l, s, sizeof(s));
    /* Order: rule evaluation order (position), then entry. Not shadowed: 'Bump example tree'
     * (the earlier rule is exact, the subtree still reaches it), 'Bump net' (the earlier rule
     * has a source), 'Bump old' (the earlier rule expired), 'Narrow first' (the broader rule
     * comes later), 'Later broad' (the earlier rule is narrower), anything of 'Off early'. */
    assert_string_equal(s, "expired:W:Old;shadowed:W:www.zoom.us;shadowed:E:api.zoom.us;"
                           "shadowed:E:example.org;shadowed:W:www.bank.test");
    f = find(l, "shadowed", "www.zoom.us");
    assert_int_equal(f->rule_id, 2);
    assert_string_equal(f->message,
                        "domain 'www.zoom.us' never decides: rule 'Splice zoom' (id 1), evaluated "
                        "earlier, already splices it (via domain 'zoom.us')");
    f = find(l, "shadowed", "api.zoom.us");
    assert_int_equal(f->severity, PS_LINT_ERROR);
    assert_string_equal(f->message,
                        "domain 'api.zoom.us' never decides: rule 'Splice zoom' (id 1), evaluated "
                        "earlier, splices it (via domain 'zoom.us'), not bump as this rule says; "
                        "move this rule above it");
    f = find(l, "shadowed", "example.org");
    assert_int_equal(f->rule_id, 6);
    f = find(l, "shadowed", "www.bank.test");
    assert_string_equal(f->message,
                        "domain 'www.bank.test' never decides: rule 'Banks' (id 9), evaluated "
                        "earlier, already splices it (via category Banks)");
    f = find(l, "expired", NULL);
    assert_string_equal(f->message, "rule expired at 2000-01-01 00:00:00 UTC: it matches nothing");
    assert_null(f->value);
    ps_lint_free(l);
}

/* A rule that will expire still shadows, and says until when. */
static void
test_shadowed_until(void **state)
{
    struct ps_lint *l = lint_sql(
        "INSERT INTO rules (id, name, position, expires_at) VALUES (1, 'Temp', 1, "
        "'2999-12-31 18:00:00'), (2, 'Keep', 2, NULL);"
        "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'zoom.us'), (2, 'zoom.us');",
        0);
    const struct ps_lint_finding *f;

    (void)state;
    assert_int_equal(ps_lint_count(l), 1);
    f = find(l, "shadowed", "zoom.us");
    assert_string_equal(f->rule, "Keep");
    assert_string_equal(f->message,
                        "domain 'zoom.us' never decides: rule 'Temp' (id 1), evaluated earlier, "
                        "already splices it (via domain 'zoom.us') until it expires at "
                        "2999-12-31 18:00:00 UTC");
    ps_lint_free(l);
}

/* Entries the schema's CHECKs would refuse, slipped in with ignore_check_constraints: the DB does
 * not load (a "load" finding), and each bad entry is named. */
static void
test_load_failure(void **state)
{
    struct ps_lint *l = lint_sql(
        "PRAGMA ignore_check_constraints = ON;"
        "INSERT INTO rules (id, name, position) VALUES (1, 'Bypass Zoom', 1), (2, 'Off', 2);"
        "UPDATE rules SET enabled = 0 WHERE id = 2;"
        "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'zoom..us'), (2, 'Bad.Example');"
        "INSERT INTO rule_sources (rule_id, source) VALUES (1, '10.0.0.1/8');",
        0);
    const struct ps_lint_finding *f;
    char s[512];

    (void)state;
    summary(l, s, sizeof(s));
    assert_string_equal(s, "load:E:-;bad-name:E:zoom..us;bad-source:E:10.0.0.1/8;"
                           "bad-name:E:Bad.Example");
    f = ps_lint_get(l, 0);
    assert_null(f->rule);
    assert_int_equal(f->rule_id, 0);
    /* the message is ps_store_load's (without the file name, printed before it anyway) */
    assert_true(strncmp(f->message,
                        "the rules do not load (the helper would refuse this database): rule ",
                        68) == 0);
    assert_non_null(
        strstr(f->message, "bad domain 'zoom..us': empty label; shadowing not checked"));
    assert_null(strstr(f->message, "pinsplice-unit-"));
    f = find(l, "bad-name", "Bad.Example");
    assert_string_equal(f->rule, "Off");
    assert_string_equal(f->message, "bad domain 'Bad.Example': upper case");
    ps_lint_free(l);
}

static void
test_db_errors(void **state)
{
    struct ps_lint *l = (struct ps_lint *)0x1; /* untouched on error */
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_lint_db("/nonexistent/pinsplice/rules.db", 100, &l, &err), PS_ENOENT);
    assert_string_equal(err.msg, "/nonexistent/pinsplice/rules.db: No such file or directory (create it with 'pinsplice db init')");
    assert_ptr_equal(l, (struct ps_lint *)0x1);
}

/* Destination ranges (issue 15): shorter than /16 (IPv4) or /32 (IPv6) is flagged; the limits
 * themselves and narrower ranges are not. */
static void
test_wide_destinations(void **state)
{
    struct ps_lint *l = lint_sql(
        "INSERT INTO rules(id, name) VALUES (1, 'r');"
        "INSERT INTO rule_destinations(rule_id, cidr) VALUES (1, '10.0.0.0/8'), (1, '10.1.0.0/16'),"
        " (1, '192.0.2.0/24'), (1, '2001::/16'), (1, '2001:db8::/32'), (1, '0.0.0.0/0'),"
        " (1, '::/0'), (1, '2001:db8:1::/48');", 0);
    size_t i, n = 0;

    (void)state;
    assert_non_null(strstr(find(l, "wide-destination", "10.0.0.0/8")->message, "is a /8"));
    find(l, "wide-destination", "2001::/16");
    find(l, "wide-destination", "0.0.0.0/0");
    find(l, "wide-destination", "::/0");
    for (i = 0; i < ps_lint_count(l); i++)
        n += strcmp(ps_lint_get(l, i)->check, "wide-destination") == 0;
    assert_int_equal(n, 4);
    assert_string_equal(find(l, "wide-destination", "10.0.0.0/8")->kind, "destination");
    ps_lint_free(l);
}

/* ---- keytab ---------------------------------------------------------------------------------- */

static void
test_keytab(void **state)
{
    static char keys[2000][8];
    struct ps_keytab *t = ps_keytab_new();
    size_t i, v = 0;

    (void)state;
    assert_false(ps_keytab_get(t, 0, "a", 1, &v));
    assert_false(ps_keytab_get(NULL, 0, "a", 1, &v));
    for (i = 0; i < 2000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        assert_int_equal(ps_keytab_put(t, i % 3, keys[i], strlen(keys[i]), i, NULL), 0);
    }
    assert_int_equal(ps_keytab_count(t), 2000);
    assert_int_equal(ps_keytab_put(t, 7 % 3, "k7", 2, 99, &v), 1);
    assert_int_equal(v, 7);
    for (i = 0; i < 2000; i++) {
        assert_true(ps_keytab_get(t, i % 3, keys[i], strlen(keys[i]), &v));
        assert_int_equal(v, i);
        assert_false(ps_keytab_get(t, i % 3 + 1, keys[i], strlen(keys[i]), &v));
    }
    assert_int_equal(ps_keytab_put(t, 5, NULL, 0, 1, NULL), 0); /* empty key */
    assert_true(ps_keytab_get(t, 5, "", 0, &v));
    assert_int_equal(v, 1);
    ps_keytab_free(t);
    ps_keytab_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),      cmocka_unit_test(test_categories_list),
        cmocka_unit_test(test_duplicates),   cmocka_unit_test(test_empty_and_disabled),
        cmocka_unit_test(test_add_errors),   cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shadowed),     cmocka_unit_test(test_shadowed_until),
        cmocka_unit_test(test_load_failure), cmocka_unit_test(test_db_errors),
        cmocka_unit_test(test_keytab),       cmocka_unit_test(test_wide_destinations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
