#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "fixture.h"
#include "logfind.h"
#include "logjson.h"
#include "logmodel.h"
#include "logreport.h"
#include "logscan.h"
#include "snapshot.h"

#define ALERT48 "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1"

/* A bumped CONNECT to sni from client:port, failed (alert 48) or followed by a GET. */
static void
conn(struct ps_logscan *ls, int t, const char *client, int port, const char *sni, bool ok)
{
    char line[1024];

    snprintf(line, sizeof(line), "%d.000 1 %s:%d NONE_NONE/200 0 100 CONNECT %s:443 - bump %s %s "
             "%s %s bump -", t, client, port, sni, sni, sni, ok ? "-/-" : ALERT48,
             ok ? "TLS/1.3" : "-");
    assert_int_equal(ps_logscan_line(ls, line, strlen(line), NULL), 0);
    if (!ok)
        return;
    snprintf(line, sizeof(line), "%d.500 1 %s:%d TCP_MISS/200 1000 80 GET https://%s/ - bump %s "
             "%s -/- TLS/1.3 - -", t, client, port, sni, sni, sni);
    assert_int_equal(ps_logscan_line(ls, line, strlen(line), NULL), 0);
}

static int t, port; /* time and client port of the next connection (scan() resets them) */

/* n connections to sni, failing ones first, spread over the clients. */
static void
traffic(struct ps_logscan *ls, const char *sni, int fails, int oks, int clients)
{
    char client[32];
    int i;

    for (i = 0; i < fails + oks; i++) {
        snprintf(client, sizeof(client), "10.0.0.%d", 1 + i % clients);
        conn(ls, t++, client, port++, sni, i >= fails);
    }
}

static struct ps_logscan *
scan(void)
{
    struct ps_logscan_opts o;
    struct ps_logscan *ls;

    ps_logscan_opts_init(&o);
    ls = ps_logscan_new(&o);
    assert_non_null(ls);
    assert_int_equal(ps_logscan_begin(ls, "synthetic.log", NULL), 0);
    t = 1795732800; /* 2026-11-26 22:40:00 UTC */
    port = 1000;
    traffic(ls, "a.test", 5, 0, 2);      /* suspect */
    traffic(ls, "b.test", 5, 0, 1);      /* one client only */
    traffic(ls, "c.test", 4, 0, 2);      /* too few failures */
    traffic(ls, "d.test", 5, 5, 2);      /* ratio exactly 0.5: suspect */
    traffic(ls, "e.test", 5, 6, 2);      /* ratio 0.45 */
    traffic(ls, "192.0.2.1", 5, 0, 2);   /* an IP: no domain rule can name it */
    traffic(ls, "bad..name", 5, 0, 2);   /* not a host name */
    traffic(ls, "good.test", 0, 3, 3);   /* never fails */
    ps_logscan_finish(ls);
    return ls;
}

static void
test_thresholds(void **state)
{
    struct ps_logscan *ls = scan();
    struct ps_logfind_opts o;
    struct ps_logfind_item *it = NULL;
    size_t n = 0;
    static const char *const order[] = {"a.test", "d.test", "b.test", "e.test", "c.test"};
    static const bool suspect[] = {true, true, false, false, false};
    size_t i;

    (void)state;
    ps_logfind_opts_init(&o);
    assert_int_equal(ps_logfind_run(ls, &o, &it, &n, NULL), 0);
    assert_int_equal(n, 5);
    for (i = 0; i < n; i++) {
        assert_string_equal(it[i].name, order[i]);
        assert_int_equal(it[i].suspect, suspect[i]);
        assert_false(it[i].handled);
    }
    assert_int_equal(it[0].failures, 5);
    assert_int_equal(it[0].clients, 2);
    assert_true(it[1].ratio == 0.5);
    assert_int_equal(it[2].clients, 1);
    free(it);

    /* Looser thresholds let the others in; stricter ones keep them out. */
    o.min_clients = 1;
    o.min_failures = 4;
    o.min_ratio = 0.4;
    assert_int_equal(ps_logfind_run(ls, &o, &it, &n, NULL), 0);
    for (i = 0; i < n; i++)
        assert_true(it[i].suspect);
    free(it);
    o.min_ratio = 1.0;
    o.min_failures = 1;
    assert_int_equal(ps_logfind_run(ls, &o, &it, &n, NULL), 0);
    assert_int_equal(n, 5);
    assert_true(it[0].suspect && it[1].suspect && it[2].suspect);
    assert_string_equal(it[2].name, "c.test");
    assert_false(it[3].suspect); /* d.test and e.test had successes */
    free(it);
    ps_logscan_free(ls);
}

