/* Unit tests for lib/core/icapreq.c and icapplan.c: what the c-icap service reads from a request,
 * the plan it carries out, and the strings it writes back. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "fixture.h"
#include "icapreq.h"
#include "snapshot.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- ps_icapreq_connect_target ------------------------------------------------------------ */

struct target_case {
    const char *line;
    int rc;             /* 1 CONNECT, 0 other, or the error code */
    const char *target; /* when rc == 1 */
};

static const struct target_case target_cases[] = {
    {"CONNECT zoom.us:443 HTTP/1.1", 1, "zoom.us:443"},
    {"CONNECT ZOOM.US.:443 HTTP/1.0", 1, "ZOOM.US.:443"}, /* normalising is ps_decide's job */
    {"CONNECT [2001:db8::1]:443 HTTP/1.1", 1, "[2001:db8::1]:443"},
    {"CONNECT 192.0.2.7:8443 HTTP/1.1", 1, "192.0.2.7:8443"},
    {"CONNECT zoom.us HTTP/1.1", 1, "zoom.us"},
    {"CONNECT b%00d.example:443 HTTP/1.1", 1, "b%00d.example:443"}, /* %00 stays text */
    {"CONNECT %% HTTP/1.1", 1, "%%"},
    {"GET http://zoom.us/ HTTP/1.1", 0, NULL},
    {"POST / HTTP/1.1", 0, NULL},
    {"connect zoom.us:443 HTTP/1.1", 0, NULL}, /* methods are case-sensitive */
    {"CONNECTX zoom.us:443 HTTP/1.1", 0, NULL},
    {"", 0, NULL},
    {NULL, 0, NULL},
    {"garbage", 0, NULL},
    {"CONNECT", PS_EINVAL, NULL},
    {"CONNECT ", PS_EINVAL, NULL},
    {"CONNECT\tzoom.us:443 HTTP/1.1", PS_EINVAL, NULL},
    {"CONNECT  zoom.us:443 HTTP/1.1", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443 ", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443 HTTP/1.1 extra", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443 HTTP/11", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443 FTP/1.1", PS_EINVAL, NULL},
    {"CONNECT zoom.us\r:443 HTTP/1.1", PS_EINVAL, NULL},
    {"CONNECT zoom.us:443 HTTP/1.1\x7f", PS_EINVAL, NULL},
};

static void
test_connect_target_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(target_cases); i++) {
        const struct target_case *c = &target_cases[i];
        char out[PS_ICAPREQ_TARGET_MAX + 1];
        struct ps_err err = {0};
        int rc;

        strcpy(out, "untouched");
        rc = ps_icapreq_connect_target(c->line, out, &err);
        if (rc != c->rc)
            fail_msg("case %zu '%s': rc %d, want %d (%s)", i, c->line ? c->line : "(null)", rc,
                     c->rc, err.msg);
        if (rc == 1)
            assert_string_equal(out, c->target);
        else
            assert_string_equal(out, "untouched");
        if (rc < 0)
            assert_true(err.msg[0] != '\0');
    }
}

static void
test_connect_target_bounds(void **state)
{
    static char line[PS_ICAPREQ_LINE_MAX + 64];
    char out[PS_ICAPREQ_TARGET_MAX + 1];
    size_t n;

    (void)state;
    /* Target exactly at the bound: accepted. */
    memcpy(line, "CONNECT ", 8);
    memset(line + 8, 'a', PS_ICAPREQ_TARGET_MAX);
    strcpy(line + 8 + PS_ICAPREQ_TARGET_MAX, " HTTP/1.1");
    assert_int_equal(ps_icapreq_connect_target(line, out, NULL), 1);
    assert_int_equal(strlen(out), PS_ICAPREQ_TARGET_MAX);
    /* One more: too long, out unchanged. */
    memset(line + 8, 'a', PS_ICAPREQ_TARGET_MAX + 1);
    strcpy(line + 8 + PS_ICAPREQ_TARGET_MAX + 1, " HTTP/1.1");
    strcpy(out, "x");
    assert_int_equal(ps_icapreq_connect_target(line, out, NULL), PS_ETOOLONG);
    assert_string_equal(out, "x");
    /* A line over the line bound, whatever its method. */
    n = sizeof(line) - 1;
    memset(line, 'A', n);
    line[n] = '\0';
    memcpy(line, "CONNECT ", 8);
    assert_int_equal(ps_icapreq_connect_target(line, out, NULL), PS_ETOOLONG);
}

