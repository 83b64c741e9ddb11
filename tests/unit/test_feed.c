/* lib/admin/feed*.c: the m365 and generic feed parsers and their mapping to catalogue apps,
 * table-driven on small documents in the shape of the real ones, including every kind of bad
 * input; and the whole import (ps_admin_feed_import_db). */
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

#include "admin.h"
#include "err.h"
#include "feed.h"
#include "fixture.h"

/* Shaped like https://endpoints.office.com/endpoints/worldwide output (trimmed). */
static const char m365_doc[] =
    "[{\"id\":1,\"serviceArea\":\"Exchange\",\"serviceAreaDisplayName\":\"Exchange Online\","
    "\"urls\":[\"outlook.cloud.microsoft\",\"outlook.office.com\",\"outlook.office365.com\"],"
    "\"ips\":[\"13.107.6.152/31\",\"2603:1006::/40\"],\"tcpPorts\":\"80,443\","
    "\"expressRoute\":true,\"category\":\"Optimize\",\"required\":true},"
    " {\"id\":2,\"serviceArea\":\"Exchange\",\"serviceAreaDisplayName\":\"Exchange Online\","
    "\"urls\":[\"outlook.office.com\"],\"ips\":[\"40.96.0.0/13\"],\"udpPorts\":\"443\","
    "\"expressRoute\":false,\"category\":\"Optimize\",\"required\":false},"
    " {\"id\":9,\"serviceArea\":\"Exchange\",\"serviceAreaDisplayName\":\"Exchange Online\","
    "\"urls\":[\"*.protection.outlook.com\",\"Outlook.Office.com\"],\"tcpPorts\":\"443\","
    "\"expressRoute\":true,\"category\":\"Allow\",\"required\":true},"
    " {\"id\":31,\"serviceArea\":\"SharePoint\",\"serviceAreaDisplayName\":\"SharePoint Online and "
    "OneDrive for Business\",\"urls\":[\"*.sharepoint.com\",\"*-admin.sharepoint.com\"],"
    "\"ips\":[\"13.107.136.0/22\"],\"tcpPorts\":\"80,443\",\"expressRoute\":true,"
    "\"category\":\"Optimize\",\"required\":true},"
    " {\"id\":56,\"serviceArea\":\"Common\",\"serviceAreaDisplayName\":\"Microsoft 365 Common and "
    "Office Online\",\"urls\":[\"*.msftidentity.com\",\"autodiscover.*.onmicrosoft.com\"],"
    "\"tcpPorts\":\"443\",\"expressRoute\":false,\"category\":\"Allow\",\"required\":true,"
    "\"notes\":\"identity\"},"
    " {\"id\":64,\"serviceArea\":\"Common\",\"serviceAreaDisplayName\":\"Microsoft 365 Common and "
    "Office Online\",\"urls\":[\"*.office.net\"],\"tcpPorts\":\"443\",\"expressRoute\":false,"
    "\"category\":\"Default\",\"required\":false}]";

static const char json_doc[] =
    "{\"pinsplice_feed\": 1, \"name\": \"Acme\", \"source\": \"https://acme.example/feed.json\","
    " \"version\": \"2026-12-01\", \"apps\": ["
    " {\"name\": \"Acme VPN\", \"note\": \"pins its CA\", \"domains\": [\"vpn.acme.example\","
    "  \"*.api.acme.example\", \"api.acme.example\"], \"destinations\": [\"192.0.2.0/24\","
    "  \"2001:db8::1\"], \"programs\": [\"AcmeVPN.exe\", {\"os\": \"macos\", \"program\":"
    "  \"com.acme.vpn\"}]},"
    " {\"name\": \"Acme Agent\", \"reason\": \"mutual TLS\", \"programs\": [\"agent\"]}]}";