static void
test_rules_skip(void **state)
{
    struct ps_snapshot *snap = fx_snapshot(
        "INSERT INTO rules (id, name, action) VALUES (1, 'Bypass A', 'splice'), "
        "(2, 'Block D', 'terminate');"
        "INSERT INTO rule_domains (rule_id, domain) VALUES (1, 'a.test'), (2, 'd.test');", 0);
    struct ps_logscan *ls = scan();
    struct ps_logfind_opts o;
    struct ps_logfind_item *it = NULL;
    size_t n = 0, i;

    (void)state;
    ps_logfind_opts_init(&o);
    o.snap = snap;
    assert_int_equal(ps_logfind_run(ls, &o, &it, &n, NULL), 0);
    assert_int_equal(n, 5);
    for (i = 0; i < n; i++)
        assert_false(it[i].suspect);
    for (i = 0; i < n; i++) {
        if (strcmp(it[i].name, "a.test") == 0)
            assert_string_equal(it[i].handled_by, "rule 'Bypass A' (splice)");
        else if (strcmp(it[i].name, "d.test") == 0)
            assert_string_equal(it[i].handled_by, "rule 'Block D' (terminate)");
        else
            assert_false(it[i].handled);
    }
    free(it);
    ps_logscan_free(ls);
    ps_snapshot_release(snap);
}

/* Capture what fn writes. */
static char *
capture(void (*fn)(FILE *, void *), void *arg)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    assert_non_null(f);
    fn(f, arg);
    assert_int_equal(fclose(f), 0);
    return buf;
}

struct run {
    struct ps_logscan *ls;
    struct ps_logfind_opts find;
    struct ps_logfind_item *items;
    size_t n;
    struct ps_logreport_opts report;
};

static void
write_sql(FILE *f, void *arg)
{
    struct run *r = arg;

    struct ps_logfind_sql_opts so;

    ps_logfind_sql_opts_init(&so);
    so.now = 1795737600;
    assert_int_equal(ps_logfind_sql(f, r->items, r->n, &r->find, &so), 1);
}

static void
write_sql_none(FILE *f, void *arg)
{
    struct run *r = arg;

    struct ps_logfind_sql_opts so;

    ps_logfind_sql_opts_init(&so);
    so.now = 1795737600;
    assert_int_equal(ps_logfind_sql(f, r->items, r->n, &r->find, &so), 0);
}

static void
write_report(FILE *f, void *arg)
{
    struct run *r = arg;

    assert_int_equal(ps_logreport_write(f, r->ls, r->items, r->n, &r->report, NULL), 0);
}

static void
prepare(struct run *r)
{
    memset(r, 0, sizeof(*r));
    r->ls = scan();
    ps_logfind_opts_init(&r->find);
    r->find.min_ratio = 0.6; /* a.test only */
    assert_int_equal(ps_logfind_run(r->ls, &r->find, &r->items, &r->n, NULL), 0);
    ps_logreport_opts_init(&r->report);
    r->report.find = &r->find;
}

static void
finish(struct run *r)
{
    free(r->items);
    ps_logscan_free(r->ls);
}

