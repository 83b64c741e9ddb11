#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "logfind.h"
#include "logjson.h"
#include "logmodel.h"
#include "logreport.h"
#include "logscan.h"
#include "logtab.h"
#include "oom.h"

/*
 * The renderers of lib/logreport.c (text, CSV) and lib/logjson.c (JSON) on one small scan: the
 * exact text report and CSV tables, the JSON parsed back with jansson, the shared helpers, and
 * the errors (a failed write, no memory).
 */

/* A splice with its tunnel, a name with two abandoned bumped connections and one that carried a
 * request, a terminate, plain HTTP, one bad line. */
static const char *const records[] = {
    "1795775000.000 1 10.0.0.1:1001 NONE_NONE/200 0 10 CONNECT a.test:443 - splice a.test a.test "
    "-/- - splice Bypass%20A",
    "1795775001.000 9 10.0.0.1:1001 TCP_TUNNEL/200 5000 700 CONNECT a.test:443 - splice a.test "
    "a.test -/- - - -",
    "1795775010.000 1 10.0.0.2:2001 NONE_NONE/200 0 10 CONNECT c.test:443 - bump c.test c.test -/- "
    "TLS/1.3 bump -",
    "1795775011.000 1 10.0.0.2:2001 TCP_MISS/200 1234 300 GET https://c.test/x - bump c.test "
    "c.test -/- TLS/1.3 - -",
    "1795775012.000 1 10.0.0.2:2002 NONE_NONE/200 0 10 CONNECT c.test:443 - bump c.test c.test "
    "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1 - bump -",
    "1795775013.000 1 10.0.0.3:3001 NONE_NONE/200 0 10 CONNECT c.test:443 - bump c.test c.test "
    "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104 - bump -",
    "1795775020.000 1 10.0.0.3:3002 NONE_NONE/200 0 10 CONNECT d.test:443 - terminate d.test "
    "d.test -/- - terminate Block",
    "1795775030.000 2 10.0.0.4:4001 TCP_MISS/200 900 100 GET http://plain.test/ - - - - -/- - - -",
    "this is not a record",
};

struct run {
    struct ps_logscan *ls;
    struct ps_logfind_opts find;
    struct ps_logfind_item *items;
    size_t n;
    struct ps_logreport_opts o;
};

static void
prepare(struct run *r)
{
    struct ps_logscan_opts so;
    size_t i;

    memset(r, 0, sizeof(*r));
    ps_logscan_opts_init(&so);
    r->ls = ps_logscan_new(&so);
    assert_non_null(r->ls);
    assert_int_equal(ps_logscan_begin(r->ls, "access.log", NULL), 0);
    for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        char buf[512];
        strcpy(buf, records[i]);
        assert_int_equal(ps_logscan_line(r->ls, buf, strlen(buf), NULL), 0);
    }
    ps_logscan_finish(r->ls);
    ps_logfind_opts_init(&r->find);
    r->find.min_failures = 2;
    assert_int_equal(ps_logfind_run(r->ls, &r->find, &r->items, &r->n, NULL), 0);
    ps_logreport_opts_init(&r->o);
    r->o.find = &r->find;
}

static void
done(struct run *r)
{
    free(r->items);
    ps_logscan_free(r->ls);
}

