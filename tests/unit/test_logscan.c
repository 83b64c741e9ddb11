#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "err.h"
#include "logline.h"
#include "logmodel.h"
#include "logread.h"
#include "logreport.h"
#include "logscan.h"
#include "logtab.h"

#define ALERT48 "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1"
#define ALERT42 "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000412+TLS_IO_ERR=1"
#define RESET "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104"
#define CLOSED "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5"
#define NOTTLS "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A00010B+TLS_IO_ERR=1"

static struct ps_logscan *
scanner(int64_t window_s, size_t max_pending, size_t keep_bad)
{
    struct ps_logscan_opts o;
    struct ps_logscan *ls;

    ps_logscan_opts_init(&o);
    if (window_s > 0)
        o.window_ms = window_s * 1000;
    if (max_pending > 0)
        o.max_pending = max_pending;
    o.keep_bad = keep_bad;
    ls = ps_logscan_new(&o);
    assert_non_null(ls);
    assert_int_equal(ps_logscan_begin(ls, "test", NULL), 0);
    return ls;
}

static void
feed(struct ps_logscan *ls, const char *text)
{
    char buf[4096];
    size_t n = strlen(text);

    assert_true(n < sizeof(buf));
    memcpy(buf, text, n + 1);
    assert_int_equal(ps_logscan_line(ls, buf, n, NULL), 0);
}

/* A pinsplice-format record. t in seconds; "-" for absent fields. */
static void
rec(struct ps_logscan *ls, double t, const char *peer, const char *result, long bytes,
    const char *method, const char *url, const char *bump, const char *sni, const char *err,
    const char *tls, const char *action, const char *rule)
{
    char line[2048];

    snprintf(line, sizeof(line), "%.3f 1 %s %s %ld 10 %s %s - %s %s %s %s %s %s %s", t, peer,
             result, bytes, method, url, bump, sni, strcmp(sni, "-") ? sni : "-", err, tls, action,
             rule);
    feed(ls, line);
}

/* A bumped CONNECT (default action) from peer to name with err (or "-/-") and tls. */
static void
bumped(struct ps_logscan *ls, double t, const char *peer, const char *name, const char *err,
       const char *tls)
{
    char url[300];

    snprintf(url, sizeof(url), "%s:443", name);
    rec(ls, t, peer, "NONE_NONE/200", 0, "CONNECT", url, "bump", name, err, tls, "bump", "-");
}

static void
get(struct ps_logscan *ls, double t, const char *peer, const char *name, long bytes)
{
    char url[300];

    snprintf(url, sizeof(url), "https://%s/x", name);
    rec(ls, t, peer, "TCP_MISS/200", bytes, "GET", url, "bump", name, "-/-", "TLS/1.3", "-", "-");
}

/* A CONNECT record with the trailing notes (fields 17-19). */
static void
noted(struct ps_logscan *ls, double t, const char *peer, const char *name, const char *err,
      const char *tls, const char *action, const char *rule, const char *verify,
      const char *monitor, const char *monitor_rule)
{
    char line[2048];

    snprintf(line, sizeof(line),
             "%.3f 1 %s NONE_NONE/200 0 10 CONNECT %s:443 - %s %s %s %s %s %s %s %s %s %s", t,
             peer, name, action, name, name, err, tls, action, rule, verify, monitor,
             monitor_rule);
    feed(ls, line);
}

static const struct ps_ls_name *
name(struct ps_logscan *ls, const char *n)
{
    return ps_logtab_find(ps_logscan_names(ls), n, strlen(n));
}

static const struct ps_ls_rule *
rule(struct ps_logscan *ls, const char *n)
{
    return ps_logtab_find(ps_logscan_rules(ls), n, strlen(n));
}

/* The default has one row whichever path decided: the helper logs "-" as the rule, the c-icap
 * service "(default)" (or "(no-rules)", ... for other decisions without a rule). */