static struct ps_feed *
parse(const char *doc, enum ps_feed_format fmt, const char *name)
{
    struct ps_feed_opts o = {fmt, name, NULL, NULL};
    struct ps_err err = {0, ""};
    struct ps_feed *f = NULL;
    int rc = ps_feed_parse(doc, strlen(doc), "t.json", &o, &f, &err);

    if (rc != 0)
        fprintf(stderr, "unexpected error: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return f;
}

static const struct ps_feed_app *
app(const struct ps_feed *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->n_apps; i++)
        if (strcmp(f->apps[i].name, name) == 0)
            return &f->apps[i];
    fail_msg("no app %s", name);
    return NULL;
}

static int
has_domain(const struct ps_feed_app *a, const char *d, int exact)
{
    size_t i;

    for (i = 0; i < a->n_domains; i++)
        if (strcmp(a->domains[i].domain, d) == 0)
            return a->domains[i].exact == (exact != 0);
    return 0;
}

static void
test_m365(void **state)
{
    struct ps_feed *f = parse(m365_doc, PS_FEED_M365, NULL);
    const struct ps_feed_app *a;

    (void)state;
    assert_string_equal(f->name, "Microsoft 365");
    assert_string_equal(f->source, "t.json"); /* no --source: the file */
    assert_int_equal(f->n_entries, 6);
    assert_int_equal(f->n_default, 1);  /* id 64: not imported */
    assert_int_equal(f->n_udp_only, 1); /* id 2 */
    /* one app per (service area, category) */
    assert_int_equal(f->n_apps, 4);
    a = app(f, "Microsoft 365: Exchange Online (Optimize)");
    assert_int_equal(a->n_domains, 3);
    assert_true(has_domain(a, "outlook.office.com", 1)); /* a plain name is exact */
    assert_int_equal(a->n_dests, 2);
    assert_string_equal(a->dests[0], "13.107.6.152/31");
    assert_string_equal(a->dests[1], "2603:1006::/40");
    assert_non_null(strstr(a->note, "id 1 required"));
    assert_null(strstr(a->note, "id 2")); /* UDP only */
    a = app(f, "Microsoft 365: Exchange Online (Allow)");
    assert_true(has_domain(a, "protection.outlook.com", 0)); /* *. -> subtree */
    assert_true(has_domain(a, "outlook.office.com", 1));     /* lower-cased */
    assert_string_equal(a->domains[0].note, "*.protection.outlook.com");
    a = app(f, "Microsoft 365: SharePoint Online and OneDrive for Business (Optimize)");
    assert_int_equal(a->n_domains, 1); /* *-admin.sharepoint.com skipped */
    assert_true(has_domain(a, "sharepoint.com", 0));
    a = app(f, "Microsoft 365: Microsoft 365 Common and Office Online (Allow)");
    assert_int_equal(a->n_domains, 1);
    /* skipped: UDP-only id 2, *-admin, autodiscover.*. */
    assert_int_equal(f->n_skips, 3);
    assert_string_equal(f->skips[1].value, "*-admin.sharepoint.com");
    assert_string_equal(f->skips[1].where, "entry 4 (id 31)");
    assert_string_equal(f->skips[2].value, "autodiscover.*.onmicrosoft.com");
    ps_feed_free(f);
}

static void
test_m365_name(void **state)
{
    struct ps_feed *f = parse(m365_doc, PS_FEED_M365, "M365 EU");

    (void)state;
    assert_string_equal(f->name, "M365 EU");
    assert_non_null(app(f, "M365 EU: Exchange Online (Optimize)"));
    ps_feed_free(f);
}