/* ---- header names ------------------------------------------------------------------------- */

struct name_case {
    const char *name;
    int rc;
};

static const struct name_case name_cases[] = {
    {"X-Pinsplice-Action", 0},
    {"X-Client-Process", 0},
    {"x_odd.but~legal!", 0},
    {"A", 0},
    {"", PS_EINVAL},
    {NULL, PS_EINVAL},
    {"X Pinsplice", PS_EINVAL},
    {"X-Pinsplice:", PS_EINVAL},
    {"X-\xc3\xa9", PS_EINVAL},
    {"X-Tab\t", PS_EINVAL},
    {"Host", PS_EINVAL},
    {"host", PS_EINVAL},
    {"CONTENT-LENGTH", PS_EINVAL},
    {"Transfer-Encoding", PS_EINVAL},
    {"Proxy-Authorization", PS_EINVAL},
    {"Connection", PS_EINVAL},
    {"Via", PS_EINVAL},
    {"0123456789012345678901234567890123456789012345678901234567890123", 0}, /* 64 */
    {"01234567890123456789012345678901234567890123456789012345678901234", PS_ETOOLONG},
};

static void
test_header_name_check(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(name_cases); i++) {
        struct ps_err err = {0};
        int rc = ps_icapreq_header_name_check(name_cases[i].name, &err);
        if (rc != name_cases[i].rc)
            fail_msg("case %zu '%s': rc %d want %d", i,
                     name_cases[i].name ? name_cases[i].name : "(null)", rc, name_cases[i].rc);
    }
}