static void
test_default_one_label(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 5);

    (void)state;
    rec(ls, 100, "10.0.0.1:1", "NONE_NONE/200", 0, "CONNECT", "a.test:443", "bump", "a.test",
        "-/-", "TLS/1.3", "bump", "-");
    rec(ls, 101, "10.0.0.1:2", "NONE_NONE/200", 0, "CONNECT", "b.test:443", "bump", "b.test",
        "-/-", "TLS/1.3", "bump", "(default)");
    rec(ls, 102, "10.0.0.1:3", "NONE_NONE/200", 0, "CONNECT", "c.test:443", "bump", "c.test",
        "-/-", "TLS/1.3", "bump", "(no-rules)");
    rec(ls, 103, "10.0.0.1:4", "NONE_NONE/200", 0, "CONNECT", "d.test:443", "splice", "d.test",
        "-/-", "-", "splice", "(default)%20mine"); /* a rule's name, not the label */
    ps_logscan_finish(ls);
    assert_int_equal(rule(ls, PS_LS_RULE_DEFAULT)->conns[PS_LS_BUMP], 3);
    assert_null(rule(ls, "(default)"));
    assert_null(rule(ls, "(no-rules)"));
    assert_int_equal(rule(ls, "(default) mine")->conns[PS_LS_SPLICE], 1);
    ps_logscan_free(ls);
}