static void
test_json(void **state)
{
    struct ps_feed *f = parse(json_doc, PS_FEED_JSON, NULL);
    const struct ps_feed_app *a;

    (void)state;
    assert_string_equal(f->name, "Acme");
    assert_string_equal(f->source, "https://acme.example/feed.json");
    assert_string_equal(f->version, "2026-12-01");
    assert_int_equal(f->n_apps, 2);
    a = app(f, "Acme VPN");
    assert_string_equal(a->note, "pins its CA");
    assert_null(a->reason);
    assert_int_equal(a->n_domains, 2); /* api.acme.example folded into its subtree */
    assert_true(has_domain(a, "vpn.acme.example", 1));
    assert_true(has_domain(a, "api.acme.example", 0));
    assert_int_equal(a->n_dests, 2);
    assert_string_equal(a->dests[1], "2001:db8::1/128");
    assert_int_equal(a->n_programs, 2);
    assert_string_equal(a->programs[0].os, "any");
    assert_string_equal(a->programs[0].program, "acmevpn.exe");
    assert_string_equal(a->programs[1].os, "macos");
    a = app(f, "Acme Agent");
    assert_string_equal(a->reason, "mutual TLS");
    assert_int_equal(a->n_domains, 0);
    ps_feed_free(f);
}

static void
test_errors(void **state)
{
    static const struct {
        enum ps_feed_format fmt;
        const char *doc;
        const char *msg; /* a fragment of the error */
    } cases[] = {
        {PS_FEED_M365, "[{\"id\":1,", "t.json:1:9: malformed JSON"},
        {PS_FEED_M365, "", "malformed JSON"},
        {PS_FEED_M365, "{}", "top level must be an array"},
        {PS_FEED_M365, "[1]", "t.json: entry 1: must be an object"},
        {PS_FEED_M365, "[{\"id\":\"1\"}]", "entry 1: \"id\" must be a whole number"},
        {PS_FEED_M365,
         "[{\"id\":3,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":\"a.example\"}]",
         "entry 1 (id 3): \"urls\" must be an array of strings"},
        {PS_FEED_M365,
         "[{\"id\":3,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"a.example\",7]}]",
         "\"urls\"[1] must be a string"},
        {PS_FEED_M365,
         "[{\"id\":3,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":\"yes\"}]",
         "\"required\" must be true or false"},
        {PS_FEED_M365,
         "[{\"id\":3,\"serviceArea\":\"X\",\"category\":\"Bypass\",\"required\":true}]",
         "\"category\" \"Bypass\""},
        {PS_FEED_M365, "[{\"id\":3,\"category\":\"Allow\",\"required\":true}]",
         "\"serviceArea\" is missing"},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"*.co.uk\"]}]",
         "entry 1 (id 5): \"urls\"[0] \"*.co.uk\": co.uk is a public suffix"},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"*.github.io\"]}]",
         "github.io is a public suffix"},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"*.com\"]}]",
         "com is a public suffix"},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"bad..example\"]}]",
         "\"urls\"[0] \"bad..example\""},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"urls\":[\"10.1.2.3\"]}]",
         "an IP address"},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"443\",\"ips\":[\"10.1.2.3/8\"]}]",
         "\"ips\"[0] \"10.1.2.3/8\": "},
        {PS_FEED_M365,
         "[{\"id\":5,\"serviceArea\":\"X\",\"category\":\"Allow\",\"required\":true,"
         "\"tcpPorts\":\"https\"}]",
         "a list of ports"},
        {PS_FEED_M365, "[{\"id\":1,\"id\":2}]", "duplicate"},
        {PS_FEED_JSON, "[]", "top level must be an object"},
        {PS_FEED_JSON, "{\"apps\": []}", "\"pinsplice_feed\" must be 1"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 2, \"name\": \"x\", \"apps\": []}",
         "\"pinsplice_feed\" must be 1"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 1, \"apps\": []}", "\"name\" is missing"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 1, \"name\": \"x\"}", "\"apps\" must be an array"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"note\": 1}]}",
         "apps[0]: \"name\" is missing"},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", \"note\": 1}]}",
         "apps[0] \"A\": \"note\" must be a string"},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\"}, {\"name\": "
         "\"A\"}]}",
         "apps[1] \"A\": app \"A\" is listed twice"},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", \"domains\": "
         "[\"*.akadns.net\"]}]}",
         "akadns.net is a public suffix"},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", \"programs\": "
         "[{\"os\": \"beos\", \"program\": \"a\"}]}]}",
         "os \"beos\""},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", \"programs\": "
         "[3]}]}",
         "\"programs\"[0] must be a string or"},
        {PS_FEED_JSON,
         "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", \"domains\": "
         "[\"a%s%n.example\"]}]}",
         "a%s%n.example"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 1, \"name\": \" x\", \"apps\": []}", "feed name"},
        {PS_FEED_JSON, "{\"pinsplice_feed\": 1, \"name\": \"x\\u0000y\", \"apps\": []}",
         "malformed JSON"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ps_feed_opts o = {cases[i].fmt, NULL, NULL, NULL};
        struct ps_err err = {0, ""};
        struct ps_feed *f = NULL;
        int rc = ps_feed_parse(cases[i].doc, strlen(cases[i].doc), "t.json", &o, &f, &err);
        if (rc == 0 || strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err.msg, cases[i].msg);
        assert_null(f);
    }
}