static const char expected_sql[] =
    "-- pinsplice logscan: suggested bypass rules, 2026-11-27 00:00:00 UTC.\n"
    "-- Thresholds: --min-failures 5 --min-clients 2 --min-ratio 0.60.\n"
    "-- REVIEW BEFORE APPLYING. A failed handshake is evidence, not proof: a transient\n"
    "-- network error, a client without the proxy CA, or a client faking failures on\n"
    "-- purpose produce the same records. Splicing a name stops inspecting its traffic.\n"
    "-- Nothing has been changed. Apply with:  sqlite3 /path/to/rules.db < THIS_FILE\n"
    "-- Every statement goes through the management views (their checks, the audit). A new\n"
    "-- rule is placed last: a rule above it that bumps the name still wins. exact = 1\n"
    "-- bypasses the name only; set 0 to cover its subdomains too.\n"
    "-- Each rule expires 7 days after it is applied (--expires 0: never).\n"
    "-- The app catalogue was not consulted (no rules DB): a name a catalogue app covers\n"
    "-- gets a rule of its own here.\n"
    "BEGIN;\n"
    "\n"
    "-- a.test: 5 abandoned bumped connections (TLS alert 5, reset 0, closed 0, no request 0),\n"
    "--   0 with requests (failure ratio 1.00), from 2 clients: 10.0.0.1 10.0.0.2\n"
    "--   first 2026-11-26 22:40:00, last 2026-11-26 22:40:04 UTC; alerts: unknown_ca x5\n"
    "INSERT INTO add_domain (rule, domain, exact, action, comment) VALUES ('logscan: a.test', "
    "'a.test', 1, 'splice', 'suggested by pinsplice logscan on 2026-11-27: 5 abandoned bumped "
    "connections');\n"
    "INSERT INTO edit_rule (rule, field, value) VALUES ('logscan: a.test', 'expires_at', "
    "datetime('now', '+7 days'));\n"
    "\n"
    "COMMIT;\n";

/* A catalogue app that covers a name is enabled instead of a new rule; a name that works for
 * other clients is scoped to the failing ones; --expires 0 and --monitor. */
static void
write_sql_shaped(FILE *f, void *arg)
{
    struct run *r = arg;
    struct ps_logfind_sql_opts so;
    const char *apps[16] = {0};
    size_t i;

    assert_true(r->n <= 16);
    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, "a.test") == 0)
            apps[i] = "Alpha's App";
    ps_logfind_sql_opts_init(&so);
    so.now = 1795737600;
    so.expires_days = 0;
    so.monitor = true;
    so.apps = apps;
    assert_int_equal(ps_logfind_sql(f, r->items, r->n, &r->find, &so), 2);
}

static void
test_sql_shaped(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    r.find.min_ratio = 0.5; /* a.test and d.test */
    free(r.items);
    assert_int_equal(ps_logfind_run(r.ls, &r.find, &r.items, &r.n, NULL), 0);
    out = capture(write_sql_shaped, &r);
    assert_non_null(strstr(out, "-- The rules never expire (--expires 0).\n"));
    assert_null(strstr(out, "expires_at"));
    assert_non_null(strstr(out, "\nINSERT INTO enable_app (app, by) VALUES ('Alpha''s App', "
                                "'domain');\nINSERT INTO edit_rule (rule, field, value) VALUES "
                                "('App: Alpha''s App', 'mode', 'monitor');\n"));
    assert_null(strstr(out, "'logscan: a.test'"));
    /* d.test: 5 of 10 bumped connections failed, from two known clients: scoped to them */
    assert_non_null(strstr(out, "INSERT INTO add_domain (rule, domain, exact, action, comment) "
                                "VALUES ('logscan: d.test', 'd.test', 1, 'splice', "));
    assert_non_null(strstr(out, "5 other bumped connections to the name carried"));
    assert_non_null(strstr(out, "INSERT INTO add_source (rule, source, comment) VALUES "
                                "('logscan: d.test', '10.0.0.1', 'failed under bumping');\n"
                                "INSERT INTO add_source (rule, source, comment) VALUES "
                                "('logscan: d.test', '10.0.0.2', 'failed under bumping');\n"
                                "INSERT INTO edit_rule (rule, field, value) VALUES "
                                "('logscan: d.test', 'mode', 'monitor');\n"));
    assert_null(strstr(out, "INSERT INTO rules"));
    free(out);
    finish(&r);
}