static void
test_classify(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 5);
    const struct ps_ls_counts *t;
    const struct ps_ls_input *in;
    const struct ps_ls_name *n;

    (void)state;
    /* peek + splice: the CONNECT decides, the tunnel adds bytes */
    rec(ls, 100, "10.0.0.1:1", "NONE_NONE/200", 0, "CONNECT", "a.test:443", "splice", "a.test",
        "-/-", "-", "splice", "Bypass%20A");
    rec(ls, 101, "10.0.0.1:1", "TCP_TUNNEL/200", 5000, "CONNECT", "a.test:443", "splice", "a.test",
        "-/-", "-", "-", "-");
    /* a splice at step 1 logs only its tunnel: that is the connection */
    rec(ls, 102, "10.0.0.1:2", "TCP_TUNNEL/200", 700, "CONNECT", "b.test:443", "splice", "-",
        "-/-", "-", "-", "-");
    /* a splice of a client without SNI: its tunnel is not a second connection */
    rec(ls, 103, "10.0.0.1:3", "NONE_NONE/200", 0, "CONNECT", "192.0.2.7:443", "splice", "-",
        "-/-", "-", "splice", "-");
    rec(ls, 104, "10.0.0.1:3", "TCP_TUNNEL/200", 300, "CONNECT", "192.0.2.7:443", "splice", "-",
        "-/-", "-", "-", "-");
    /* bumped: ok, alert, reset, closed, no request, server error, not TLS */
    bumped(ls, 110, "10.0.0.2:1", "c.test", "-/-", "TLS/1.3");
    get(ls, 111, "10.0.0.2:1", "c.test", 1234);
    get(ls, 112, "10.0.0.2:1", "c.test", 66); /* a second request on the same connection */
    bumped(ls, 113, "10.0.0.2:2", "c.test", ALERT48, "-");
    bumped(ls, 114, "10.0.0.2:3", "c.test", RESET, "-");
    bumped(ls, 115, "10.0.0.2:4", "c.test", CLOSED, "-");
    bumped(ls, 116, "10.0.0.2:5", "c.test", "-/-", "TLS/1.2");
    bumped(ls, 117, "10.0.0.2:6", "c.test", "ERR_CONNECT_FAIL/WITH_SERVER", "TLS/1.3");
    bumped(ls, 118, "10.0.0.2:7", "c.test", NOTTLS, "-");
    /* terminate, denied, plain HTTP, a client that sent nothing */
    rec(ls, 120, "10.0.0.3:1", "NONE_NONE/200", 0, "CONNECT", "d.test:443", "terminate", "d.test",
        "-/-", "-", "terminate", "Block");
    rec(ls, 121, "10.0.0.3:2", "TCP_DENIED/403", 3000, "CONNECT", "e.test:25", "-", "-",
        "ERR_ACCESS_DENIED/-", "-", "-", "-");
    rec(ls, 122, "10.0.0.3:3", "TCP_MISS/200", 900, "GET", "http://f.test/", "-", "-", "-/-", "-",
        "-", "-");
    feed(ls, "123.000 0 10.0.0.3:4 NONE_NONE/000 0 0 - error:transaction-end-before-headers - - - "
             "- ERR_CLIENT_GONE/WITH_CLIENT - - -");
    ps_logscan_finish(ls);

    t = ps_logscan_totals(ls);
    in = ps_logscan_input(ls);
    assert_int_equal(in->records, 18);
    assert_int_equal(in->bad, 0);
    assert_int_equal(in->tunnels, 3);
    assert_int_equal(in->other_records, 1);
    assert_int_equal(t->conns[PS_LS_SPLICE], 3);
    assert_int_equal(t->conns[PS_LS_BUMP], 7);
    assert_int_equal(t->conns[PS_LS_TERMINATE], 1);
    assert_int_equal(t->conns[PS_LS_OTHER], 1);
    assert_int_equal(t->bytes_out[PS_LS_SPLICE], 6000);
    assert_int_equal(t->requests[PS_LS_BUMP], 2);
    assert_int_equal(t->bytes_out[PS_LS_BUMP], 1300);
    assert_int_equal(t->requests[PS_LS_OTHER], 1);
    assert_int_equal(t->bytes_out[PS_LS_OTHER], 3900);
    assert_int_equal(t->bump_ok, 1);
    assert_int_equal(t->fails[PS_LS_FAIL_ALERT], 1);
    assert_int_equal(t->fails[PS_LS_FAIL_RESET], 1);
    assert_int_equal(t->fails[PS_LS_FAIL_CLOSED], 1);
    assert_int_equal(t->fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(t->tls_other, 1);
    assert_int_equal(t->errors, 6); /* 3 handshake failures, connect fail, not TLS, denied */
    assert_int_equal(in->pending_end, 1);
    assert_int_equal(in->bump_unknown, 0);

    n = name(ls, "c.test");
    assert_non_null(n);
    assert_int_equal(n->c.conns[PS_LS_BUMP], 7);
    assert_int_equal(n->c.bump_ok, 1);
    assert_non_null(n->fail);
    assert_int_equal(n->fail->n_clients, 1);
    assert_string_equal(n->fail->example[0], "10.0.0.2");
    assert_int_equal(n->fail->n_alerts, 1);
    assert_int_equal(n->fail->alert[0], 48);
    assert_int_equal(n->fail->first_ms, 113000);
    assert_int_equal(n->fail->last_ms, 116000);
    assert_null(name(ls, "a.test")->fail);
    assert_int_equal(name(ls, "192.0.2.7")->c.conns[PS_LS_SPLICE], 1);
    assert_int_equal(name(ls, "b.test")->c.bytes_out[PS_LS_SPLICE], 700);
    assert_int_equal(rule(ls, "Bypass A")->conns[PS_LS_SPLICE], 1);
    assert_int_equal(rule(ls, "Block")->conns[PS_LS_TERMINATE], 1);
    assert_int_equal(rule(ls, PS_LS_RULE_DEFAULT)->conns[PS_LS_BUMP], 7);
    assert_int_equal(rule(ls, PS_LS_RULE_DEFAULT)->conns[PS_LS_SPLICE], 1); /* no-SNI splice */
    assert_int_equal(rule(ls, PS_LS_RULE_NONE)->conns[PS_LS_SPLICE], 1);    /* step-1 tunnel */
    assert_int_equal(rule(ls, PS_LS_RULE_NONE)->conns[PS_LS_OTHER], 1);     /* denied */
    assert_true(ps_logscan_can_find(ls));
    assert_int_equal(ps_logscan_formats(ls), 1u);
    ps_logscan_free(ls);
}

static void
test_names_and_clients(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 5);
    const struct ps_ls_client *cl;

    (void)state;
    /* SNI wins over the CONNECT host; case and one trailing dot do not make a new name */
    rec(ls, 1, "10.0.0.1:1", "NONE_NONE/200", 0, "CONNECT", "x.test:443", "bump", "Mail.Test.",
        ALERT48, "-", "bump", "-");
    rec(ls, 2, "2001:db8::1:1", "NONE_NONE/200", 0, "CONNECT", "x.test:443", "bump", "mail.test",
        ALERT48, "-", "bump", "-");
    ps_logscan_finish(ls);
    assert_int_equal(ps_logtab_count(ps_logscan_names(ls)), 1);
    assert_int_equal(name(ls, "mail.test")->fail->n_clients, 2);
    assert_string_equal(name(ls, "mail.test")->fail->example[1], "2001:db8::1");
    cl = ps_logtab_find(ps_logscan_clients(ls), "10.0.0.1", 8);
    assert_non_null(cl);
    assert_int_equal(cl->c.fails[PS_LS_FAIL_ALERT], 1);
    ps_logscan_free(ls);
}

