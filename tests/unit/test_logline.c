#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "logline.h"

/* Real records (Squid 5.7, the snippet's logformat; see tests/fixtures/README-access-logs.md). */
#define PS_CONNECT_SPLICE                                                                          \
    "1795732896.109 10 127.0.0.1:57692 NONE_NONE/200 0 118 CONNECT www.zoom.us:42782 - splice "   \
    "www.zoom.us www.zoom.us -/- - splice Bypass%20Zoom%20-%20Pre-configured"
#define PS_CONNECT_REJECT                                                                          \
    "1795732891.990 24 127.0.0.1:42634 NONE_NONE/200 0 118 CONNECT reject.test:42782 - bump "     \
    "reject.test reject.test ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+"     \
    "TLS_IO_ERR=1 - bump -"
#define NATIVE_GET                                                                                 \
    "1795732891.742      0 127.0.0.1 TCP_MISS/200 5484 GET https://good.test:42782/ - "           \
    "HIER_DIRECT/127.0.0.1 text/html"

static const struct ps_logformat *
fmt(const char *name)
{
    const struct ps_logformat *f = ps_logformat_builtin(name);

    assert_non_null(f);
    return f;
}

/* Parse a copy of text with format f; returns the rc, the copy stays alive in buf. */
static int
parse(const char *fname, const char *text, char *buf, size_t size, struct ps_logline *l,
      struct ps_err *err)
{
    size_t n = strlen(text);

    assert_true(n < size);
    memcpy(buf, text, n + 1);
    return ps_logline_parse(fmt(fname), buf, n, l, err);
}

static void
expect_str(struct ps_logstr s, const char *want)
{
    char got[512];

    assert_true(s.n < sizeof(got));
    memcpy(got, s.s, s.n);
    got[s.n] = '\0';
    assert_string_equal(got, want);
}

static void
test_builtin_formats(void **state)
{
    const struct ps_logformat *p = fmt("pinsplice"), *s = fmt("squid");

    (void)state;
    assert_int_equal(p->nfields, 19);
    assert_int_equal(p->nrequired, 16); /* the verify and monitor notes may be missing */
    assert_int_equal(p->kind[16], PS_LF_VERIFY);
    assert_int_equal(p->kind[17], PS_LF_MONITOR);
    assert_int_equal(p->kind[18], PS_LF_MONITOR_RULE);
    assert_int_equal(p->kind[0], PS_LF_TIME);
    assert_int_equal(p->kind[2], PS_LF_CLIENT_PORT);
    assert_int_equal(p->kind[7], PS_LF_URL);      /* %#ru: the "#" modifier is ignored */
    assert_int_equal(p->kind[12], PS_LF_ERR);
    assert_int_equal(p->kind[14], PS_LF_ACTION);  /* %#{pinsplice_action_}note */
    assert_int_equal(p->kind[15], PS_LF_RULE);
    assert_int_equal(s->nfields, 10);
    assert_int_equal(s->kind[1], PS_LF_ELAPSED);  /* %6tr: width ignored */
    assert_int_equal(s->kind[7], PS_LF_USER);     /* %[un */
    assert_int_equal(s->kind[8], PS_LF_HIER);
    assert_int_equal(s->kind[9], PS_LF_SKIP);     /* %mt */
    assert_null(ps_logformat_builtin("combined"));
    assert_null(ps_logformat_builtin(NULL));
}

/* The built-in pinsplice format must be the snippet's, or the scanner would misread the log. */
static void
test_pinsplice_matches_snippet(void **state)
{
    const char *src = getenv("PS_SRCDIR");
    char path[4096], line[4096];
    FILE *f;
    bool found = false;

    (void)state;
    if (src == NULL)
        skip(); /* run outside make check */
    snprintf(path, sizeof(path), "%s/squid-conf/pinsplice.conf.in", src);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "logformat pinsplice ", 20) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        assert_string_equal(line + 20, ps_logformat_pinsplice_def);
        found = true;
    }
    fclose(f);
    assert_true(found);
}