static void
test_sql(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    out = capture(write_sql, &r);
    assert_string_equal(out, expected_sql);
    free(out);
    r.find.min_ratio = 1.0;
    r.find.min_failures = 6;
    free(r.items);
    assert_int_equal(ps_logfind_run(r.ls, &r.find, &r.items, &r.n, NULL), 0);
    out = capture(write_sql_none, &r);
    assert_non_null(strstr(out, "--min-failures 6 --min-clients 2 --min-ratio 1.00.\n"));
    assert_non_null(strstr(out, "\n-- No name passes the thresholds: nothing to suggest.\n"));
    assert_null(strstr(out, "BEGIN"));
    assert_null(strstr(out, "INSERT"));
    free(out);
    finish(&r);
}

static void
test_text_report(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    out = capture(write_report, &r);
    assert_non_null(strstr(out, "Input: 1 file, 62 lines: 62 records, 0 bad, 0 blank"));
    assert_non_null(strstr(out, "  bumped                48          14           14000"));
    assert_non_null(strstr(out, "Apps that break under bumping: 1 suspect name (--min-failures 5 "
                                "--min-clients 2 --min-ratio 0.60)"));
    assert_non_null(strstr(out, "             clients: 10.0.0.1 10.0.0.2; alerts: unknown_ca x5\n"));
    assert_non_null(strstr(out, "  4 more names with abandoned connections: 4 below the "
                                "thresholds, 0 handled by the rules\n"));
    assert_non_null(strstr(out, "Rules DB: not given: names a rule already splices"));
    free(out);
    finish(&r);
}

static void
test_csv_and_json(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    r.report.format = PS_LOGREPORT_CSV;
    r.report.table = PS_LOGREPORT_FINDINGS;
    out = capture(write_report, &r);
    assert_string_equal(out, "name,status,abandoned,alert,reset,closed,no_request,bumped_ok,ratio,"
                             "clients,clients_more,example_clients,alerts,first_failure,"
                             "last_failure,spliced,handled_by\n"
                             "a.test,suspect,5,5,0,0,0,0,1.0000,2,0,\"10.0.0.1 10.0.0.2\","
                             "unknown_ca:5,2026-11-26T22:40:00.000Z,2026-11-26T22:40:04.000Z,0,\n");
    free(out);
    r.report.table = PS_LOGREPORT_RULES;
    out = capture(write_report, &r);
    assert_string_equal(out, "rule,connections,splice,bump,terminate,other,first_seen,last_seen\n"
                             "(default),48,0,48,0,0,2026-11-26T22:40:00.000Z,"
                             "2026-11-26T22:40:47.000Z\n");
    free(out);
    r.report.format = PS_LOGREPORT_JSON;
    out = capture(write_report, &r);
    assert_non_null(strstr(out, "\"findings\": {\"searched\": true, \"min_failures\": 5, "
                                "\"min_clients\": 2, \"min_ratio\": 0.6000, \"rules_db\": null"));
    assert_non_null(strstr(out, "{\"name\": \"a.test\", \"status\": \"suspect\", \"abandoned\": 5"));
    assert_non_null(strstr(out, "\"alerts\": [{\"alert\": 48, \"name\": \"unknown_ca\", "
                                "\"count\": 5}]"));
    assert_null(strstr(out, "\"b.test\", \"status\"")); /* below: only with --all */
    free(out);
    r.report.all = true;
    out = capture(write_report, &r);
    assert_non_null(strstr(out, "{\"name\": \"b.test\", \"status\": \"below\""));
    free(out);
    finish(&r);
}

static void
test_escaping(void **state)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    (void)state;
    assert_non_null(f);
    /* control bytes, a quote, a backslash, valid UTF-8 (e-acute), invalid bytes */
    ps_logjson_string(f, "a\001\"\\\xc3\xa9\xff\xc3z\n", 10);
    putc('|', f);
    ps_logmodel_text(f, "a\001\"\\\xc3\xa9\xff\n", 8);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "\"a\\u0001\\\"\\\\\xc3\xa9\\ufffd\\ufffdz\\u000a\"|"
                             "a\\x01\"\\\\\\xC3\\xA9\\xFF\\x0A");
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),  cmocka_unit_test(test_rules_skip),
        cmocka_unit_test(test_sql),         cmocka_unit_test(test_sql_shaped),         cmocka_unit_test(test_text_report),
        cmocka_unit_test(test_csv_and_json), cmocka_unit_test(test_escaping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