static void
test_header_is(void **state)
{
    (void)state;
    assert_true(ps_icapreq_header_is("X-Pinsplice-Action: splice", "X-Pinsplice-Action"));
    assert_true(ps_icapreq_header_is("x-pinsplice-action:splice", "X-Pinsplice-Action"));
    assert_true(ps_icapreq_header_is("X-PINSPLICE-ACTION:", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X-Pinsplice-Action-Extra: splice", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X-Pinsplice-Actio: splice", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X-Pinsplice-Action", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X-Pinsplice-Action : splice", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is(NULL, "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X: y", NULL));
    assert_false(ps_icapreq_header_is("X: y", ""));
    assert_false(ps_icapreq_header_is("", "X"));
    assert_false(ps_icapreq_header_is("X-Pin", "X-Pinsplice-Action")); /* line ends first */
    assert_false(ps_icapreq_header_is("Y-Pinsplice-Action: splice", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X_Pinsplice-Action: splice", "X-Pinsplice-Action"));
    assert_false(ps_icapreq_header_is("X-Pinsplice-Action\xc3: splice", "X-Pinsplice-Action"));
    assert_true(ps_icapreq_header_is("x-client-ip:1", "X-CLIENT-IP"));
    assert_string_equal(ps_icapreq_header_value("X-Client-Process: zoom.exe", "X-Client-Process"),
                        "zoom.exe");
    assert_string_equal(
        ps_icapreq_header_value("x-client-process:\t zoom.exe ", "X-Client-Process"), "zoom.exe ");
    assert_string_equal(ps_icapreq_header_value("X-Client-Process:", "X-Client-Process"), "");
    assert_null(ps_icapreq_header_value("X-Client-Process-Evil: zoom.exe", "X-Client-Process"));
    assert_null(ps_icapreq_header_value(NULL, "X-Client-Process"));
}

/* Names are at most PS_ICAPREQ_HEADER_NAME_MAX characters: a longer one never matches. */
static void
test_header_is_bounds(void **state)
{
    char name[PS_ICAPREQ_HEADER_NAME_MAX + 2], line[PS_ICAPREQ_HEADER_NAME_MAX + 8];

    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(line, sizeof(line), "%s: v", name);
    assert_false(ps_icapreq_header_is(line, name));
    name[PS_ICAPREQ_HEADER_NAME_MAX] = '\0';
    snprintf(line, sizeof(line), "%s: v", name);
    assert_true(ps_icapreq_header_is(line, name));
    assert_string_equal(ps_icapreq_header_value(line, name), "v");
}

static void
test_header_line(void **state)
{
    char buf[32];
    char small[20];

    (void)state;
    assert_int_equal(ps_icapreq_header_line("X-Pinsplice-Action", "splice", buf, sizeof(buf), NULL),
                     0);
    assert_string_equal(buf, "X-Pinsplice-Action: splice");
    /* "X-Pinsplice-Action: " is 20 bytes: no room in 20. */
    assert_int_equal(ps_icapreq_header_line("X-Pinsplice-Action", "", small, sizeof(small), NULL),
                     PS_ETOOLONG);
    assert_string_equal(small, "");
    assert_int_equal(ps_icapreq_header_line("X-A", "bump", small, sizeof(small), NULL), 0);
    assert_string_equal(small, "X-A: bump");
    assert_int_equal(ps_icapreq_header_line(NULL, "bump", small, sizeof(small), NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_header_line("X-A", NULL, small, sizeof(small), NULL), PS_EINVAL);
}

/* ---- escaping ----------------------------------------------------------------------------- */

struct esc_case {
    const char *in, *out;
};

static const struct esc_case esc_cases[] = {
    {"Bypass Zoom", "Bypass Zoom"},
    {"a\r\nX-Evil: 1", "a%0D%0AX-Evil: 1"},
    {"100%", "100%25"},
    {"%00", "%2500"},
    {" lead", "%20lead"},
    {"trail ", "trail%20"},
    {"caf\xc3\xa9", "caf%C3%A9"},
    {"tab\there", "tab%09here"},
    {"\x7f", "%7F"},
    {"", ""},
    {NULL, "-"},
};

static void
test_escape(void **state)
{
    size_t i;
    char out[64];

    (void)state;
    for (i = 0; i < N(esc_cases); i++) {
        assert_int_equal(ps_icapreq_escape(esc_cases[i].in, out, sizeof(out), NULL), 0);
        assert_string_equal(out, esc_cases[i].out);
    }
    /* Bounds: "%0D" needs 3 bytes + NUL. */
    assert_int_equal(ps_icapreq_escape("\r", out, 4, NULL), 0);
    assert_string_equal(out, "%0D");
    assert_int_equal(ps_icapreq_escape("\r", out, 3, NULL), PS_ETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(ps_icapreq_escape("abc", out, 3, NULL), PS_ETOOLONG);
    assert_int_equal(ps_icapreq_escape("ab", out, 3, NULL), 0);
    assert_int_equal(ps_icapreq_escape("ab", NULL, 3, NULL), PS_EINVAL);
}

/* ---- users -------------------------------------------------------------------------------- */

struct user_case {
    const char *in;
    bool base64;
    int rc;
    const char *out;
};

static const struct user_case user_cases[] = {
    {"alice", false, 0, "alice"},
    {"  alice  ", false, 0, "alice"},
    {"DOMAIN\\bob", false, 0, "DOMAIN\\bob"},
    {"YWxpY2U=", true, 0, "alice"},             /* alice */
    {"YWxpY2U", true, 0, "alice"},              /* padding optional */
    /* Squid prefixes nothing (issue 12 item 6): a "scheme://" is part of the name */
    {"TG9jYWw6Ly9hbGljZQ==", true, 0, "Local://alice"},
    {"Local://carol", false, 0, "Local://carol"},
    {"mallory://alice", false, 0, "mallory://alice"},
    {"bWFsbG9yeTovL2FsaWNl", true, 0, "mallory://alice"},
    {"V2luTlQ6Ly9DT1JQL2RhdmU=", true, 0, "WinNT://CORP/dave"},
    {"IGFsaWNl", true, 0, " alice"}, /* decoded bytes are the name: not trimmed */
    {"", false, PS_EINVAL, NULL},
    {"   ", false, PS_EINVAL, NULL},
    {NULL, false, PS_EINVAL, NULL},
    {"Local://", false, 0, "Local://"},
    {"YWxp!2U=", true, PS_EINVAL, NULL}, /* not base64 */
    {"YQ=a", true, PS_EINVAL, NULL},     /* data after padding */
    {"Y", true, PS_EINVAL, NULL},        /* 6 bits: not a byte */
    {"YQBi", true, PS_EINVAL, NULL},     /* a\0b */
    {"YQpi", true, PS_EINVAL, NULL},     /* a\nb */
    {"a\rb", false, PS_EINVAL, NULL},
};

static void
test_user(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(user_cases); i++) {
        const struct user_case *c = &user_cases[i];
        char out[PS_ICAPREQ_USER_MAX + 1];
        int rc;

        strcpy(out, "untouched");
        rc = ps_icapreq_user(c->in, c->base64, out, NULL);
        if (rc != c->rc)
            fail_msg("case %zu '%s': rc %d want %d", i, c->in ? c->in : "(null)", rc, c->rc);
        assert_string_equal(out, rc == 0 ? c->out : "untouched");
    }
}

static void
test_user_bounds(void **state)
{
    char in[PS_ICAPREQ_USER_MAX + 2];
    char out[PS_ICAPREQ_USER_MAX + 1];
    static char huge[4096];

    (void)state;
    memset(in, 'u', PS_ICAPREQ_USER_MAX);
    in[PS_ICAPREQ_USER_MAX] = '\0';
    assert_int_equal(ps_icapreq_user(in, false, out, NULL), 0);
    assert_int_equal(strlen(out), PS_ICAPREQ_USER_MAX);
    in[PS_ICAPREQ_USER_MAX] = 'u';
    in[PS_ICAPREQ_USER_MAX + 1] = '\0';
    assert_int_equal(ps_icapreq_user(in, false, out, NULL), PS_ETOOLONG);
    memset(huge, 'Q', sizeof(huge) - 1);
    assert_int_equal(ps_icapreq_user(huge, true, out, NULL), PS_ETOOLONG);
    assert_int_equal(ps_icapreq_user(huge, false, out, NULL), PS_ETOOLONG);
}

/* ---- decision mapping --------------------------------------------------------------------- */

struct answer_case {
    enum ps_action action;
    int client_copies;
    bool header; /* true: 200 with the decision header; false: 204 */
};

static const struct answer_case answer_cases[] = {
    {PS_ACTION_BUMP, 0, false}, /* the only 204: no header means bump to the snippet */
    {PS_ACTION_SPLICE, 0, true},
    {PS_ACTION_TERMINATE, 0, true},
    {PS_ACTION_BUMP, 1, true}, /* a 204 would hand the client's copy back to Squid */
    {PS_ACTION_BUMP, 3, true},
    {PS_ACTION_BUMP, -1, true}, /* copies that could not be removed */
    {PS_ACTION_SPLICE, 2, true},
    {PS_ACTION_SPLICE, -1, true},
    {PS_ACTION_TERMINATE, 1, true},
    {(enum ps_action)7, 0, true}, /* not an action: never the silent answer */
};

static void
test_needs_header(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(answer_cases); i++) {
        const struct answer_case *c = &answer_cases[i];
        if (ps_icapreq_needs_header(c->action, c->client_copies) != c->header)
            fail_msg("case %zu: action %d, %d client copies: expected %s", i, (int)c->action,
                     c->client_copies, c->header ? "200" : "204");
    }
}

static void
test_rule_label(void **state)
{
    struct ps_decision d;
    char out[PS_ICAPREQ_VALUE_MAX];

    (void)state;
    memset(&d, 0, sizeof(d));
    d.reason = PS_REASON_RULE;
    d.rule_name = "Bypass Zoom";
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "Bypass Zoom");
    d.rule_name = "evil\r\nX-Pinsplice-Action: splice";
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "evil%0D%0AX-Pinsplice-Action: splice");
    d.rule_name = NULL;
    d.reason = PS_REASON_DEFAULT;
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "(default)");
    d.reason = PS_REASON_NO_RULES;
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "(no-rules)");
    d.reason = PS_REASON_BAD_NAME;
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "(bad-name)");
    d.reason = (enum ps_reason)99; /* not a reason: as bad input */
    assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "(bad-input)");
    d.reason = PS_REASON_DEFAULT;
    assert_int_equal(ps_icapreq_rule_label(&d, out, 10, NULL), 0); /* "(default)" + NUL */
    assert_string_equal(out, "(default)");
    assert_int_equal(ps_icapreq_rule_label(&d, out, 9, NULL), PS_ETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(ps_icapreq_rule_label(NULL, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "(bad-input)");
    /* The longest name the schema accepts, every byte escaped (issue 12 item 12: a 200-character
     * UTF-8 name did not fit the old 768 bytes and became "(label-too-long)"). */
    {
        static char worst[PS_RULE_NAME_BYTES + 1];
        size_t k;
        for (k = 0; k < PS_RULE_NAME_CHARS; k++)
            memcpy(worst + 4 * k, "\xf0\x9f\x94\x92", 4);
        worst[PS_RULE_NAME_BYTES] = '\0';
        d.reason = PS_REASON_RULE;
        d.rule_name = worst;
        assert_int_equal(ps_icapreq_rule_label(&d, out, sizeof(out), NULL), 0);
        assert_int_equal(strlen(out), 3 * PS_RULE_NAME_BYTES);
        assert_memory_equal(out, "%F0%9F%94%92", 12);
    }
}

/* ---- seconds ------------------------------------------------------------------------------ */

static void
test_seconds(void **state)
{
    unsigned ms = 7;

    (void)state;
    assert_int_equal(ps_icapreq_seconds("5", 3600, &ms, NULL), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(ps_icapreq_seconds("0", 3600, &ms, NULL), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ps_icapreq_seconds("3600", 3600, &ms, NULL), 0);
    assert_int_equal(ms, 3600000);
    ms = 7;
    assert_int_equal(ps_icapreq_seconds("3601", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds("-1", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds("+1", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds(" 1", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds("1s", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds("", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds(NULL, 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ps_icapreq_seconds("99999999999999999999999", 3600, &ms, NULL), PS_EINVAL);
    assert_int_equal(ms, 7);
}

/* ---- the facts and the plan -------------------------------------------------------------- */

static const struct ps_icap_config plan_cfg = {"X-Client-Process", "X-Pinsplice-Action",
                                               "X-Client-Username", false, false};

static void
test_facts(void **state)
{
    const char *http[] = {
        "CONNECT zoom.us:443 HTTP/1.1", "Host: zoom.us:443",        "X-Client-Process: Zoom.exe",
        "x-pinsplice-action: splice",   "X-Pinsplice-Action-X: no", "X-Pinsplice-Action:splice",
    };
    const char *icap[] = {"X-Client-IP: 192.0.2.7", "X-Authenticated-User: YWxpY2U="};
    const char *moved[] = {"CONNECT zoom.us:443 HTTP/1.1", "X-Client-Process:  Other.exe"};
    struct ps_icap_config cfg = plan_cfg;
    struct ps_icap_facts f;
    int i, n = 0;

    (void)state;
    ps_icap_facts_fill(&f, &cfg, http[0], http, 6, icap, 2);
    assert_int_equal(f.kind, PS_ICAP_CONNECT);
    assert_string_equal(f.target, "zoom.us:443");
    assert_string_equal(f.client_ip, "192.0.2.7");
    assert_string_equal(f.program, "Zoom.exe");
    assert_string_equal(f.user, "alice"); /* no UserHeader: X-Authenticated-User, base64 */
    assert_string_equal(f.strip, "X-Pinsplice-Action");
    assert_int_equal(f.client_copies, 2); /* exact names, any case */
    for (i = 0; i < 6; i++)
        n += ps_icap_strips(&f, i, http[i]);
    assert_int_equal(n, 2);
    assert_false(ps_icap_strips(&f, 0, "X-Pinsplice-Action: x")); /* never the request line */
    /* the rebuilt list: read again */
    ps_icap_stripped(&f, &cfg, true, moved, 2);
    assert_string_equal(f.program, "Other.exe");
    assert_int_equal(f.client_copies, 2);
    ps_icap_stripped(&f, &cfg, false, moved, 2);
    assert_int_equal(f.client_copies, -1);
    /* UserHeader present but not valid: no user, and no fallback */
    icap[1] = "X-Client-Username: bad\x01name";
    ps_icap_facts_fill(&f, &cfg, http[0], http, 2, icap, 2);
    assert_null(f.user);
    assert_null(f.strip);
    icap[1] = "X-Client-Username:  bob ";
    ps_icap_facts_fill(&f, &cfg, http[0], http, 2, icap, 2);
    assert_string_equal(f.user, "bob");
    /* not a CONNECT, none, malformed */
    ps_icap_facts_fill(&f, &cfg, "GET / HTTP/1.1", http, 6, icap, 2);
    assert_int_equal(f.kind, PS_ICAP_OTHER);
    assert_null(f.strip);
    assert_null(f.client_ip);
    ps_icap_facts_fill(&f, &cfg, NULL, NULL, 0, NULL, 0);
    assert_int_equal(f.kind, PS_ICAP_OTHER);
    ps_icap_facts_fill(&f, &cfg, "CONNECT zoom.us:443", http, 6, icap, 2);
    assert_int_equal(f.kind, PS_ICAP_MALFORMED);
    assert_int_equal(f.client_copies, 2);
    assert_null(f.client_ip); /* a malformed CONNECT reads no query */
}

static const char plan_sql[] =
    "INSERT INTO rules(id, name, action, position) VALUES (1, 'zoom', 'splice', 10),"
    " (2, 'evil', 'terminate', 20), (3, 'admin console', 'bump', 5), (4, 'alice', 'splice', 30);"
    "INSERT INTO rules(id, name, action, position, mode) VALUES (5, 'watch', 'splice', 40, "
    "'monitor');"
    "INSERT INTO rule_domains(rule_id, domain, exact) VALUES (1, 'zoom.us', 0),"
    " (2, 'evil.test', 0), (3, 'admin.zoom.us', 0), (5, 'mon.test', 0);"
    "INSERT INTO rule_sources(rule_id, source) VALUES (4, 'user:alice');";

struct plan_case {
    const char *line, *client_header, *user; /* user: X-Client-Username, plain */
    int rules, fail_open, strip_fails;       /* rules 0: none loaded */
    int status;
    const char *http, *xheaders, *attrs; /* joined with '|' */
};

#define XH(a, r) "X-Pinsplice-Action: " a "|X-Pinsplice-Rule: " r
#define AT(a, r, why, host)                                                                        \
    "pinsplice:action=" a "|pinsplice:rule=" r "|pinsplice:reason=" why "|pinsplice:host=" host

static const struct plan_case plan_cases[] = {
    {"CONNECT www.zoom.us:443 HTTP/1.1", NULL, NULL, 1, 0, 0, 200, "X-Pinsplice-Action: splice",
     XH("splice", "zoom"), AT("splice", "zoom", "rule", "www.zoom.us")},
    {"CONNECT admin.zoom.us:443 HTTP/1.1", NULL, NULL, 1, 0, 0, 204, "",
     XH("bump", "admin console"), AT("bump", "admin console", "rule", "admin.zoom.us")},
    {"CONNECT evil.test:443 HTTP/1.1", NULL, NULL, 1, 0, 0, 200, "X-Pinsplice-Action: terminate",
     XH("terminate", "evil"), AT("terminate", "evil", "rule", "evil.test")},
    {"CONNECT other.test:443 HTTP/1.1", NULL, NULL, 1, 0, 0, 204, "", XH("bump", "(default)"),
     AT("bump", "(default)", "default", "other.test")},
    {"CONNECT other.test:443 HTTP/1.1", NULL, "alice", 1, 0, 0, 200, "X-Pinsplice-Action: splice",
     XH("splice", "alice"), AT("splice", "alice", "rule", "other.test")},
    {"CONNECT zoom.us:443 HTTP/1.1", NULL, NULL, 0, 0, 0, 204, "", XH("bump", "(no-rules)"),
     AT("bump", "(no-rules)", "no-rules", "-")},
    {"CONNECT zoom.us:443 HTTP/1.1", NULL, NULL, 0, 1, 0, 200, "X-Pinsplice-Action: splice",
     XH("splice", "(no-rules)"), AT("splice", "(no-rules)", "no-rules", "-")},
    {"CONNECT zoom..us:443 HTTP/1.1", NULL, NULL, 0, 1, 0, 204, "", XH("bump", "(bad-name)"),
     AT("bump", "(bad-name)", "bad-name", "-")},
    {"CONNECT www.mon.test:443 HTTP/1.1", NULL, NULL, 1, 0, 0, 204, "",
     XH("bump", "(default)") "|X-Pinsplice-Monitor: splice|X-Pinsplice-Monitor-Rule: watch",
     "pinsplice:monitor=splice|pinsplice:monitor_rule=watch|" AT("bump", "(default)", "default",
                                                                 "www.mon.test")},
    {"CONNECT zoom.us:443", NULL, NULL, 1, 1, 0, 204, "", XH("bump", "(bad-input)"),
     AT("bump", "(bad-input)", "bad-input", "-")},
    {"CONNECT zoom.us:443", "X-Pinsplice-Action: splice", NULL, 1, 0, 0, 200,
     "X-Pinsplice-Action: bump", XH("bump", "(bad-input)"),
     AT("bump", "(bad-input)", "bad-input", "-")},
    /* a client copy: removed, and even a bump needs the 200 then */
    {"CONNECT other.test:443 HTTP/1.1", "X-Pinsplice-Action: splice", NULL, 1, 0, 0, 200,
     "X-Pinsplice-Action: bump", XH("bump", "(default)"),
     AT("bump", "(default)", "default", "other.test")},
    {"CONNECT zoom.us:443 HTTP/1.1", "X-Pinsplice-Action: splice", NULL, 1, 0, 1, 200,
     "X-Pinsplice-Action: bump", XH("bump", "(bad-input)"),
     AT("bump", "(bad-input)", "bad-input", "-")},
    {"GET http://zoom.us/ HTTP/1.1", "X-Pinsplice-Action: splice", NULL, 1, 1, 0, 204, "", "", ""},
};

static void
test_plan(void **state)
{
    struct ps_snapshot *snap = fx_snapshot(plan_sql, 0);
    static struct ps_icap_plan p;
    struct ps_icap_config cfg = plan_cfg;
    struct ps_icap_facts f;
    struct ps_decision d;
    char xh[4096], at[4096], user[64];
    size_t i, k;

    (void)state;
    for (i = 0; i < N(plan_cases); i++) {
        const struct plan_case *c = &plan_cases[i];
        const char *http[2] = {c->line, c->client_header}, *icap[1] = {user};
        snprintf(user, sizeof(user), "X-Client-Username: %s", c->user ? c->user : "");
        cfg.fail_open = c->fail_open != 0;
        ps_icap_facts_fill(&f, &cfg, c->line, http, c->client_header ? 2 : 1, icap,
                           c->user ? 1 : 0);
        if (f.strip != NULL)
            ps_icap_stripped(&f, &cfg, !c->strip_fails, http, 1);
        ps_icap_plan(&f, &cfg, c->rules ? snap : NULL, &d, &p);
        xh[0] = at[0] = '\0';
        for (k = 0; k < p.n_xheaders; k++)
            snprintf(xh + strlen(xh), sizeof(xh) - strlen(xh), "%s%s", k ? "|" : "", p.xheaders[k]);
        for (k = 0; k < p.n_attrs; k++)
            snprintf(at + strlen(at), sizeof(at) - strlen(at), "%s%s=%s", k ? "|" : "",
                     p.attrs[k].name, p.attrs[k].value);
        if (p.status != c->status || strcmp(p.http_header, c->http) != 0 ||
            strcmp(xh, c->xheaders) != 0 || strcmp(at, c->attrs) != 0 || d.action != p.action)
            fail_msg("case %zu (%s): got %d '%s'\n  %s\n  %s", i, c->line, p.status, p.http_header,
                     xh, at);
    }
    ps_snapshot_release(snap);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_target_table),
        cmocka_unit_test(test_connect_target_bounds),
        cmocka_unit_test(test_header_name_check),
        cmocka_unit_test(test_header_is),
        cmocka_unit_test(test_header_is_bounds),
        cmocka_unit_test(test_header_line),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_user_bounds),
        cmocka_unit_test(test_needs_header),
        cmocka_unit_test(test_rule_label),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_facts),
        cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