/* The report as a string (caller frees); rc receives what ps_logreport_write returned. */
static char *
render(struct run *r, int *rc, struct ps_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    assert_non_null(f);
    *rc = ps_logreport_write(f, r->ls, r->items, r->n, &r->o, err);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *
report(struct run *r)
{
    struct ps_err err = {0, ""};
    int rc;
    char *out = render(r, &rc, &err);

    if (rc != 0)
        fail_msg("report failed: %s", err.msg);
    return out;
}

/* ---- text ----------------------------------------------------------------------------------- */

static const char expected_text[] =
    "pinsplice logscan report\n"
    "Input: 1 file, 9 lines: 8 records, 1 bad, 0 blank, 0 outside the time range\n"
    "  records from 2026-11-27 10:23:20 to 2026-11-27 10:23:50 UTC\n"
    "  access.log: 8 records (pinsplice 8, squid 0, --logformat 0), 1 bad\n"
    "\n"
    "Bad lines (1; the first 1):\n"
    "  access.log:9: too few fields (5 of 16): \"this is not a record\"\n"
    "\n"
    "Connections by action\n"
    "  action       connections    requests       bytes-out        bytes-in\n"
    "  spliced                1           0            5000             710\n"
    "  bumped                 3           1            1234             330\n"
    "  terminated             1           0               0              10\n"
    "  other                  0           1             900             100\n"
    "  total                  5           2            7134            1150\n"
    "  connections with a Squid error: 2\n"
    "\n"
    "Bumped connections: 1 went on to carry requests; 2 abandoned by the client (TLS alert 1,\n"
    "  reset 1, closed 0, no request after the handshake 0); other TLS errors 0;\n"
    "  outcome unknown 0\n"
    "\n"
    "Rules (pinsplice_rule_ note)\n"
    "  connections   splice     bump terminate    other  rule\n"
    "            3        0        3         0        0  (default)\n"
    "            1        0        0         1        0  Block\n"
    "            1        1        0         0        0  Bypass A\n"
    "\n"
    "Top spliced names (1 of 1)\n"
    "  connections       bytes-out        bytes-in  name\n"
    "            1            5000             710  a.test\n"
    "\n"
    "Top bumped names (1 of 1)\n"
    "  connections       ok abandoned  requests       bytes-out  name\n"
    "            3        1         2         1            1234  c.test\n"
    "\n"
    "Top clients (4 of 4)\n"
    "  connections  spliced   bumped terminated abandoned  requests       bytes-out  client\n"
    "            2        0        2          0         1         1            1234  10.0.0.2\n"
    "            2        0        1          1         1         0               0  10.0.0.3\n"
    "            1        1        0          0         0         0            5000  10.0.0.1\n"
    "            0        0        0          0         0         1             900  10.0.0.4\n"
    "\n"
    "Apps that break under bumping: 1 suspect name (--min-failures 2 --min-clients 2 "
    "--min-ratio 0.50)\n"
    "  abandoned  alert  reset closed  no-req     ok  ratio  clients  first seen           "
    "last seen            name\n"
    "          2      1      1      0       0      1   0.67       2   2026-11-27 10:23:32  "
    "2026-11-27 10:23:33  c.test\n"
    "             clients: 10.0.0.2 10.0.0.3; alerts: unknown_ca x1\n"
    "  Rules DB: not given: names a rule already splices are not filtered out (--db)\n"
    "  Nothing was changed. `pinsplice logscan --sql ...` prints the statements that would add "
    "bypass\n"
    "  rules, for you to review and apply.\n";

static void
test_text(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    out = report(&r);
    assert_string_equal(out, expected_text);
    free(out);
    /* --top 1 cuts every list; a rules DB named in the findings. */
    r.o.top = 1;
    r.o.db = "/var/lib/pinsplice/rules.db";
    out = report(&r);
    assert_non_null(strstr(out, "Top clients (1 of 4)\n"));
    assert_null(strstr(out, "10.0.0.3\n"));
    assert_non_null(strstr(out, "            3        0        3         0        0  (default)\n"
                                "\nTop spliced"));
    assert_non_null(strstr(out, "  Rules DB: /var/lib/pinsplice/rules.db (names it no longer "
                                "bumps are not suspects)\n"));
    free(out);
    done(&r);
}

/* ---- CSV ------------------------------------------------------------------------------------ */

#define CSV_COUNTS                                                                                 \
    "connections,spliced,bumped,terminated,other,requests,bytes_out,bytes_in,errors,bumped_ok,"    \
    "alert,reset,closed,no_request,tls_other,abandoned,first_seen,last_seen\n"

static void
test_csv(void **state)
{
    struct run r;
    char *out;

    (void)state;
    prepare(&r);
    r.o.format = PS_LOGREPORT_CSV;
    r.o.table = PS_LOGREPORT_NAMES;
    out = report(&r);
    assert_string_equal(out, "name," CSV_COUNTS "c.test,3,0,3,0,0,1,1234,330,2,1,1,1,0,0,0,2,"
                             "2026-11-27T10:23:30.000Z,2026-11-27T10:23:33.000Z\n"
                             "a.test,1,1,0,0,0,0,5000,710,0,0,0,0,0,0,0,0,"
                             "2026-11-27T10:23:20.000Z,2026-11-27T10:23:21.000Z\n"
                             "d.test,1,0,0,1,0,0,0,10,0,0,0,0,0,0,0,0,"
                             "2026-11-27T10:23:40.000Z,2026-11-27T10:23:40.000Z\n"
                             "plain.test,0,0,0,0,0,1,900,100,0,0,0,0,0,0,0,0,"
                             "2026-11-27T10:23:50.000Z,2026-11-27T10:23:50.000Z\n");
    free(out);
    r.o.table = PS_LOGREPORT_CLIENTS;
    out = report(&r);
    assert_string_equal(out, "client," CSV_COUNTS "10.0.0.2,2,0,2,0,0,1,1234,320,1,1,1,0,0,0,0,1,"
                             "2026-11-27T10:23:30.000Z,2026-11-27T10:23:32.000Z\n"
                             "10.0.0.3,2,0,1,1,0,0,0,20,1,0,0,1,0,0,0,1,"
                             "2026-11-27T10:23:33.000Z,2026-11-27T10:23:40.000Z\n"
                             "10.0.0.1,1,1,0,0,0,0,5000,710,0,0,0,0,0,0,0,0,"
                             "2026-11-27T10:23:20.000Z,2026-11-27T10:23:21.000Z\n"
                             "10.0.0.4,0,0,0,0,0,1,900,100,0,0,0,0,0,0,0,0,"
                             "2026-11-27T10:23:50.000Z,2026-11-27T10:23:50.000Z\n");
    free(out);
    r.o.table = PS_LOGREPORT_RULES;
    out = report(&r);
    assert_string_equal(out, "rule,connections,splice,bump,terminate,other,first_seen,last_seen\n"
                             "(default),3,0,3,0,0,2026-11-27T10:23:30.000Z,"
                             "2026-11-27T10:23:33.000Z\n"
                             "Block,1,0,0,1,0,2026-11-27T10:23:40.000Z,2026-11-27T10:23:40.000Z\n"
                             "\"Bypass A\",1,1,0,0,0,2026-11-27T10:23:20.000Z,"
                             "2026-11-27T10:23:20.000Z\n");
    free(out);
    r.o.table = PS_LOGREPORT_FINDINGS;
    out = report(&r);
    assert_string_equal(out, "name,status,abandoned,alert,reset,closed,no_request,bumped_ok,ratio,"
                             "clients,clients_more,example_clients,alerts,first_failure,"
                             "last_failure,spliced,handled_by\n"
                             "c.test,suspect,2,1,1,0,0,1,0.6667,2,0,\"10.0.0.2 10.0.0.3\","
                             "unknown_ca:1,2026-11-27T10:23:32.000Z,2026-11-27T10:23:33.000Z,0,\n");
    free(out);
    done(&r);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static json_t *
path(json_t *root, const char *p)
{
    char key[64];
    json_t *v = root;

    while (*p != '\0' && v != NULL) {
        size_t n = strcspn(p, ".");
        memcpy(key, p, n);
        key[n] = '\0';
        v = (key[0] >= '0' && key[0] <= '9') ? json_array_get(v, (size_t)atoi(key))
                                             : json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    if (v == NULL)
        fail_msg("no %s in the JSON", p);
    return v;
}

static long long
num(json_t *root, const char *p)
{
    json_t *v = path(root, p);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *
str(json_t *root, const char *p)
{
    json_t *v = path(root, p);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void
test_json(void **state)
{
    struct run r;
    json_error_t je;
    json_t *j;
    char *out;

    (void)state;
    prepare(&r);
    r.o.format = PS_LOGREPORT_JSON;
    out = report(&r);
    j = json_loads(out, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fail_msg("invalid JSON at line %d: %s", je.line, je.text);
    assert_string_equal(str(j, "report"), "pinsplice logscan");
    assert_int_equal(num(j, "version"), 1);
    assert_int_equal(num(j, "input.lines"), 9);
    assert_int_equal(num(j, "input.records_by_format.pinsplice"), 8);
    assert_int_equal(num(j, "input.tunnels"), 1);
    assert_string_equal(str(j, "input.first"), "2026-11-27T10:23:20.000Z");
    assert_string_equal(str(j, "input.files.0.path"), "access.log");
    assert_true(json_is_null(path(j, "input.files.0.error")));
    assert_string_equal(str(j, "bad_lines.0.reason"), "too few fields (5 of 16)");
    assert_string_equal(str(j, "bad_lines.0.text"), "this is not a record");
    assert_true(json_is_false(path(j, "bad_lines.0.cut")));
    assert_int_equal(json_array_size(path(j, "notes")), 0);
    assert_int_equal(num(j, "totals.connections.total"), 5);
    assert_int_equal(num(j, "totals.bytes_in.splice"), 710);
    assert_int_equal(num(j, "totals.abandoned.total"), 2);
    /* The default action's row has no name, and says what it is. */
    assert_true(json_is_null(path(j, "rules.0.rule")));
    assert_string_equal(str(j, "rules.0.kind"), "default");
    assert_int_equal(num(j, "rules.0.connections.bump"), 3);
    assert_string_equal(str(j, "rules.2.rule"), "Bypass A");
    assert_string_equal(str(j, "rules.2.kind"), "rule");
    assert_int_equal(num(j, "server_checks.verified"), 0);
    assert_int_equal(json_array_size(path(j, "server_checks.by_rule")), 0);
    assert_int_equal(json_array_size(path(j, "monitor_rules")), 0);
    assert_string_equal(str(j, "top_spliced.0.name"), "a.test");
    assert_int_equal(json_array_size(path(j, "top_bumped")), 1);
    assert_int_equal(num(j, "top_bumped.0.counts.bumped_ok"), 1);
    assert_int_equal(json_array_size(path(j, "top_clients")), 4);
    assert_string_equal(str(j, "top_clients.3.client"), "10.0.0.4");
    assert_true(json_is_true(path(j, "findings.searched")));
    assert_int_equal(num(j, "findings.min_failures"), 2);
    assert_true(json_is_null(path(j, "findings.rules_db")));
    assert_string_equal(str(j, "findings.rules_db_note"), "not given");
    assert_string_equal(str(j, "findings.names.0.name"), "c.test");
    assert_string_equal(str(j, "findings.names.0.status"), "suspect");
    assert_true(json_real_value(path(j, "findings.names.0.ratio")) > 0.66);
    assert_string_equal(str(j, "findings.names.0.example_clients.1"), "10.0.0.3");
    assert_int_equal(num(j, "findings.names.0.alerts.0.alert"), 48);
    assert_string_equal(str(j, "findings.names.0.alerts.0.name"), "unknown_ca");
    assert_true(json_is_null(path(j, "findings.names.0.handled_by")));
    json_decref(j);
    free(out);
    /* ps_logjson_write is the same writer; --top applies to the top lists, not to rules. */
    {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        r.o.top = 1;
        assert_int_equal(ps_logjson_write(f, r.ls, r.items, r.n, &r.o), 0);
        assert_int_equal(fclose(f), 0);
        j = json_loads(buf, 0, &je);
        assert_non_null(j);
        assert_int_equal(json_array_size(path(j, "top_clients")), 1);
        assert_int_equal(json_array_size(path(j, "rules")), 3);
        json_decref(j);
        free(buf);
    }
    done(&r);
}

/* Strings from the log stay valid JSON whatever they hold. */
static void
test_json_string(void **state)
{
    static const char in[] = "\"\\/\b\x7f\xe2\x82\xac\xed\xa0\x80\xf0\x9f\x98\x80\xf4\x90\x80"
                             "\x80\xc0\xaf";
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    json_t *j;

    (void)state;
    ps_logjson_string(f, in, sizeof(in) - 1);
    ps_logjson_string(f, "", 0);
    assert_int_equal(fclose(f), 0);
    /* quote, backslash, slash as is, control bytes \u00XX, the euro sign and an emoji kept,
     * a surrogate, a code point over U+10FFFF and an overlong '/' replaced byte by byte */
    assert_string_equal(buf, "\"\\\"\\\\/\\u0008\\u007f\xe2\x82\xac\\ufffd\\ufffd\\ufffd"
                             "\xf0\x9f\x98\x80\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"\"\"");
    buf[strlen(buf) - 2] = '\0'; /* the first literal only */
    j = json_loads(buf, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    assert_true(json_is_string(j));
    json_decref(j);
    free(buf);
}

/* ---- shared helpers ------------------------------------------------------------------------- */

static void
test_helpers(void **state)
{
    static const uint64_t v[] = {1, 20, 300, 4000};
    struct ps_logreport_opts o;
    char buf[32];
    size_t len;

    (void)state;
    assert_string_equal(ps_logmodel_time(0, false, buf), "-");
    assert_string_equal(ps_logmodel_time(0, true, buf), "-");
    assert_string_equal(ps_logmodel_time(1795775000123, false, buf), "2026-11-27 10:23:20");
    assert_string_equal(ps_logmodel_time(1795775000123, true, buf), "2026-11-27T10:23:20.123Z");
    assert_string_equal(ps_logmodel_time(1000, true, buf), "1970-01-01T00:00:01.000Z");
    assert_int_equal(ps_logmodel_sum(v, 4), 4321);
    assert_int_equal(ps_logmodel_sum(v, 0), 0);
    len = 8;
    assert_string_equal(ps_logmodel_key("\001noname", &len), "(no name)");
    assert_int_equal(len, 9);
    len = 9;
    assert_string_equal(ps_logmodel_key("\001toolong", &len), "(name over 255 bytes)");
    assert_int_equal(len, 21);
    len = strlen(PS_LS_RULE_DEFAULT);
    assert_string_equal(ps_logmodel_key(PS_LS_RULE_DEFAULT, &len), "(default)");
    len = strlen(PS_LS_RULE_NONE);
    assert_string_equal(ps_logmodel_key(PS_LS_RULE_NONE, &len), "(no pinsplice decision)");
    assert_int_equal(len, 23);
    len = 6; /* a key with \001 that is not special, and an ordinary one, stay */
    assert_string_equal(ps_logmodel_key("\001other", &len), "\001other");
    assert_int_equal(len, 6);
    len = 6;
    assert_string_equal(ps_logmodel_key("a.test", &len), "a.test");
    ps_logreport_opts_init(&o);
    assert_int_equal(o.format, PS_LOGREPORT_TEXT);
    assert_int_equal(o.table, PS_LOGREPORT_NAMES);
    assert_int_equal(o.top, 10);
    assert_false(o.all);
    assert_null(o.find);
    assert_null(o.db);
    assert_null(o.db_note);
}

/* Rows sorted by the order's value (descending), then key; rows without that value left out,
 * except for PS_ORDER_CONNS. */
static void
test_rows(void **state)
{
    static const struct {
        enum ps_logmodel_order order;
        int table; /* 0 names, 1 rules, 2 monitors */
        const char *keys;
    } c[] = {
        {PS_ORDER_SPLICED, 0, "a.test"},
        {PS_ORDER_BUMPED, 0, "c.test"},
        {PS_ORDER_CONNS, 0, "c.test a.test d.test plain.test"},
        {PS_ORDER_RULE, 1, "\001default Block Bypass A"},
        {PS_ORDER_MONITOR, 2, ""},
    };
    struct run r;
    size_t i, k, n;

    (void)state;
    prepare(&r);
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        const struct ps_logtab *t = c[i].table == 0   ? ps_logscan_names(r.ls)
                                    : c[i].table == 1 ? ps_logscan_rules(r.ls)
                                                      : ps_logscan_monitors(r.ls);
        struct ps_logmodel_row *rows = (void *)&r;
        char got[128] = "";
        assert_int_equal(ps_logmodel_rows(t, c[i].order, &rows, &n), 0);
        for (k = 0; k < n; k++) {
            assert_int_equal(rows[k].len, strlen(rows[k].key));
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
                     rows[k].key);
        }
        assert_string_equal(got, c[i].keys);
        if (n == 0)
            assert_null(rows);
        free(rows);
    }
    done(&r);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void
test_write_error(void **state)
{
    static const enum ps_logreport_format formats[] = {PS_LOGREPORT_TEXT, PS_LOGREPORT_CSV,
                                                       PS_LOGREPORT_JSON};
    struct run r;
    size_t i;

    (void)state;
    prepare(&r);
    for (i = 0; i < 3; i++) {
        struct ps_err err = {0, ""};
        FILE *f = fopen("/dev/full", "w");
        if (f == NULL)
            skip();
        r.o.format = formats[i];
        assert_int_equal(ps_logreport_write(f, r.ls, r.items, r.n, &r.o, &err), PS_EIO);
        assert_int_equal(err.code, PS_EIO);
        assert_string_equal(err.msg, "report: write error");
        fclose(f);
    }
    done(&r);
}

/* Out of memory while sorting a table: PS_ENOMEM, said once, in every format. */
static void
test_enomem(void **state)
{
    static const enum ps_logreport_format formats[] = {PS_LOGREPORT_TEXT, PS_LOGREPORT_CSV,
                                                       PS_LOGREPORT_JSON};
    struct run r;
    size_t i, n;
    long k;

    (void)state;
    prepare(&r);
    for (i = 0; i < 3; i++) {
        r.o.format = formats[i];
        for (k = 0;; k++) {
            struct ps_err err = {0, ""};
            char *out;
            bool hit;
            int rc;
            oom_fail_at(k);
            out = render(&r, &rc, &err);
            hit = oom_hit();
            oom_fail_at(-1);
            free(out);
            if (!hit) {
                assert_int_equal(rc, 0);
                break;
            }
            assert_int_equal(rc, PS_ENOMEM);
            assert_string_equal(err.msg, "report: out of memory");
            assert_true(k < 100);
        }
        /* One allocation per sorted table that has rows (the monitors have none): text rules,
         * spliced, bumped, clients; CSV one table; JSON those four and the server checks. */
        assert_int_equal(k, i == 0 ? 4 : i == 1 ? 1 : 5);
    }
    {
        struct ps_logmodel_row *rows = (void *)&r;
        oom_fail_at(0);
        assert_int_equal(ps_logmodel_rows(ps_logscan_names(r.ls), PS_ORDER_CONNS, &rows, &n),
                         PS_ENOMEM);
        oom_fail_at(-1);
        assert_null(rows);
        assert_int_equal(n, 0);
    }
    done(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_json),        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_helpers),     cmocka_unit_test(test_rows),
        cmocka_unit_test(test_write_error), cmocka_unit_test(test_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