static void
test_skip_never_widens(void **state)
{
    static const char *const pats[] = {"*-admin.example.com", "a.*.example.com", "*", "*.*.example.com",
                                       "x*.example.com"};
    char doc[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        struct ps_feed *f;
        snprintf(doc, sizeof(doc),
                 "{\"pinsplice_feed\": 1, \"name\": \"x\", \"apps\": [{\"name\": \"A\", "
                 "\"domains\": [\"%s\"]}]}",
                 pats[i]);
        f = parse(doc, PS_FEED_JSON, NULL);
        assert_int_equal(f->apps[0].n_domains, 0);
        assert_int_equal(f->n_skips, 1);
        assert_string_equal(f->skips[0].value, pats[i]);
        ps_feed_free(f);
    }
}

static void
test_load(void **state)
{
    struct ps_feed_opts o = {PS_FEED_M365, NULL, "https://endpoints.office.com/x", NULL};
    struct ps_err err = {0, ""};
    struct ps_feed *f = NULL;
    char path[] = "/tmp/test_feed_XXXXXX";
    FILE *fp;
    int fd;

    (void)state;
    assert_int_equal(ps_feed_load("/nonexistent/feed.json", &o, &f, &err), PS_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/feed.json"));
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(fp = fdopen(fd, "w"));
    fputs(m365_doc, fp);
    fclose(fp);
    assert_int_equal(ps_feed_load(path, &o, &f, &err), 0);
    assert_string_equal(f->source, "https://endpoints.office.com/x");
    assert_non_null(strstr(f->version, "file dated 20")); /* m365 has no version: the file date */
    ps_feed_free(f);
    unlink(path);
    ps_feed_free(NULL);
}

/* ---- the merge (lib/admin/admin_feed.c) on a real DB -------------------------------------------- */

static long long
q(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Import doc as feed "F" into db; commit unless dry. */
static struct ps_admin_feed_stats
import(const char *db, const char *doc, bool dry)
{
    struct ps_feed_opts o = {PS_FEED_JSON, NULL, NULL, NULL};
    struct ps_admin_feed_stats st;
    struct ps_err err = {0, ""};
    struct ps_feed *f = NULL;
    struct ps_admin *a = NULL;

    assert_int_equal(ps_feed_parse(doc, strlen(doc), "t.json", &o, &f, &err), 0);
    assert_int_equal(ps_admin_open(db, 100, "tester", &a, &err), 0);
    if (ps_admin_feed_import(a, f, "2026-12-02T00:00:00Z", NULL, NULL, &st, &err) != 0)
        fail_msg("import: %s", err.msg);
    if (dry)
        ps_admin_free(a);
    else
        assert_int_equal(ps_admin_commit(a, &err), 0);
    ps_feed_free(f);
    return st;
}

#define DOC(APPS) "{\"pinsplice_feed\": 1, \"name\": \"F\", \"version\": \"1\", \"apps\": [" APPS "]}"

static void
test_merge(void **state)
{
    char *db = fx_db("SELECT 1;", 1);
    struct ps_admin_feed_stats st;

    (void)state;
    st = import(db, DOC("{\"name\": \"A\", \"domains\": [\"a.example\"]},"
                        "{\"name\": \"B\", \"domains\": [\"b.example\"]},"
                        "{\"name\": \"C\", \"domains\": [\"c.example\"],"
                        " \"destinations\": [\"192.0.2.0/24\"]},"
                        "{\"name\": \"Webex\", \"domains\": [\"w.example\"]}"), false);
    assert_true(st.first);
    assert_int_equal(st.added, 3);
    assert_int_equal(st.conflicts, 1); /* the vendor's Webex */
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE feed = 'F' AND origin = 'local'"), 3);
    assert_int_equal(q(db, "SELECT count(*) FROM app_domains WHERE domain = 'w.example'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM app_destinations"), 1);
    /* the admin edits B; the feed then drops A and B and changes C */
    fx_exec(db, "UPDATE apps SET reason = 'mine' WHERE name = 'B'", 0);
    st = import(db, DOC("{\"name\": \"C\", \"domains\": [\"c2.example\"]}"), true);
    assert_false(st.first);
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE feed = 'F'"), 3); /* dry run */
    st = import(db, DOC("{\"name\": \"C\", \"domains\": [\"c2.example\"]}"), false);
    /* A (untouched) removed; B (edited) kept whole; C's entries follow the feed */
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE name = 'A'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM apps a JOIN app_domains d ON d.app_id = a.id"
                           " WHERE a.name = 'B' AND a.reason = 'mine' AND d.domain = 'b.example'"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM app_domains d JOIN apps a ON a.id = d.app_id"
                           " WHERE a.name = 'C' AND d.domain = 'c2.example' AND d.exact = 1"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM app_domains WHERE domain = 'c.example'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM app_destinations"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM audit WHERE tbl = 'feeds' AND op = 'IMPORT'"
                           " AND who = 'tester'"), 2);
    /* deleting the feed deletes its apps */
    fx_exec(db, "DELETE FROM feeds WHERE name = 'F'", 0);
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE feed IS NOT NULL"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM feed_base"), 0);
    fx_remove(db);
}