static void
test_compile(void **state)
{
    struct ps_logformat f, before;
    struct ps_err err = {0, ""};
    char many[4096] = "%ts";
    int i;

    (void)state;
    assert_int_equal(ps_logformat_compile("c", "%ts.%03tu %>a:%>p \"%{Referer}>h\" [%tl] "
                                          "%'{pinsplice_rule_}note %-10.20ssl::>sni",
                                          &f, &err), 0);
    assert_int_equal(f.nfields, 6);
    assert_int_equal(f.kind[2], PS_LF_SKIP);
    assert_int_equal(f.kind[3], PS_LF_SKIP);
    assert_int_equal(f.kind[4], PS_LF_RULE);
    assert_int_equal(f.kind[5], PS_LF_SNI);
    assert_true(f.has & (1u << PS_LF_RULE));
    /* a logformat from before the Squid 6 rename (no trailing "_") reads the same fields */
    assert_int_equal(ps_logformat_compile("c", "%ts %#{pinsplice_action}note %{pinsplice_rule}note",
                                          &f, &err), 0);
    assert_int_equal(f.kind[1], PS_LF_ACTION);
    assert_int_equal(f.kind[2], PS_LF_RULE);
    memset(&before, 0x5a, sizeof(before));
    f = before;
    assert_int_equal(ps_logformat_compile("c", "%>a %rm", &f, &err), PS_EINVAL); /* no %ts */
    assert_non_null(strstr(err.msg, "no %ts"));
    assert_memory_equal(&f, &before, sizeof(f)); /* unchanged on error */
    assert_int_equal(ps_logformat_compile("c", "%ts %{unterminated", &f, &err), PS_EINVAL);
    assert_int_equal(ps_logformat_compile("c", "", &f, &err), PS_EINVAL);
    for (i = 0; i < PS_LOGFORMAT_FIELDS_MAX; i++)
        strcat(many, " %rm");
    assert_int_equal(ps_logformat_compile("c", many, &f, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "more than"));
}

static void
test_real_records(void **state)
{
    char buf[1024];
    struct ps_logline l;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(parse("pinsplice", PS_CONNECT_SPLICE, buf, sizeof(buf), &l, &err), 0);
    assert_int_equal(l.time_ms, 1795732896109LL);
    assert_int_equal(l.elapsed_ms, 10);
    expect_str(l.client, "127.0.0.1");
    expect_str(l.peer, "127.0.0.1:57692");
    assert_int_equal(l.port, 57692);
    expect_str(l.result, "NONE_NONE");
    assert_int_equal(l.status, 200);
    assert_int_equal(l.bytes_out, 0);
    assert_int_equal(l.bytes_in, 118);
    expect_str(l.method, "CONNECT");
    expect_str(l.url, "www.zoom.us:42782");
    expect_str(l.user, "");
    expect_str(l.bump_mode, "splice");
    expect_str(l.sni, "www.zoom.us");
    expect_str(l.err_code, "");
    expect_str(l.err_detail, "");
    expect_str(l.tls, "");
    expect_str(l.action, "splice");
    expect_str(l.rule, "Bypass Zoom - Pre-configured"); /* URL-decoded */

    assert_int_equal(parse("pinsplice", PS_CONNECT_REJECT, buf, sizeof(buf), &l, &err), 0);
    expect_str(l.err_code, "ERR_SECURE_ACCEPT_FAIL");
    expect_str(l.err_detail, "SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1");
    expect_str(l.rule, "");

    assert_int_equal(parse("squid", NATIVE_GET, buf, sizeof(buf), &l, &err), 0);
    expect_str(l.client, "127.0.0.1");
    assert_int_equal(l.peer.n, 0);
    expect_str(l.hier, "HIER_DIRECT/127.0.0.1");
    assert_int_equal(l.bytes_out, 5484);
    assert_int_equal(l.bytes_in, -1);
    /* Each format refuses the other's records (what auto-detection relies on). */
    assert_int_equal(parse("squid", PS_CONNECT_SPLICE, buf, sizeof(buf), &l, &err), PS_EINVAL);
    assert_int_equal(parse("pinsplice", NATIVE_GET, buf, sizeof(buf), &l, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "too few fields (10 of 16)"));
    /* records from before fields 17-19 have none of the notes */
    assert_int_equal(parse("pinsplice", PS_CONNECT_SPLICE, buf, sizeof(buf), &l, &err), 0);
    assert_int_equal(l.verify.n + l.monitor.n + l.monitor_rule.n, 0);
}