static void
test_window(void **state)
{
    struct ps_logscan *ls = scanner(60, 0, 5);
    const struct ps_ls_name *n;

    (void)state;
    bumped(ls, 1000, "10.0.0.1:1", "slow.test", "-/-", "TLS/1.3");  /* its GET takes 30 s */
    bumped(ls, 1001, "10.0.0.1:2", "idle.test", "-/-", "TLS/1.3");  /* never sends anything */
    bumped(ls, 1002, "10.0.0.1:3", "late.test", "-/-", "TLS/1.3");  /* its GET takes 90 s */
    get(ls, 1030, "10.0.0.1:1", "slow.test", 10);
    assert_int_equal(ps_logscan_input(ls)->pending_peak, 3);
    /* 1063 > 1002 + 60: idle.test and late.test are judged; then late.test's GET comes */
    rec(ls, 1062, "10.0.0.9:9", "TCP_MISS/200", 1, "GET", "http://other.test/", "-", "-", "-/-",
        "-", "-", "-");
    assert_int_equal(ps_logscan_totals(ls)->fails[PS_LS_FAIL_NOREQ], 1); /* 1062 = 1002 + 60 */
    rec(ls, 1063, "10.0.0.9:9", "TCP_MISS/200", 1, "GET", "http://other.test/", "-", "-", "-/-",
        "-", "-", "-");
    assert_int_equal(ps_logscan_totals(ls)->fails[PS_LS_FAIL_NOREQ], 2);
    get(ls, 1092, "10.0.0.1:3", "late.test", 10);
    ps_logscan_finish(ls);
    n = name(ls, "slow.test");
    assert_int_equal(n->c.bump_ok, 1);
    assert_null(n->fail);
    assert_int_equal(name(ls, "idle.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    /* a first request longer than the window is miscounted: documented, and why --window exists */
    assert_int_equal(name(ls, "late.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(name(ls, "late.test")->c.requests[PS_LS_BUMP], 1);
    assert_int_equal(ps_logscan_input(ls)->pending_end, 0);
    ps_logscan_free(ls);
}

static void
test_port_reuse_and_cap(void **state)
{
    struct ps_logscan *ls = scanner(0, 2, 5);
    const struct ps_ls_input *in;

    (void)state;
    bumped(ls, 1, "10.0.0.1:5", "a.test", "-/-", "TLS/1.3");
    bumped(ls, 2, "10.0.0.1:5", "b.test", "-/-", "TLS/1.3"); /* same ip:port: a.test ended */
    get(ls, 3, "10.0.0.1:5", "b.test", 1);
    assert_int_equal(name(ls, "a.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    assert_int_equal(name(ls, "b.test")->c.bump_ok, 1);
    /* max_pending 2: the third waiting connection pushes out the oldest */
    bumped(ls, 4, "10.0.0.1:6", "c.test", "-/-", "TLS/1.3");
    bumped(ls, 5, "10.0.0.1:7", "d.test", "-/-", "TLS/1.3");
    bumped(ls, 6, "10.0.0.1:8", "e.test", "-/-", "TLS/1.3");
    in = ps_logscan_input(ls);
    assert_int_equal(in->pending_early, 1);
    assert_int_equal(name(ls, "c.test")->c.fails[PS_LS_FAIL_NOREQ], 1);
    get(ls, 7, "10.0.0.1:8", "e.test", 1);
    ps_logscan_finish(ls);
    assert_int_equal(in->pending_peak, 2);
    assert_int_equal(in->pending_end, 1); /* d.test */
    assert_int_equal(name(ls, "e.test")->c.bump_ok, 1);
    ps_logscan_free(ls);
}

static void
test_many_clients_and_alerts(void **state)
{
    static const char *const details[] = {ALERT48, ALERT42,
        "ERR_SECURE_ACCEPT_FAIL/TLS_LIB_ERR=A000416", "ERR_SECURE_ACCEPT_FAIL/TLS_LIB_ERR=A00042E",
        "ERR_SECURE_ACCEPT_FAIL/TLS_LIB_ERR=A000428"};
    struct ps_logscan *ls = scanner(0, 0, 5);
    const struct ps_ls_failinfo *fi;
    char peer[64];
    int i;

    (void)state;
    for (i = 0; i < 20; i++) {
        snprintf(peer, sizeof(peer), "10.1.0.%d:1000", i + 1);
        bumped(ls, 10 + i, peer, "pin.test", details[i % 5], "-");
        bumped(ls, 40 + i, peer, "pin.test", details[i % 5], "-"); /* the same client again */
    }
    ps_logscan_finish(ls);
    fi = name(ls, "pin.test")->fail;
    assert_int_equal(name(ls, "pin.test")->c.fails[PS_LS_FAIL_ALERT], 40);
    assert_int_equal(fi->n_clients, PS_LS_CLIENTS_TRACK);
    assert_true(fi->clients_capped);
    assert_int_equal(fi->n_examples, PS_LS_EXAMPLES);
    assert_string_equal(fi->example[2], "10.1.0.3");
    assert_int_equal(fi->n_alerts, PS_LS_ALERTS); /* the 5th distinct alert is only counted */
    assert_int_equal(fi->alert[0], 48);
    assert_int_equal(fi->alert[2], 46); /* A000416: reason 0x416 = 1046 */
    assert_int_equal(fi->alert[3], 70); /* A00042E: reason 0x42E = 1070 */
    ps_logscan_free(ls);
}

/* The report's rows of a table, most connections first. With two rows or more the rows are
 * moved down over the sort records they came from: that copy overlapped (a memcpy of
 * overlapping memory, UB that ASan reports; found by fuzz_logline), so run this under
 * --enable-asan too. */
static void
test_report_rows(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 5);
    struct ps_logmodel_row *rows = NULL;
    char peer[64], want[32];
    size_t n = 0, i;
    int c, k;

    (void)state;
    for (c = 1; c <= 6; c++) {
        snprintf(peer, sizeof(peer), "10.2.0.%d:1000", c);
        for (k = 0; k < c; k++)
            bumped(ls, 10 + c * 10 + k, peer, "rows.test", "-/-", "TLS/1.3");
    }
    ps_logscan_finish(ls);
    assert_int_equal(ps_logmodel_rows(ps_logscan_clients(ls), PS_ORDER_CONNS, &rows, &n), 0);
    assert_int_equal(n, 6);
    for (i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "10.2.0.%zu", 6 - i);
        assert_int_equal(rows[i].len, strlen(want));
        assert_memory_equal(rows[i].key, want, rows[i].len);
        assert_ptr_equal(rows[i].value, ps_logtab_find(ps_logscan_clients(ls), want, strlen(want)));
    }
    free(rows);
    ps_logscan_free(ls);
}

static void
test_time_filter(void **state)
{
    struct ps_logscan_opts o;
    struct ps_logscan *ls;

    (void)state;
    ps_logscan_opts_init(&o);
    o.since_ms = 100000;
    o.until_ms = 199999;
    ls = ps_logscan_new(&o);
    assert_non_null(ls);
    assert_int_equal(ps_logscan_begin(ls, "f", NULL), 0);
    bumped(ls, 99.999, "10.0.0.1:1", "a.test", ALERT48, "-");
    bumped(ls, 100, "10.0.0.1:2", "a.test", ALERT48, "-");
    bumped(ls, 199.999, "10.0.0.1:3", "a.test", ALERT48, "-");
    bumped(ls, 200, "10.0.0.1:4", "a.test", ALERT48, "-");
    ps_logscan_finish(ls);
    assert_int_equal(ps_logscan_input(ls)->filtered, 2);
    assert_int_equal(ps_logscan_input(ls)->records, 2);
    assert_int_equal(name(ls, "a.test")->c.fails[PS_LS_FAIL_ALERT], 2);
    ps_logscan_free(ls);
}

static void
test_auto_detect_and_bad(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 2);
    const struct ps_ls_bad *b;
    const struct ps_ls_file *f;
    size_t nb, nf;

    (void)state;
    feed(ls, "garbage line");
    feed(ls, "1795732891.740     70 127.0.0.1 NONE_NONE/200 0 CONNECT good.test:443 - "
             "HIER_DIRECT/127.0.0.1 -");
    feed(ls, "1795732891.742 0 127.0.0.1 TCP_MISS/200 5484 GET https://good.test/ - "
             "HIER_DIRECT/127.0.0.1 text/html\r"); /* CRLF */
    feed(ls, "");
    bumped(ls, 1795732892, "127.0.0.1:5", "x.test", ALERT48, "-"); /* the format changes */
    feed(ls, "1795732891.7x 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -");
    feed(ls, "1795732891.7 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -");
    ps_logscan_finish(ls);
    f = ps_logscan_files(ls, &nf);
    assert_int_equal(nf, 1);
    assert_int_equal(f[0].lines, 7);
    assert_int_equal(f[0].blank, 1);
    assert_int_equal(f[0].bad, 2);
    assert_int_equal(f[0].by_format[0], 1);
    assert_int_equal(f[0].by_format[1], 3);
    b = ps_logscan_bad(ls, &nb);
    assert_int_equal(nb, 2);
    assert_int_equal(b[0].line, 1);
    assert_string_equal(b[0].text, "garbage line");
    assert_non_null(strstr(b[0].reason, "not pinsplice (too few fields (2 of 16)) nor squid"));
    assert_int_equal(b[1].line, 6);
    assert_non_null(strstr(b[1].reason, "bad timestamp"));
    assert_int_equal(ps_logscan_formats(ls), 3u);
    assert_int_equal(name(ls, "good.test")->c.conns[PS_LS_BUMP], 1);
    assert_int_equal(name(ls, "good.test")->c.requests[PS_LS_BUMP], 1);
    ps_logscan_free(ls);
}

/* Fields 17-19: server check outcomes per rule and in total; each monitor rule's matches with
 * what the real decision did and, for the bumped ones, whether the client gave up. */
static void
test_checks_and_monitors(void **state)
{
    struct ps_logscan *ls = scanner(0, 0, 0);
    const struct ps_ls_input *in;
    const struct ps_ls_monitor *m;
    const struct ps_ls_rule *r;

    (void)state;
    noted(ls, 1, "10.0.0.1:1", "www.zoom.us", "-/-", "-", "splice", "Zoom", "verified", "-", "-");
    noted(ls, 2, "10.0.0.1:2", "www.zoom.us", "-/-", "TLS/1.3", "bump", "Zoom", "verify-failed",
          "-", "-");
    noted(ls, 3, "10.0.0.1:3", "www.zoom.us", "-/-", "TLS/1.3", "bump", "Zoom", "verify-timeout",
          "-", "-");
    noted(ls, 4, "10.0.0.1:4", "www.zoom.us", "-/-", "-", "splice", "Zoom", "verify-new", "-",
          "-");
    /* a monitor rule: one bumped connection abandoned (alert 48), one that carried a request,
     * one that never sent one, and one the real rules spliced anyway */
    noted(ls, 10, "10.0.0.2:1", "app.test", ALERT48, "-", "bump", "-", "-", "splice",
          "Trial%20app");
    noted(ls, 11, "10.0.0.2:2", "app.test", "-/-", "TLS/1.3", "bump", "-", "-", "splice",
          "Trial%20app");
    get(ls, 11.5, "10.0.0.2:2", "app.test", 100);
    noted(ls, 12, "10.0.0.2:3", "app.test", "-/-", "TLS/1.3", "bump", "-", "-", "splice",
          "Trial%20app");
    noted(ls, 13, "10.0.0.2:4", "app.test", "-/-", "-", "splice", "Zoom", "-", "splice",
          "Trial%20app");
    ps_logscan_finish(ls);

    in = ps_logscan_input(ls);
    assert_int_equal(in->verify[0], 1);
    assert_int_equal(in->verify[1], 1);
    assert_int_equal(in->verify[4], 1);
    assert_int_equal(in->verify_other, 1);
    r = rule(ls, "Zoom");
    assert_non_null(r);
    assert_int_equal(r->verify[0], 1);
    assert_int_equal(r->verify[1], 1);
    assert_int_equal(r->conns[PS_LS_SPLICE], 3);
    m = ps_logtab_find(ps_logscan_monitors(ls), "Trial app", 9);
    assert_non_null(m);
    assert_int_equal(m->would[PS_LS_SPLICE], 4);
    assert_int_equal(m->conns[PS_LS_BUMP], 3);
    assert_int_equal(m->conns[PS_LS_SPLICE], 1);
    assert_int_equal(m->abandoned, 2); /* the alert and the connection without a request */
    assert_int_equal(m->carried, 1);
    assert_int_equal(ps_logtab_count(ps_logscan_monitors(ls)), 1);
    ps_logscan_free(ls);
}

static void
test_native(void **state)
{
    struct ps_logscan_opts o;
    struct ps_logscan *ls;
    const struct ps_ls_counts *t;

    (void)state;
    ps_logscan_opts_init(&o);
    o.format = ps_logformat_builtin("squid");
    ls = ps_logscan_new(&o);
    assert_non_null(ls);
    assert_int_equal(ps_logscan_begin(ls, "native", NULL), 0);
    feed(ls, "1.0 1 10.0.0.1 NONE_NONE/200 0 CONNECT a.test:443 - HIER_NONE/- -");
    feed(ls, "2.0 1 10.0.0.1 TCP_TUNNEL/200 700 CONNECT a.test:443 - HIER_DIRECT/192.0.2.1 -");
    feed(ls, "3.0 1 10.0.0.1 NONE_NONE/200 0 CONNECT b.test:443 - HIER_DIRECT/192.0.2.2 -");
    feed(ls, "4.0 1 10.0.0.1 TCP_MISS/200 50 GET https://b.test/x - HIER_DIRECT/192.0.2.2 -");
    feed(ls, "5.0 1 10.0.0.1 TCP_DENIED/403 10 CONNECT c.test:25 - HIER_NONE/- -");
    feed(ls, "6.0 1 10.0.0.1 TCP_MISS/200 5 GET http://[2001:db8::1]:8080/ - HIER_DIRECT/x -");
    /* a pinsplice record is bad when the format is forced */
    bumped(ls, 7, "10.0.0.1:5", "x.test", ALERT48, "-");
    ps_logscan_finish(ls);
    t = ps_logscan_totals(ls);
    assert_int_equal(t->conns[PS_LS_SPLICE], 1);
    assert_int_equal(t->conns[PS_LS_BUMP], 1);
    assert_int_equal(t->conns[PS_LS_OTHER], 1);
    assert_int_equal(t->requests[PS_LS_BUMP], 1);
    assert_int_equal(t->requests[PS_LS_OTHER], 1);
    assert_int_equal(ps_logscan_input(ls)->native_connect_nohier, 1);
    assert_int_equal(ps_logscan_input(ls)->bump_unknown, 1);
    assert_int_equal(ps_logscan_input(ls)->bad, 1);
    assert_int_equal(ps_logtab_count(ps_logscan_rules(ls)), 0);
    assert_non_null(name(ls, "2001:db8::1"));
    assert_false(ps_logscan_can_find(ls));
    ps_logscan_free(ls);
}

/* ---- files ---------------------------------------------------------------------------------- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_logscan.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char native_text[] =
    "1.0 1 10.0.0.1 NONE_NONE/200 0 CONNECT b.test:443 - HIER_DIRECT/192.0.2.2 -\r\n"
    "2.0 1 10.0.0.1 TCP_MISS/200 50 GET https://b.test/x - HIER_DIRECT/192.0.2.2 -\n"
    "\n"
    "3.0 1 10.0.0.1 TCP_MISS/200 50 GET https://b.test/y - HIER_DIRECT/192.0.2.2 -"; /* no \n */

static void
write_file(const char *path, const char *data, size_t n, bool gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

static void
test_read_files(void **state)
{
    char plain[128], gz[128], trunc[128], big[128];
    struct ps_logscan_opts o;
    struct ps_logscan *ls;
    struct ps_err err = {0, ""};
    const struct ps_ls_file *f;
    const struct ps_ls_bad *b;
    size_t nf, nb, i, n;
    char *data;
    FILE *fp;
    long size;

    (void)state;
    snprintf(plain, sizeof(plain), "%s/access.log", tmpdir);
    snprintf(gz, sizeof(gz), "%s/access.log.1.gz", tmpdir);
    snprintf(trunc, sizeof(trunc), "%s/access.log.2.gz", tmpdir);
    snprintf(big, sizeof(big), "%s/big.log", tmpdir);
    write_file(plain, native_text, strlen(native_text), false);
    write_file(gz, native_text, strlen(native_text), true);
    /* a gzip file cut in the middle */
    fp = fopen(gz, "rb");
    assert_non_null(fp);
    data = malloc(4096);
    assert_non_null(data);
    size = (long)fread(data, 1, 4096, fp);
    fclose(fp);
    write_file(trunc, data, (size_t)size - 12, false);
    free(data);
    /* lines of 100 KiB and 2 MiB (over PS_LOGLINE_MAX and over the read buffer), then a good one */
    n = 2 * 1024 * 1024 + 200 * 1024;
    data = malloc(n + 256);
    assert_non_null(data);
    memset(data, 'x', n);
    data[100 * 1024] = '\n';
    data[n - 1] = '\n';
    strcpy(data + n, "4.0 1 10.0.0.1 TCP_MISS/200 50 GET https://b.test/z - HIER_DIRECT/x -\n");
    write_file(big, data, strlen(data), false);
    free(data);

    ps_logscan_opts_init(&o);
    o.keep_bad = 5;
    ls = ps_logscan_new(&o);
    assert_non_null(ls);
    assert_int_equal(ps_logread_file(ls, plain, &err), 0);
    assert_int_equal(ps_logread_file(ls, gz, &err), 0);
    assert_int_equal(ps_logread_file(ls, trunc, &err), PS_EIO);
    assert_non_null(strstr(err.msg, "access.log.2.gz"));
    assert_int_equal(ps_logread_file(ls, big, &err), 0);
    assert_int_equal(ps_logread_file(ls, "/nonexistent/access.log", &err), PS_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/access.log: No such file"));
    ps_logscan_finish(ls);
    f = ps_logscan_files(ls, &nf);
    assert_int_equal(nf, 5);
    for (i = 0; i < 2; i++) {
        assert_int_equal(f[i].lines, 4);
        assert_int_equal(f[i].records, 3);
        assert_int_equal(f[i].blank, 1);
        assert_int_equal(f[i].bad, 0);
        assert_false(f[i].error);
    }
    assert_true(f[2].error);
    assert_int_equal(f[3].lines, 3);
    assert_int_equal(f[3].bad, 2);
    assert_int_equal(f[3].records, 1);
    assert_true(f[4].error);
    assert_int_equal(f[4].lines, 0);
    /* the truncated file may end in a cut line (bad); big.log's two long lines come after */
    b = ps_logscan_bad(ls, &nb);
    assert_int_equal(nb, f[2].bad + 2);
    b += f[2].bad;
    assert_int_equal(b[0].file, 3);
    assert_int_equal(b[0].line, 1);
    assert_non_null(strstr(b[0].reason, "line too long (102400 bytes"));
    assert_true(b[0].cut);
    assert_int_equal(b[0].text_len, PS_LS_BAD_TEXT);
    assert_int_equal(b[1].file, 3);
    assert_int_equal(b[1].line, 2);
    assert_non_null(strstr(b[1].reason, "line too long (over 65536"));
    /* 2 GETs in each whole copy, 1 in big.log, and those of the truncated copy (after its
     * CONNECT) */
    assert_int_equal(name(ls, "b.test")->c.requests[PS_LS_BUMP],
                     5 + f[2].records - (f[2].records > 0));
    ps_logscan_free(ls);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_default_one_label),
        cmocka_unit_test(test_names_and_clients),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_port_reuse_and_cap),
        cmocka_unit_test(test_many_clients_and_alerts),
        cmocka_unit_test(test_report_rows),
        cmocka_unit_test(test_time_filter),
        cmocka_unit_test(test_auto_detect_and_bad),
        cmocka_unit_test(test_checks_and_monitors),
        cmocka_unit_test(test_native),
        cmocka_unit_test_setup_teardown(test_read_files, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