/* ps_admin_feed_import_db: open, import, commit; a dry run writes nothing. */
static void
test_import_db(void **state)
{
    static const char doc[] = DOC("{\"name\": \"A\", \"domains\": [\"a.example\"]}");
    struct ps_feed_opts o = {PS_FEED_JSON, NULL, NULL, NULL};
    char *db = fx_db("SELECT 1;", 1);
    struct ps_admin_feed_stats st;
    struct ps_err err = {0, ""};
    struct ps_feed *f = NULL;

    (void)state;
    assert_int_equal(ps_feed_parse(doc, strlen(doc), "t.json", &o, &f, &err), 0);
    memset(&st, 0, sizeof(st));
    assert_int_equal(ps_admin_feed_import_db(db, 100, "tester", f, "2026-12-02T00:00:00Z", true,
                                             NULL, NULL, &st, &err),
                     0);
    assert_int_equal(st.added, 1);
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE feed = 'F'"), 0);
    assert_int_equal(ps_admin_feed_import_db(db, 100, "tester", f, "2026-12-02T00:00:00Z", false,
                                             NULL, NULL, &st, &err),
                     0);
    assert_int_equal(q(db, "SELECT count(*) FROM apps WHERE feed = 'F' AND name = 'A'"), 1);
    assert_int_equal(ps_admin_feed_import_db("/nonexistent.db", 100, "tester", f,
                                             "2026-12-02T00:00:00Z", false, NULL, NULL, &st,
                                             &err),
                     PS_ENOENT);
    ps_feed_free(f);
    fx_remove(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m365),   cmocka_unit_test(test_m365_name),
        cmocka_unit_test(test_json),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_skip_never_widens), cmocka_unit_test(test_load),
        cmocka_unit_test(test_merge),      cmocka_unit_test(test_import_db),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