/* Fields 17-19: the server check and the monitor rule; values the helper never writes (e.g.
 * log_mime_hdrs' [headers] after an older 16-field record) are not taken for notes. */
static void
test_trailing_notes(void **state)
{
    static const char head[] =
        "1795732896.109 10 127.0.0.1:57692 NONE_NONE/200 0 118 CONNECT 127.0.0.1:443 - splice "
        "www.zoom.us 127.0.0.1 -/- - ";
    char line[1024];
    struct ps_logline l;
    struct ps_err err = {0, ""};
    const struct ps_logformat *f = fmt("pinsplice");

    (void)state;
    snprintf(line, sizeof(line), "%s%s", head,
             "bump Zoom verify-failed splice Bypass%20Zoom%20(monitor)");
    assert_int_equal(ps_logline_parse(f, line, strlen(line), &l, &err), 0);
    expect_str(l.action, "bump");
    expect_str(l.verify, "verify-failed");
    expect_str(l.monitor, "splice");
    expect_str(l.monitor_rule, "Bypass Zoom (monitor)");
    snprintf(line, sizeof(line), "%s%s", head, "splice Zoom verified");
    assert_int_equal(ps_logline_parse(f, line, strlen(line), &l, &err), 0);
    expect_str(l.verify, "verified");
    assert_int_equal(l.monitor.n, 0);
    snprintf(line, sizeof(line), "%s%s", head, "splice Zoom [Host:%20x] [HTTP/1.1%20200]");
    assert_int_equal(ps_logline_parse(f, line, strlen(line), &l, &err), 0);
    assert_int_equal(l.verify.n, 0);
    assert_int_equal(l.monitor.n + l.monitor_rule.n, 0);
    snprintf(line, sizeof(line), "%s%s", head, "splice Zoom verify-Failed lots x");
    assert_int_equal(ps_logline_parse(f, line, strlen(line), &l, &err), 0);
    assert_int_equal(l.verify.n + l.monitor.n + l.monitor_rule.n, 0);
}

struct bad {
    const char *fmt, *line, *why;
};

