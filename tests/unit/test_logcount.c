#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "logcount.h"
#include "logline.h"
#include "logscan.h"
#include "logtab.h"
#include "oom.h"

/*
 * The counters of lib/logcount.c fed parsed records directly (no scanner, no files): what one
 * record adds to the totals and to the name, client, rule and monitor tables, how a bumped
 * connection waits for its first request (window, max_pending, end of input), and that running
 * out of memory is reported.
 */

#define ALERT48 "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1"
#define RESET "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104"
#define NOTTLS "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A00010B+TLS_IO_ERR=1"

struct fx {
    struct ps_ls_input in;
    struct ps_logcount *lc;
};

static void
fx_new(struct fx *x, int64_t window_ms, size_t max_pending)
{
    memset(&x->in, 0, sizeof(x->in));
    x->lc = ps_logcount_new(window_ms, max_pending, &x->in);
    assert_non_null(x->lc);
}

/* Parse one record of the named built-in format and count it; returns what counting returned. */
static int
feed_fmt(struct fx *x, const char *format, const char *fmt, ...)
{
    const struct ps_logformat *f = ps_logformat_builtin(format);
    struct ps_err err = {0, ""};
    struct ps_logline l;
    char line[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (ps_logline_parse(f, line, strlen(line), &l, &err) != 0)
        fail_msg("cannot parse '%s': %s", line, err.msg);
    return ps_logcount_record(x->lc, &l, f);
}

/* A pinsplice-format CONNECT at second t: peer, name, bump mode, err, tls, action and rule
 * notes, then the optional trailing notes (verify, monitor, monitor rule: "" for none). */
static void
conn(struct fx *x, int t, const char *peer, const char *name, const char *mode, const char *err,
     const char *tls, const char *action, const char *rule, const char *tail)
{
    assert_int_equal(feed_fmt(x, "pinsplice",
                              "%d.250 1 %s NONE_NONE/200 0 10 CONNECT %s:443 - %s %s %s %s %s %s "
                              "%s%s%s",
                              t, peer, name, mode, name, name, err, tls, action, rule,
                              *tail ? " " : "", tail),
                     0);
}

static void
get(struct fx *x, int t, const char *peer, const char *url, long bytes)
{
    assert_int_equal(feed_fmt(x, "pinsplice",
                              "%d.000 1 %s TCP_MISS/200 %ld 10 GET %s - bump - - -/- TLS/1.3 - -",
                              t, peer, bytes, url),
                     0);
}

static const struct ps_ls_name *
name(const struct fx *x, const char *n)
{
    return ps_logtab_find(ps_logcount_names(x->lc), n, strlen(n));
}

static const struct ps_ls_client *
client(const struct fx *x, const char *n)
{
    return ps_logtab_find(ps_logcount_clients(x->lc), n, strlen(n));
}

static const struct ps_ls_rule *
rule(const struct fx *x, const char *n)
{
    return ps_logtab_find(ps_logcount_rules(x->lc), n, strlen(n));
}

/* ---- actions, tables ------------------------------------------------------------------------ */

static void
test_actions(void **state)
{
    struct fx x;
    const struct ps_ls_counts *t;
    const struct ps_ls_name *n;
    const struct ps_ls_client *c;
    const struct ps_ls_rule *r;
    size_t empty;

    (void)state;
    fx_new(&x, 1000, 10);
    empty = ps_logcount_bytes(x.lc);
    conn(&x, 100, "10.0.0.1:1", "Zoom.US.", "splice", "-/-", "-", "splice", "Bypass%20Zoom", "");
    conn(&x, 101, "10.0.0.1:2", "zoom.us", "bump", "-/-", "-", "splice,bump", "Bypass%20Zoom", "");
    conn(&x, 102, "10.0.0.2:1", "a.test", "terminate", "ERR_X/-", "-", "terminate", "Block", "");
    conn(&x, 103, "10.0.0.2:2", "b.test", "bump", "-/-", "-", "bump", "(default)", "");
    conn(&x, 104, "10.0.0.2:3", "c.test", "-", "-/-", "-", "-", "-", "");
    /* A record without a method (the client sent nothing) is not a connection. */
    assert_int_equal(feed_fmt(&x, "pinsplice",
                              "105.000 0 10.0.0.3:4 NONE_NONE/000 0 0 - "
                              "error:transaction-end-before-headers - - - - ERR_CLIENT_GONE/"
                              "WITH_CLIENT - - -"),
                     0);
    get(&x, 106, "10.0.0.9:1", "http://plain.test/", 500);
    ps_logcount_finish(x.lc);

    t = ps_logcount_totals(x.lc);
    assert_int_equal(t->conns[PS_LS_SPLICE], 2); /* "splice,bump": the first note */
    assert_int_equal(t->conns[PS_LS_TERMINATE], 1);
    assert_int_equal(t->conns[PS_LS_BUMP], 1);
    assert_int_equal(t->conns[PS_LS_OTHER], 1);
    assert_int_equal(t->requests[PS_LS_OTHER], 1);
    assert_int_equal(t->bytes_out[PS_LS_OTHER], 500);
    assert_int_equal(t->bytes_in[PS_LS_SPLICE], 20);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->first_ms, 100250);
    assert_int_equal(t->last_ms, 106000);
    assert_int_equal(x.in.other_records, 1);
    /* Names are lower-cased without the trailing dot; clients are keyed without the port. */
    n = name(&x, "zoom.us");
    assert_non_null(n);
    assert_int_equal(n->c.conns[PS_LS_SPLICE], 2);
    assert_null(name(&x, "Zoom.US."));
    assert_non_null(name(&x, "plain.test"));
    assert_int_equal(ps_logtab_count(ps_logcount_names(x.lc)), 5);
    c = client(&x, "10.0.0.2");
    assert_non_null(c);
    assert_int_equal(c->c.conns[PS_LS_TERMINATE] + c->c.conns[PS_LS_BUMP] + c->c.conns[PS_LS_OTHER],
                     3);
    assert_null(client(&x, "10.0.0.3")); /* the record without a method */
    /* Rules: the note, the default (helper "-" and ICAP "(default)" alike), no decision. */
    r = rule(&x, "Bypass Zoom");
    assert_non_null(r);
    assert_int_equal(r->conns[PS_LS_SPLICE], 2);
    assert_int_equal(r->first_ms, 100250);
    assert_int_equal(r->last_ms, 101250);
    assert_int_equal(rule(&x, PS_LS_RULE_DEFAULT)->conns[PS_LS_BUMP], 1);
    assert_int_equal(rule(&x, PS_LS_RULE_NONE)->conns[PS_LS_OTHER], 1);
    assert_null(rule(&x, "(default)"));
    assert_true(ps_logcount_bytes(x.lc) > empty);
    ps_logcount_free(x.lc);
    ps_logcount_free(NULL);
}