/* Lines that must be refused, and the words the message must hold. */
static const struct bad bad[] = {
    {"squid", "", "too few fields (0 of 10)"},
    {"squid", "1795732891.742      0 127.0.0.1 TCP_MISS/200 5484 GET", "too few fields (6 of 10)"},
    {"squid", "1795732891.742 0 127.0.0.1 TCP_MISS/200 5484 GET https://a/ - HIER_DIRECT/x",
     "too few fields (9 of 10)"}, /* truncated record */
    {"squid", "17957x2891.742 0 127.0.0.1 TCP_MISS/200 5484 GET u - HIER_DIRECT/- -",
     "bad timestamp"},
    {"squid", "-1.5 0 127.0.0.1 TCP_MISS/200 5484 GET u - HIER_DIRECT/- -", "bad timestamp"},
    {"squid", "1795732891. 0 127.0.0.1 TCP_MISS/200 5484 GET u - HIER_DIRECT/- -",
     "bad timestamp"},
    {"squid", "1795732891.1234567891 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -",
     "bad timestamp"}, /* more than 9 fraction digits */
    {"squid", "9999999999999.000 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -",
     "bad timestamp"}, /* 13 digits of seconds */
    {"squid", "- 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -", "bad timestamp"},
    {"squid", "1.0 x 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT/- -", "bad response time"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS 0 GET u - HIER_DIRECT/- -", "bad result/status"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/20 0 GET u - HIER_DIRECT/- -", "bad HTTP status"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 -5 GET u - HIER_DIRECT/- -", "bad byte count"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 99999999999999999999 GET u - HIER_DIRECT/- -",
     "bad byte count"},
    {"squid", "1.0 0 host.example TCP_MISS/200 0 GET u - HIER_DIRECT/- -", "bad client address"},
    {"squid", "1.0 0 127.0.0.1:5555 TCP_MISS/200 0 GET u - HIER_DIRECT/- -",
     "bad client address"}, /* a port: that is the pinsplice format */
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 0 GET u - HIER_DIRECT -", "bad hierarchy"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 0 GET \"u - HIER_DIRECT/- -",
     "unterminated quote"},
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 0 GET \"u\"x - HIER_DIRECT/- -",
     "unterminated quote"}, /* text glued to the closing quote */
    {"squid", "1.0 0 127.0.0.1 TCP_MISS/200 0 GET [u - HIER_DIRECT/- -", "unterminated"},
    {"pinsplice", "1.0 0 127.0.0.1 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump -",
     "bad client address:port"},
    {"pinsplice", "1.0 0 127.0.0.1:99999 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump -",
     "bad client address:port"},
    {"pinsplice", "1.0 0 127.0.0.1: NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump -",
     "bad client address:port"},
    {"pinsplice", "1.0 0 :443 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump -",
     "bad client address:port"},
    {"pinsplice", "1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a a ERR_X - bump -",
     "bad error field"},
};

static void
test_bad_lines(void **state)
{
    char buf[1024], copy[1024];
    struct ps_logline l;
    struct ps_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = (struct ps_err){0, ""};
        int rc = parse(bad[i].fmt, bad[i].line, buf, sizeof(buf), &l, &err);
        if (rc != PS_EINVAL || strstr(err.msg, bad[i].why) == NULL)
            fail_msg("case %zu '%s': rc %d, message '%s', want '%s'", i, bad[i].line, rc, err.msg,
                     bad[i].why);
        /* A refused line is left as it was: auto-detection tries the next format on it. */
        memcpy(copy, bad[i].line, strlen(bad[i].line) + 1);
        assert_string_equal(buf, copy);
    }
}

static void
test_nul_and_huge(void **state)
{
    char line[] = "1.0 0 127.0.0.1 TCP_MISS/200 0 GET u\0x - HIER_DIRECT/- -";
    struct ps_logline l;
    struct ps_err err = {0, ""};
    char *huge;
    size_t n = PS_LOGLINE_MAX + 1;

    (void)state;
    assert_int_equal(ps_logline_parse(fmt("squid"), line, sizeof(line) - 1, &l, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
    huge = malloc(n + 1);
    assert_non_null(huge);
    memset(huge, 'a', n);
    memcpy(huge, "1.0 0 127.0.0.1 TCP_MISS/200 0 GET ", 35);
    huge[n] = '\0';
    assert_int_equal(ps_logline_parse(fmt("squid"), huge, n, &l, &err), PS_ETOOLONG);
    /* Exactly at the bound it parses (a long URL in the right place). */
    memcpy(huge + PS_LOGLINE_MAX - 20, " - HIER_DIRECT/- -  ", 20);
    assert_int_equal(ps_logline_parse(fmt("squid"), huge, PS_LOGLINE_MAX, &l, &err), 0);
    assert_int_equal(l.url.n, PS_LOGLINE_MAX - 20 - 35);
    free(huge);
}

struct good {
    const char *line;
    const char *sni, *user, *rule, *action, *client, *tls;
    unsigned port;
    int64_t time_ms;
};

/* The pinsplice format's awkward but valid records. */
#define X10 " - x - x - x - x - x"

static const struct good good[] = {
    /* "-" everywhere it may be; no fraction in the time; tabs and runs of spaces */
    {"1795732896 - 127.0.0.1:1 NONE_NONE/- - - - - - - - - -/- - - -", "", "", "", "", "127.0.0.1",
     "", 1, 1795732896000LL},
    {"  1.5\t\t7   10.0.0.1:65535 TCP_MISS/000 0 0 GET u - - - - -/- - - -  ", "", "", "", "",
     "10.0.0.1", "", 65535, 1500},
    /* IPv6 client: the port follows the last colon */
    {"1.25 0 2001:db8::1:443 NONE/200 0 0 CONNECT a:443 - bump a a -/- TLS/1.2 bump -", "a", "", "",
     "bump", "2001:db8::1", "TLS/1.2", 443, 1250},
    {"1.000 0 ::1:8080 NONE/200 0 0 CONNECT a:443 - bump a a -/- - - -", "a", "", "", "", "::1", "",
     8080, 1000},
    /* %# escapes: %25 is a literal '%', a bad escape stays, %00 is decoded */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 J%20Doe bump A.EXAMPLE. b -/- - splice "
     "50%25%20off%zz%4",
     "A.EXAMPLE.", "J Doe", "50% off%zz%4", "splice", "127.0.0.1", "", 1, 1000},
    /* a quoted rule (a logformat written as "%{pinsplice_rule_}note" with %" quoting) */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a a -/- - splice \"Bypass \\\"Zoom\\\" "
     "\\\\ x\\ty\\x41\"",
     "a", "", "Bypass \"Zoom\" \\ x\tyA", "splice", "127.0.0.1", "", 1, 1000},
    /* a quoted "-" is absent; extra fields (log_mime_hdrs) are ignored */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump \"-\" [Host:%20a] "
     "[HTTP/1.1%20200]",
     "a", "", "", "bump", "127.0.0.1", "", 1, 1000},
    /* several values of one note ("a,b"): kept as logged */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump,splice Rule%2C%201",
     "a", "", "Rule, 1", "bump,splice", "127.0.0.1", "", 1, 1000},
    /* %00 decodes to a NUL inside the field (kept with its length, never a terminator) */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a%00b a -/- - - -", "a\0b", "", "", "",
     "127.0.0.1", "", 1, 1000},
    /* more extra fields than a format may have (PS_LOGFORMAT_FIELDS_MAX): ignored too */
    {"1.0 0 127.0.0.1:1 NONE/200 0 0 CONNECT a:443 - bump a a -/- - bump -" X10 X10 X10 X10 X10 X10,
     "a", "", "", "bump", "127.0.0.1", "", 1, 1000},
};
#undef X10

static void
test_good_lines(void **state)
{
    char buf[1024];
    struct ps_logline l;
    struct ps_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        err = (struct ps_err){0, ""};
        if (parse("pinsplice", good[i].line, buf, sizeof(buf), &l, &err) != 0)
            fail_msg("case %zu '%s': %s", i, good[i].line, err.msg);
        if (i == 8) {
            assert_int_equal(l.sni.n, 3);
            assert_memory_equal(l.sni.s, "a\0b", 3);
        } else {
            expect_str(l.sni, good[i].sni);
        }
        expect_str(l.user, good[i].user);
        expect_str(l.rule, good[i].rule);
        expect_str(l.action, good[i].action);
        expect_str(l.client, good[i].client);
        expect_str(l.tls, good[i].tls);
        assert_int_equal(l.port, good[i].port);
        assert_int_equal(l.time_ms, good[i].time_ms);
    }
}

static void
test_urldecode(void **state)
{
    char s[64];

    (void)state;
    strcpy(s, "a%20b%2x%%41%4");
    assert_int_equal(ps_logline_urldecode(s, strlen(s)), 10);
    assert_memory_equal(s, "a b%2x%A%4", 10);
    strcpy(s, "%");
    assert_int_equal(ps_logline_urldecode(s, 1), 1);
    assert_int_equal(ps_logline_urldecode(s, 0), 0);
}