/* ---- bumped connections --------------------------------------------------------------------- */

static void
test_bump_outcomes(void **state)
{
    struct fx x;
    const struct ps_ls_name *n;
    const struct ps_ls_failinfo *fi;

    (void)state;
    fx_new(&x, 60000, 100);
    conn(&x, 10, "10.0.0.1:1", "app.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    get(&x, 11, "10.0.0.1:1", "https://app.test/x", 100); /* carried a request: ok */
    conn(&x, 12, "10.0.0.2:1", "app.test", "bump", ALERT48, "-", "bump", "-", "");
    conn(&x, 13, "10.0.0.3:1", "app.test", "bump", ALERT48, "-", "bump", "-", "");
    conn(&x, 14, "10.0.0.2:2", "app.test", "bump", RESET, "-", "bump", "-", "");
    conn(&x, 15, "10.0.0.4:1", "app.test", "bump", NOTTLS, "-", "bump", "-", "");
    conn(&x, 16, "10.0.0.4:2", "app.test", "bump", "ERR_CONNECT_FAIL/WITH_SERVER", "TLS/1.3",
         "bump", "-", "");
    conn(&x, 17, "10.0.0.4:3", "app.test", "bump", "-/-", "-", "bump", "-", ""); /* no TLS */
    conn(&x, 18, "10.0.0.5:1", "app.test", "bump", "-/-", "TLS/1.2", "bump", "-", "");
    ps_logcount_finish(x.lc); /* the last one never sent a request */

    n = name(&x, "app.test");
    assert_int_equal(n->c.conns[PS_LS_BUMP], 8);
    assert_int_equal(n->c.bump_ok, 1);
    assert_int_equal(n->c.fails[PS_LS_FAIL_ALERT], 2);
    assert_int_equal(n->c.fails[PS_LS_FAIL_RESET], 1);
    assert_int_equal(n->c.fails[PS_LS_FAIL_CLOSED], 0);
    assert_int_equal(n->c.fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(n->c.tls_other, 1);
    assert_int_equal(n->c.requests[PS_LS_BUMP], 1);
    assert_int_equal(x.in.bump_unknown, 1); /* the one without a TLS version */
    assert_int_equal(x.in.pending_end, 1);
    assert_int_equal(x.in.pending_peak, 1);
    fi = n->fail;
    assert_non_null(fi);
    assert_int_equal(fi->n_clients, 3); /* 10.0.0.2 twice, 10.0.0.3, 10.0.0.5 */
    assert_false(fi->clients_capped);
    assert_int_equal(fi->n_examples, 3);
    assert_string_equal(fi->example[0], "10.0.0.2");
    assert_string_equal(fi->example[1], "10.0.0.3");
    assert_string_equal(fi->example[2], "10.0.0.5");
    assert_int_equal(fi->n_alerts, 1);
    assert_int_equal(fi->alert[0], 48);
    assert_int_equal(fi->alert_count[0], 2);
    assert_int_equal(fi->first_ms, 12250);
    assert_int_equal(fi->last_ms, 18250);
    assert_int_equal(ps_logcount_totals(x.lc)->fails[PS_LS_FAIL_ALERT], 2);
    assert_int_equal(client(&x, "10.0.0.2")->c.fails[PS_LS_FAIL_RESET], 1);
    assert_null(name(&x, "other.test"));
    ps_logcount_free(x.lc);
}

/* A waiting connection is judged "no request" once a later record is past its window, when its
 * ip:port comes again, or when max_pending are waiting (the oldest first). */
static void
test_waiting(void **state)
{
    struct fx x;

    (void)state;
    fx_new(&x, 5000, 2);
    conn(&x, 100, "10.0.0.1:1", "a.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    conn(&x, 104, "10.0.0.1:2", "b.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    assert_int_equal(x.in.pending_peak, 2);
    assert_int_equal(name(&x, "a.test")->c.fails[PS_LS_FAIL_NOREQ], 0);
    /* 5 s after a.test (its window, inclusive): still waiting. */
    get(&x, 105, "10.0.0.9:9", "http://x.test/", 1);
    assert_int_equal(name(&x, "a.test")->c.fails[PS_LS_FAIL_NOREQ], 0);
    /* Past it: judged, before this record is counted. */
    get(&x, 106, "10.0.0.1:1", "https://a.test/late", 1);
    assert_int_equal(name(&x, "a.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(name(&x, "a.test")->c.bump_ok, 0);
    /* The same ip:port again: the earlier connection ended without a request. */
    conn(&x, 107, "10.0.0.1:2", "b.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    assert_int_equal(name(&x, "b.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    /* Two are waiting (b.test again and c.test); a third makes the oldest go early. */
    conn(&x, 107, "10.0.0.1:3", "c.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    conn(&x, 108, "10.0.0.1:4", "d.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    assert_int_equal(x.in.pending_early, 1);
    assert_int_equal(name(&x, "b.test")->c.fails[PS_LS_FAIL_NOREQ], 2);
    /* A request in time: ok. */
    get(&x, 109, "10.0.0.1:3", "https://c.test/", 1);
    assert_int_equal(name(&x, "c.test")->c.bump_ok, 1);
    ps_logcount_finish(x.lc);
    assert_int_equal(x.in.pending_end, 1); /* d.test */
    assert_int_equal(name(&x, "d.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(ps_logcount_totals(x.lc)->fails[PS_LS_FAIL_NOREQ], 4);
    assert_int_equal(ps_logcount_totals(x.lc)->bump_ok, 1);
    ps_logcount_free(x.lc);
}

/* ---- tunnels and the native format ---------------------------------------------------------- */

static void
test_tunnels_and_native(void **state)
{
    struct fx x;
    const struct ps_ls_counts *t;

    (void)state;
    fx_new(&x, 1000, 10);
    /* A splice without SNI: its tunnel adds bytes to the connection counted at the CONNECT. */
    assert_int_equal(feed_fmt(&x, "pinsplice",
                              "1.000 1 10.0.0.1:1 NONE_NONE/200 0 10 CONNECT 192.0.2.7:443 - "
                              "splice - - -/- - splice -"),
                     0);
    assert_int_equal(feed_fmt(&x, "pinsplice",
                              "2.000 1 10.0.0.1:1 TCP_TUNNEL/200 4000 10 CONNECT 192.0.2.7:443 - "
                              "splice - - -/- - - -"),
                     0);
    /* A splice at step 1 logs only its tunnel: that record is the connection. */
    assert_int_equal(feed_fmt(&x, "pinsplice",
                              "3.000 1 10.0.0.1:2 TCP_TUNNEL/200 700 10 CONNECT b.test:443 - "
                              "splice - - -/- - - -"),
                     0);
    /* Native squid format: a tunnel is a splice, a CONNECT with a server connection a bump whose
     * outcome is unknown, one without (HIER_NONE) is counted apart. */
    assert_int_equal(feed_fmt(&x, "squid",
                              "4.000 5 10.0.0.2 TCP_TUNNEL/200 1234 CONNECT "
                              "zoom.us:443 - HIER_DIRECT/192.0.2.1 -"),
                     0);
    assert_int_equal(feed_fmt(&x, "squid",
                              "5.000 5 10.0.0.2 NONE/200 0 CONNECT bank.test:443 - "
                              "HIER_DIRECT/192.0.2.2 -"),
                     0);
    assert_int_equal(feed_fmt(&x, "squid",
                              "6.000 5 10.0.0.2 NONE/200 0 CONNECT x.test:443 - "
                              "HIER_NONE/- -"),
                     0);
    ps_logcount_finish(x.lc);
    t = ps_logcount_totals(x.lc);
    assert_int_equal(x.in.tunnels, 3);
    assert_int_equal(t->conns[PS_LS_SPLICE], 3);
    assert_int_equal(t->bytes_out[PS_LS_SPLICE], 4000 + 700 + 1234);
    assert_int_equal(name(&x, "192.0.2.7")->c.conns[PS_LS_SPLICE], 1);
    assert_int_equal(t->conns[PS_LS_BUMP], 1);
    assert_int_equal(x.in.bump_unknown, 1);
    assert_int_equal(x.in.native_connect_nohier, 1);
    /* Its name has a row, with nothing counted in it. */
    assert_int_equal(name(&x, "x.test")->c.conns[PS_LS_BUMP] + name(&x, "x.test")->c.conns[0], 0);
    /* Rule rows come from the pinsplice notes only: the native records add none. */
    assert_int_equal(ps_logtab_count(ps_logcount_rules(x.lc)), 2);
    assert_int_equal(rule(&x, PS_LS_RULE_DEFAULT)->conns[PS_LS_SPLICE], 1);
    assert_int_equal(rule(&x, PS_LS_RULE_NONE)->conns[PS_LS_SPLICE], 1);
    ps_logcount_free(x.lc);
}

/* ---- server checks and monitor rules -------------------------------------------------------- */

static void
test_verify_and_monitor(void **state)
{
    struct fx x;
    const struct ps_ls_rule *r;
    const struct ps_ls_monitor *m;

    (void)state;
    fx_new(&x, 60000, 10);
    conn(&x, 1, "10.0.0.1:1", "a.test", "splice", "-/-", "-", "splice", "Checked", "verified - -");
    conn(&x, 2, "10.0.0.1:2", "a.test", "bump", "-/-", "TLS/1.3", "bump", "Checked",
         "verify-name - -");
    conn(&x, 3, "10.0.0.1:3", "a.test", "bump", "-/-", "TLS/1.3", "bump", "Checked",
         "verify-someday - -");
    conn(&x, 4, "10.0.0.2:1", "app.test", "bump", ALERT48, "-", "bump", "-",
         "- splice Trial%20app");
    conn(&x, 5, "10.0.0.2:2", "app.test", "bump", "-/-", "TLS/1.3", "bump", "-",
         "- splice Trial%20app");
    get(&x, 6, "10.0.0.2:2", "https://app.test/", 10);
    conn(&x, 7, "10.0.0.2:3", "app.test", "splice", "-/-", "-", "splice", "Other",
         "- terminate Trial%20app");
    ps_logcount_finish(x.lc);
    assert_int_equal(x.in.verify[0], 1);
    assert_int_equal(x.in.verify[2], 1); /* verify-name */
    assert_int_equal(x.in.verify_other, 1);
    r = rule(&x, "Checked");
    assert_int_equal(r->verify[0], 1);
    assert_int_equal(r->verify[2], 1);
    assert_int_equal(r->conns[PS_LS_BUMP], 2);
    m = ps_logtab_find(ps_logcount_monitors(x.lc), "Trial app", 9);
    assert_non_null(m);
    assert_int_equal(m->would[PS_LS_SPLICE], 2);
    assert_int_equal(m->would[PS_LS_TERMINATE], 1);
    assert_int_equal(m->conns[PS_LS_BUMP], 2);
    assert_int_equal(m->conns[PS_LS_SPLICE], 1);
    assert_int_equal(m->abandoned, 1);
    assert_int_equal(m->carried, 1);
    assert_int_equal(m->first_ms, 4250);
    assert_int_equal(m->last_ms, 7250);
    assert_int_equal(ps_logtab_count(ps_logcount_monitors(x.lc)), 1);
    ps_logcount_free(x.lc);
}

/* ---- out of memory -------------------------------------------------------------------------- */

/* Count a small log; the first PS_ENOMEM is returned (the set is unusable after it). */
static int
count_all(struct fx *x)
{
    static const char *const lines[] = {
        "1.000 1 10.0.0.1:1 NONE_NONE/200 0 10 CONNECT a.test:443 - bump a.test a.test -/- "
        "TLS/1.3 bump - - - -",
        "2.000 1 10.0.0.2:1 NONE_NONE/200 0 10 CONNECT a.test:443 - bump a.test a.test " ALERT48
        " - bump R - splice M",
        "3.000 1 10.0.0.3:1 NONE_NONE/200 0 10 CONNECT 192.0.2.1:443 - splice - - -/- - splice "
        "- - - -",
        "4.000 1 10.0.0.1:1 TCP_MISS/200 5 10 GET https://a.test/ - bump - - -/- TLS/1.3 - -",
    };
    const struct ps_logformat *f = ps_logformat_builtin("pinsplice");
    size_t i;
    int rc;

    memset(&x->in, 0, sizeof(x->in));
    if ((x->lc = ps_logcount_new(1000, 10, &x->in)) == NULL)
        return PS_ENOMEM;
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char buf[512];
        struct ps_logline l;
        strcpy(buf, lines[i]);
        assert_int_equal(ps_logline_parse(f, buf, strlen(buf), &l, NULL), 0);
        if ((rc = ps_logcount_record(x->lc, &l, f)) < 0)
            return rc;
    }
    ps_logcount_finish(x->lc);
    return 0;
}

static void
test_enomem(void **state)
{
    struct fx x;
    long n;
    int rc;

    (void)state;
    (void)ps_logformat_builtin("pinsplice"); /* compiled once, outside the injection */
    for (n = 0;; n++) {
        bool hit;
        x.lc = NULL;
        oom_fail_at(n);
        rc = count_all(&x);
        hit = oom_hit();
        oom_fail_at(-1);
        ps_logcount_free(x.lc);
        if (!hit)
            break;
        assert_int_equal(rc, PS_ENOMEM);
        assert_true(n < 1000);
    }
    assert_int_equal(rc, 0);
    assert_true(n > 6); /* the tables, and entries in them */
}

/* ps_logcount_finish cannot return an error: a failure it meets must not lose a count. */
static void
test_finish_enomem(void **state)
{
    struct fx x;
    uint64_t noreq;

    (void)state;
    fx_new(&x, 60000, 10);
    conn(&x, 1, "10.0.0.1:1", "a.test", "bump", "-/-", "TLS/1.3", "bump", "-", "");
    oom_fail_at(0); /* the failure details of a.test, allocated on its first failure */
    assert_int_equal(ps_logcount_finish(x.lc), PS_ENOMEM);
    oom_fail_at(-1);
    noreq = ps_logcount_totals(x.lc)->fails[PS_LS_FAIL_NOREQ];
    assert_int_equal(x.in.pending_end, 1);
    ps_logcount_free(x.lc);
    /* the failure is reported, and the count is whole all the same */
    assert_int_equal(noreq, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_bump_outcomes),
        cmocka_unit_test(test_waiting),
        cmocka_unit_test(test_tunnels_and_native),
        cmocka_unit_test(test_verify_and_monitor),
        cmocka_unit_test(test_enomem),
        cmocka_unit_test(test_finish_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