struct when {
    const char *in;
    bool end;
    int rc;
    int64_t ms;
};

static const struct when whens[] = {
    {"2026-11-26", false, 0, 1795651200000LL},
    {"2026-11-26", true, 0, 1795737599999LL},
    {"2026-11-26 22:41", false, 0, 1795732860000LL},
    {"2026-11-26T22:41", true, 0, 1795732919999LL},
    {"2026-11-26 22:41:31", false, 0, 1795732891000LL},
    {"2026-11-26 22:41:31Z", true, 0, 1795732891999LL},
    {"1970-01-01", false, 0, 0},
    {"2024-02-29", false, 0, 1709164800000LL},
    {"@1795732891", false, 0, 1795732891000LL},
    {"@1795732891", true, 0, 1795732891999LL},
    {"1795732891.5", true, 0, 1795732891500LL},
    {"2023-02-29", false, PS_EINVAL, 0},
    {"2026-13-01", false, PS_EINVAL, 0},
    {"2026-11-26 24:00", false, PS_EINVAL, 0},
    {"2026-11-26 22:41:3", false, PS_EINVAL, 0},
    {"26-11-2026", false, PS_EINVAL, 0},
    {"yesterday", false, PS_EINVAL, 0},
    {"12345", false, PS_EINVAL, 0}, /* too short for Unix time: a typo, not 1970 */
    {"", false, PS_EINVAL, 0},
    {"@", false, PS_EINVAL, 0},
};

static void
test_datetime(void **state)
{
    struct ps_err err;
    int64_t ms;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(whens) / sizeof(whens[0]); i++) {
        err = (struct ps_err){0, ""};
        ms = -1;
        int rc = ps_logline_datetime(whens[i].in, whens[i].end, &ms, &err);
        if (rc != whens[i].rc || (rc == 0 && ms != whens[i].ms))
            fail_msg("case %zu '%s': rc %d ms %lld (%s)", i, whens[i].in, rc, (long long)ms,
                     err.msg);
        if (rc != 0)
            assert_non_null(strstr(err.msg, "bad time"));
    }
    assert_int_equal(ps_logline_datetime(NULL, false, &ms, NULL), PS_EINVAL);
}

/* A field given twice (issue 12 item 10): the last occurrence is the value, and its length is its
 * own. Before the fix the first occurrence's decoded length was applied to the last one's text:
 * a read past the record. */
static void
test_field_twice(void **state)
{
    static const char *recs[] = {
        "1700000000.000 \"a-long-quoted-name.example.com\" b.example",
        "1700000000.000 a%2dlong-url-escaped-name.example.com b.example",
    };
    struct ps_logformat f;
    struct ps_err err = {0, ""};
    struct ps_logline l;
    size_t i;

    (void)state;
    assert_int_equal(ps_logformat_compile("twice", "%ts.%03tu %ssl::>sni %ssl::>sni", &f, &err), 0);
    for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        size_t n = strlen(recs[i]);
        char *buf = malloc(n + 1); /* exact size: a read past it is caught by valgrind/ASan */

        assert_non_null(buf);
        memcpy(buf, recs[i], n + 1);
        assert_int_equal(ps_logline_parse(&f, buf, n, &l, &err), 0);
        assert_int_equal(l.sni.n, strlen("b.example"));
        expect_str(l.sni, "b.example");
        free(buf);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_formats), cmocka_unit_test(test_pinsplice_matches_snippet),
        cmocka_unit_test(test_compile),         cmocka_unit_test(test_real_records),
        cmocka_unit_test(test_bad_lines),       cmocka_unit_test(test_nul_and_huge),
        cmocka_unit_test(test_good_lines),      cmocka_unit_test(test_urldecode),
        cmocka_unit_test(test_datetime),        cmocka_unit_test(test_field_twice),
        cmocka_unit_test(test_trailing_notes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
