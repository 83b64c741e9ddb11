/* Unit tests for lib/core/proto.c: the Squid external ACL request parser and reply formatter. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"
#include "err.h"
#include "fixture.h"
#include "proto.h"
#include "snapshot.h"
#include "verify.h"

#define OK_LINE "www.zoom.us www.zoom.us:443 10.0.0.1 - - splice"

/* ---- parsing -------------------------------------------------------------------------------- */

struct parse_case {
    const char *line;
    size_t len;              /* 0: strlen(line) (a NULL line has length 0) */
    enum ps_proto_mode mode; /* forced mode */
    int rc;
    const char *id;   /* expected channel-ID to echo, NULL: none */
    const char *f[5]; /* expected SNI, HOST, CLIENT-IP, USER, PROGRAM (on success) */
    enum ps_action action;
    const char *msg; /* substring of the error message */
};

/* One case per entry reads better than one field per line. */
/* clang-format off */
static const struct parse_case parse_cases[] = {
    /* the ordinary shapes */
    { OK_LINE, 0, PS_PROTO_AUTO, 0, NULL,
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "1 " OK_LINE, 0, PS_PROTO_AUTO, 0, "1",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "0 " OK_LINE, 0, PS_PROTO_AUTO, 0, "0",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "4294967296 " OK_LINE, 0, PS_PROTO_AUTO, 0, "4294967296",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "18446744073709551615 " OK_LINE, 0, PS_PROTO_AUTO, 0, "18446744073709551615",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "007 " OK_LINE, 0, PS_PROTO_AUTO, 0, "007", /* echoed exactly, not renumbered */
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "a b c d e bump", 0, PS_PROTO_AUTO, 0, NULL, { "a", "b", "c", "d", "e" }, PS_ACTION_BUMP,
      NULL },
    { "a b c d e terminate", 0, PS_PROTO_AUTO, 0, NULL, { "a", "b", "c", "d", "e" },
      PS_ACTION_TERMINATE, NULL },
    { "- - - - - -", 0, PS_PROTO_AUTO, 0, NULL, { NULL, NULL, NULL, NULL, NULL },
      PS_ACTION_SPLICE, NULL },
    /* an empty field (Squid may send one for an empty header) is absent too */
    { "a  c d e splice", 0, PS_PROTO_AUTO, 0, NULL, { "a", NULL, "c", "d", "e" },
      PS_ACTION_SPLICE, NULL },
    /* one trailing space (Squid 5.7 with %DATA named in the format) is ignored */
    { "5 " OK_LINE " ", 0, PS_PROTO_AUTO, 0, "5",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { OK_LINE " \r", 0, PS_PROTO_AUTO, 0, NULL,
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "5 " OK_LINE "  ", 0, PS_PROTO_AUTO, PS_EINVAL, "5", { 0 }, 0, "8 fields" },
    /* one trailing CR is ignored */
    { OK_LINE "\r", 0, PS_PROTO_AUTO, 0, NULL,
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    /* names are passed on as received: upper case, trailing dot, IPv6 literals */
    { "ZOOM.US. ZOOM.US.:443 ::1 - - -", 0, PS_PROTO_AUTO, 0, NULL,
      { "ZOOM.US.", "ZOOM.US.:443", "::1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    { "- [::1]:443 ::1 - - -", 0, PS_PROTO_AUTO, 0, NULL, { NULL, "[::1]:443", "::1", NULL, NULL },
      PS_ACTION_SPLICE, NULL },
    { "- %5B%3A%3A1%5D%3A443 %3a%3a1 - - -", 0, PS_PROTO_AUTO, 0, NULL,
      { NULL, "[::1]:443", "::1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    /* escapes: both hex cases, a space, a literal percent, raw UTF-8 */
    { "a b c John%20Doe C%3A%5cProgram%20Files%5CZoom%5czoom.exe -", 0, PS_PROTO_AUTO, 0, NULL,
      { "a", "b", "c", "John Doe", "C:\\Program Files\\Zoom\\zoom.exe" }, PS_ACTION_SPLICE,
      NULL },
    { "a b c 100%25 caf\xc3\xa9.exe -", 0, PS_PROTO_AUTO, 0, NULL,
      { "a", "b", "c", "100%", "caf\xc3\xa9.exe" }, PS_ACTION_SPLICE, NULL },
    { "%2D b c d e -", 0, PS_PROTO_AUTO, 0, NULL, { "-", "b", "c", "d", "e" }, PS_ACTION_SPLICE,
      NULL },

    /* NULL, empty, field counts */
    { NULL, 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "1 field, expected 6" },
    { "", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "1 field, expected 6" },
    { "a b c d e", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "5 fields, expected 6" },
    { "7 a b c d", 0, PS_PROTO_AUTO, PS_EINVAL, "7", { 0 }, 0, "5 fields, expected 6" },
    { "7 a b c d e f g", 0, PS_PROTO_AUTO, PS_EINVAL, "7", { 0 }, 0, "8 fields, expected 6" },
    { "7 a b c d e f g h i j", 0, PS_PROTO_AUTO, PS_EINVAL, "7", { 0 }, 0, "more than 8 fields" },
    { "x a b c d e f g", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "8 fields" },
    /* channel-IDs */
    { "x " OK_LINE, 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "channel-ID: not 1 to 20 digits" },
    { "-1 " OK_LINE, 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "channel-ID" },
    { "123456789012345678901 " OK_LINE, 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "channel-ID" },
    /* forced modes */
    { OK_LINE, 0, PS_PROTO_CONCURRENT, PS_EINVAL, NULL, { 0 }, 0, "channel-ID" },
    { "7 a b c d e", 0, PS_PROTO_CONCURRENT, PS_EINVAL, "7", { 0 }, 0,
      "5 fields, expected 6 after the channel-ID" },
    { "1 " OK_LINE, 0, PS_PROTO_SERIAL, PS_EINVAL, NULL, { 0 }, 0, "7 fields, expected 6" },
    { "12 " OK_LINE, 0, PS_PROTO_CONCURRENT, 0, "12",
      { "www.zoom.us", "www.zoom.us:443", "10.0.0.1", NULL, NULL }, PS_ACTION_SPLICE, NULL },
    /* bad escapes, NUL, control characters: each names the field */
    { "9 a%00 b c d e -", 0, PS_PROTO_AUTO, PS_EINVAL, "9", { 0 }, 0, "SNI: escaped NUL (%00)" },
    { "a %% c d e -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "CONNECT-HOST: bad %-escape" },
    { "a b %2 d e -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "CLIENT-IP: bad %-escape" },
    { "a b c d%2 e -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "USER: bad %-escape" },
    { "a b c d %zz -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "PROGRAM: bad %-escape" },
    { "a b c d e %", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "ACTION: bad %-escape" },
    { "a%0a b c d e -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "SNI: escaped control character 0x0a" },
    { "a%7F b c d e -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "SNI: escaped control character 0x7f" },
    { "a b c d\te -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "5 fields" },
    { "a b c d e\tx -", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "PROGRAM: control character 0x09" },
    { "a\0b b c d e -", 13, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0, "SNI: NUL byte" },
    { "a b c d e splice\r\r", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "ACTION: control character 0x0d" },
    /* ACTION */
    { "a b c d e SPLICE", 0, PS_PROTO_AUTO, PS_EINVAL, NULL, { 0 }, 0,
      "ACTION: not splice, bump, terminate or -" },
    { "3 a b c d e peek", 0, PS_PROTO_AUTO, PS_EINVAL, "3", { 0 }, 0, "ACTION: not splice" },
};
/* clang-format on */

static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void
check_parse(const struct parse_case *c, size_t idx)
{
    static struct ps_proto_request req;
    const char *got[5];
    struct ps_proto p;
    struct ps_err err = {0, ""};
    size_t len = c->len != 0 ? c->len : c->line != NULL ? strlen(c->line) : 0;
    int rc, i;

    ps_proto_init(&p, c->mode);
    rc = ps_proto_parse(&p, c->line, len, &req, &err);
    if (rc != c->rc)
        fail_msg("case %zu '%s': rc %d, want %d (%s)", idx, c->line ? c->line : "(null)", rc, c->rc,
                 err.msg);
    if (c->id != NULL) {
        assert_true(req.has_id);
        assert_string_equal(req.id, c->id);
    } else {
        if (req.has_id)
            fail_msg("case %zu: unexpected channel-ID '%s'", idx, req.id);
        assert_string_equal(req.id, "");
    }
    if (rc != 0) {
        if (strstr(err.msg, c->msg) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", idx, err.msg, c->msg);
        return;
    }
    got[0] = req.query.sni;
    got[1] = req.query.host;
    got[2] = req.query.client_ip;
    got[3] = req.query.user;
    got[4] = req.query.program;
    for (i = 0; i < 5; i++) {
        if (c->f[i] == NULL)
            assert_null(got[i]);
        else
            assert_string_equal(got[i], c->f[i]);
    }
    assert_int_equal(req.action, c->action);
    assert_true(req.query.now == 0);
    assert_int_equal(p.last, req.has_id ? PS_PROTO_CONCURRENT : PS_PROTO_SERIAL);
}

static void
test_parse_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
        check_parse(&parse_cases[i], i);
}

/* Lengths: a field of exactly PS_PROTO_FIELD_MAX bytes is fine, one more is not; the same for the
 * line; the NUL-less input is never read past len. */
static void
test_parse_lengths(void **state)
{
    static struct ps_proto_request req;
    struct ps_proto p;
    struct ps_err err = {0, ""};
    char *field = repeat('a', PS_PROTO_FIELD_MAX + 1);
    char *line = malloc(PS_PROTO_LINE_MAX + 64);
    char *big = repeat('b', PS_PROTO_LINE_MAX + 1);
    int n;

    assert_non_null(line);
    ps_proto_init(&p, PS_PROTO_AUTO);
    field[PS_PROTO_FIELD_MAX] = '\0';
    n = snprintf(line, PS_PROTO_LINE_MAX + 64, "5 %s b c d e -", field);
    assert_int_equal(ps_proto_parse(&p, line, (size_t)n, &req, &err), 0);
    assert_int_equal(strlen(req.query.sni), PS_PROTO_FIELD_MAX);

    field[PS_PROTO_FIELD_MAX] = 'a';
    n = snprintf(line, PS_PROTO_LINE_MAX + 64, "6 %s b c d e -", field);
    assert_int_equal(ps_proto_parse(&p, line, (size_t)n, &req, &err), PS_ETOOLONG);
    assert_string_equal(err.msg, "SNI: over 4096 bytes");
    assert_string_equal(req.id, "6");

    /* escapes count after decoding: 4096 "%41" decode to exactly the limit */
    ps_proto_init(&p, PS_PROTO_AUTO);
    n = snprintf(line, PS_PROTO_LINE_MAX + 64, "a b c d ");
    for (int i = 0; i < PS_PROTO_FIELD_MAX; i++)
        n += snprintf(line + n, 4, "%%41");
    n += snprintf(line + n, 4, " -");
    assert_int_equal(ps_proto_parse(&p, line, (size_t)n, &req, &err), 0);
    assert_int_equal(strlen(req.query.program), PS_PROTO_FIELD_MAX);

    /* the line bound; a fresh parser (the last line had no channel-ID) */
    ps_proto_init(&p, PS_PROTO_AUTO);
    memcpy(big, "7 ", 2);
    assert_int_equal(ps_proto_parse(&p, big, PS_PROTO_LINE_MAX + 1, &req, &err), PS_ETOOLONG);
    assert_string_equal(err.msg, PS_PROTO_TOOLONG_MSG);
    assert_true(req.has_id); /* the channel-ID is still echoed */
    assert_string_equal(req.id, "7");

    /* len is honoured: the bytes after it are not part of the line */
    ps_proto_init(&p, PS_PROTO_AUTO);
    assert_int_equal(ps_proto_parse(&p, OK_LINE " extra", strlen(OK_LINE), &req, &err), 0);
    assert_string_equal(req.query.sni, "www.zoom.us");

    /* every field at its limit at once still fits the request's buffer */
    ps_proto_init(&p, PS_PROTO_AUTO);
    n = 0;
    field[PS_PROTO_FIELD_MAX - 1000] = '\0';
    n = snprintf(line, PS_PROTO_LINE_MAX + 64, "%s %s %s %s - -", field, field, field, field);
    assert_true(n <= PS_PROTO_LINE_MAX);
    assert_int_equal(ps_proto_parse(&p, line, (size_t)n, &req, &err), 0);
    assert_int_equal(strlen(req.query.user), PS_PROTO_FIELD_MAX - 1000);
    free(field);
    free(line);
    free(big);
}

/*
 * The field walk reads 8 bytes at a time where it can: a byte it must stop at ('%', NUL, control
 * characters) is found at every position of a field of every length, with the line shifted by
 * channel-IDs of different lengths; bytes >= 0x80 that look like a stop byte in their low 7 bits
 * (0xa0 = ' ' | 0x80, 0xa5 = '%' | 0x80, 0xff = 0x7f | 0x80, 0x80 = NUL | 0x80) are carried.
 */
struct byte_case {
    char c;
    int rc;           /* 0: the field carries the byte as it is */
    const char *what; /* the message after "<FIELD>: " */
};

/* Build "<id>SNI b c d PROGRAM splice" with field (fl bytes, may hold a NUL) as the SNI (at 0)
 * or the PROGRAM (at 1), the other one "x". Returns the line's length. */
static size_t
field_line(const char *id, const char *field, size_t fl, int at, char *line)
{
    size_t n = strlen(id);

    memcpy(line, id, n);
    if (at == 0) {
        memcpy(line + n, field, fl);
        n += fl;
        memcpy(line + n, " b c d x splice", 15);
        return n + 15;
    }
    memcpy(line + n, "x b c d ", 8);
    n += 8;
    memcpy(line + n, field, fl);
    n += fl;
    memcpy(line + n, " splice", 7);
    return n + 7;
}

static const char *const field_at[] = {"SNI", "PROGRAM"};

/* One case of test_parse_every_position: byte bc->c at position k of a field of flen bytes. */
static void
check_position(const char *id, size_t flen, size_t k, const struct byte_case *bc, int at)
{
    static struct ps_proto_request req;
    struct ps_proto p;
    struct ps_err err = {0, ""};
    char field[32], want[32], line[160], msg[64];
    size_t n, fl = flen;
    int rc;

    memset(field, 'y', sizeof(field));
    memset(want, 'y', flen);
    want[flen] = '\0';
    if (bc->c == '%') {
        memcpy(field + k, "%41", 3);
        fl += 2;
        want[k] = 'A';
    } else {
        field[k] = bc->c;
        want[k] = bc->c;
    }
    n = field_line(id, field, fl, at, line);
    ps_proto_init(&p, PS_PROTO_AUTO);
    rc = ps_proto_parse(&p, line, n, &req, &err);
    snprintf(msg, sizeof(msg), "%s: %s", field_at[at], bc->what != NULL ? bc->what : "");
    if (rc != bc->rc || (rc != 0 && strcmp(err.msg, msg) != 0))
        fail_msg("id '%s', %zu bytes, 0x%02x at %zu of %s: rc %d '%s'", id, flen,
                 (unsigned char)bc->c, k, field_at[at], rc, err.msg);
    if (rc != 0)
        return;
    assert_string_equal(at == 0 ? req.query.sni : req.query.program, want);
    assert_string_equal(at == 0 ? req.query.program : req.query.sni, "x");
    assert_string_equal(req.query.host, "b");
    assert_string_equal(req.query.user, "d");
    assert_int_equal(req.action, PS_ACTION_SPLICE);
}

static void
test_parse_every_position(void **state)
{
    static const struct byte_case bytes[] = {
        {'\x01', PS_EINVAL, "control character 0x01"},
        {'\t', PS_EINVAL, "control character 0x09"},
        {'\x1f', PS_EINVAL, "control character 0x1f"},
        {'\x7f', PS_EINVAL, "control character 0x7f"},
        {'\0', PS_EINVAL, "NUL byte"},
        {'%', 0, NULL}, /* written as "%41": decoded to 'A' */
        {'\x80', 0, NULL},
        {'\xa0', 0, NULL},
        {'\xa5', 0, NULL},
        {'\xff', 0, NULL},
        {'!', 0, NULL},
        {'~', 0, NULL},
    };
    static const char *const ids[] = {"", "1 ", "123 ", "1234567 "};
    size_t d, flen, k, b;
    int at;

    for (d = 0; d < sizeof(ids) / sizeof(ids[0]); d++) {
        for (flen = 1; flen <= 20; flen++) {
            for (k = 0; k < flen; k++) {
                for (b = 0; b < sizeof(bytes) / sizeof(bytes[0]); b++) {
                    for (at = 0; at < 2; at++)
                        check_position(ids[d], flen, k, &bytes[b], at);
                }
            }
        }
    }
}

/* A line of exactly PS_PROTO_LINE_MAX bytes, and bytes after len that must not count. */
static void
test_parse_longest_line(void **state)
{
    static struct ps_proto_request req;
    static char line[PS_PROTO_LINE_MAX + 16];
    struct ps_proto p;
    struct ps_err err;
    size_t n = 0, i, user;

    for (i = 0; i < 3; i++) {
        memset(line + n, 'a' + (char)i, PS_PROTO_FIELD_MAX);
        n += PS_PROTO_FIELD_MAX;
        line[n++] = ' ';
    }
    user = PS_PROTO_LINE_MAX - n - strlen(" - splice");
    memset(line + n, 'u', user);
    n += user;
    memcpy(line + n, " - splice", strlen(" - splice"));
    n += strlen(" - splice");
    assert_int_equal(n, PS_PROTO_LINE_MAX);
    memset(line + n, '%', 16); /* not part of the line */
    ps_proto_init(&p, PS_PROTO_AUTO);
    assert_int_equal(ps_proto_parse(&p, line, n, &req, &err), 0);
    assert_int_equal(strlen(req.query.sni), PS_PROTO_FIELD_MAX);
    assert_int_equal(strlen(req.query.client_ip), PS_PROTO_FIELD_MAX);
    assert_int_equal(strlen(req.query.user), user);
    assert_null(req.query.program);
    assert_int_equal(req.action, PS_ACTION_SPLICE);
    /* Squid's trailing space in the last byte: it is dropped, so ACTION is "splic" */
    line[n - 1] = ' ';
    memcpy(line + n - 9, " - splic", 8);
    assert_int_equal(ps_proto_parse(&p, line, n, &req, &err), PS_EINVAL);
    assert_string_equal(err.msg, "ACTION: not splice, bump, terminate or -");
}

/* A malformed line's channel-ID follows the last well-formed line's mode. */
static void
test_parse_history(void **state)
{
    static struct ps_proto_request req;
    struct ps_proto p;
    struct ps_err err;
    char id[PS_PROTO_ID_MAX + 1];

    ps_proto_init(&p, PS_PROTO_AUTO);
    assert_true(ps_proto_guess_id(&p, "42 x", 4, id));
    assert_string_equal(id, "42");
    assert_false(ps_proto_guess_id(&p, "x42 x", 5, id));
    assert_string_equal(id, "");
    assert_false(ps_proto_guess_id(&p, NULL, 0, id));

    /* after a line without a channel-ID, a digit first field is not echoed */
    assert_int_equal(ps_proto_parse(&p, OK_LINE, strlen(OK_LINE), &req, &err), 0);
    assert_int_equal(ps_proto_parse(&p, "5 a b", 5, &req, &err), PS_EINVAL);
    assert_false(req.has_id);
    assert_false(ps_proto_guess_id(&p, "42 x", 4, id));
    /* and 7 fields are one too many, not a channel-ID (a reply "1 OK" would be unparseable) */
    assert_int_equal(ps_proto_parse(&p, "1 " OK_LINE, strlen(OK_LINE) + 2, &req, &err), PS_EINVAL);
    assert_false(req.has_id);
    assert_string_equal(err.msg, "7 fields, expected 6");

    /* after one with a channel-ID it is (a fresh parser: the mode holds once known) */
    ps_proto_init(&p, PS_PROTO_AUTO);
    assert_int_equal(ps_proto_parse(&p, "8 " OK_LINE, strlen(OK_LINE) + 2, &req, &err), 0);
    /* 6 fields now mean a channel-ID and a missing field, answered with the ID */
    assert_int_equal(ps_proto_parse(&p, "11 a b c d splice", 17, &req, &err), PS_EINVAL);
    assert_true(req.has_id);
    assert_string_equal(req.id, "11");
    assert_string_equal(err.msg, "5 fields, expected 6 after the channel-ID");
    assert_int_equal(ps_proto_parse(&p, "5 a b", 5, &req, &err), PS_EINVAL);
    assert_true(req.has_id);
    assert_string_equal(req.id, "5");
    /* a malformed line does not change the remembered mode */
    assert_int_equal(ps_proto_parse(&p, "a b c", 5, &req, &err), PS_EINVAL);
    assert_int_equal(p.last, PS_PROTO_CONCURRENT);
    /* a prefix of an over-long line: only the first field matters */
    assert_true(ps_proto_guess_id(&p, "99999", 3, id));
    assert_string_equal(id, "999");

    /* forced modes ignore history */
    ps_proto_init(&p, PS_PROTO_SERIAL);
    assert_false(ps_proto_guess_id(&p, "42 x", 4, id));
    ps_proto_init(&p, PS_PROTO_CONCURRENT);
    p.last = PS_PROTO_SERIAL;
    assert_true(ps_proto_guess_id(&p, "42 x", 4, id));
    ps_proto_init(&p, (enum ps_proto_mode)77);
    assert_int_equal(p.forced, PS_PROTO_AUTO);
}

/* ---- replies -------------------------------------------------------------------------------- */

/*
 * What Squid 5.7 makes of a reply, written from its documented behaviour (Helper::Reply and
 * strwordtok): the channel-ID, the result word, then key=value pairs where a value starting with
 * '"' is a quoted string (\x gives x, \n and \r give LF and CR) and any other value is URL-decoded.
 * Returns the number of pairs, or -1 when the line is not something Squid accepts as OK/ERR.
 */
struct kv {
    char key[64];
    char value[3 * PS_PROTO_REPLY_MAX];
};

static int
squid_parse(const char *line, bool concurrency, char *id, char *result, struct kv *kv, int max)
{
    const char *p = line;
    size_t n = strlen(line);
    int npairs = 0;

    if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL)
        return -1;
    if (concurrency) {
        size_t k = 0;
        while (*p >= '0' && *p <= '9' && k < 21)
            id[k++] = *p++;
        id[k] = '\0';
        if (k == 0 || *p != ' ')
            return -1;
        p++;
    }
    if (strncmp(p, "OK ", 3) == 0) {
        strcpy(result, "OK");
        p += 3;
    } else if (strncmp(p, "ERR ", 4) == 0) {
        strcpy(result, "ERR");
        p += 4;
    } else {
        return -1;
    }
    while (*p != '\n' && npairs < max) {
        size_t k = 0, v = 0;
        bool quoted = false, url;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-')
            kv[npairs].key[k++] = *p++;
        kv[npairs].key[k] = '\0';
        if (*p != '=' || k == 0)
            return -1; /* a bare word: Squid would drop everything after it */
        p++;
        url = *p != '"';
        while (*p != '\n' && (quoted || *p != ' ')) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
            } else if (*p == '\\' && quoted) {
                p++;
                kv[npairs].value[v++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
                p++;
            } else {
                kv[npairs].value[v++] = *p++;
            }
        }
        if (quoted)
            return -1;
        kv[npairs].value[v] = '\0';
        if (url && strchr(kv[npairs].value, '%') != NULL)
            return -1; /* we never send URL-escaped values */
        npairs++;
        if (*p == ' ')
            p++;
    }
    return npairs;
}

/* Check a reply is one well-formed line and return its pinsplice_rule_ and message values. */
static void
parse_reply(const char *line, bool concurrency, char *id, char *result, char *action, char *rule,
            char *message)
{
    static struct kv kv[8];
    int n = squid_parse(line, concurrency, id, result, kv, 8);

    if (n != 3)
        fail_msg("reply not parsed as 3 pairs (%d): %s", n, line);
    assert_string_equal(kv[0].key, "pinsplice_action_");
    assert_string_equal(kv[1].key, "pinsplice_rule_");
    assert_string_equal(kv[2].key, "message");
    strcpy(action, kv[0].value);
    strcpy(rule, kv[1].value);
    strcpy(message, kv[2].value);
}

struct reply_case {
    const char *id;
    bool ok;
    enum ps_action decision;
    const char *rule;
    const char *message;
    const char *want;
};

/* One case per entry reads better than one field per line. */
/* clang-format off */
static const struct reply_case reply_cases[] = {
    { NULL, true, PS_ACTION_SPLICE, "Bypass Zoom - Pre-configured", "rule matched",
      "OK pinsplice_action_=splice pinsplice_rule_=\"Bypass Zoom - Pre-configured\" "
      "message=\"rule matched\"\n" },
    { "7", false, PS_ACTION_BUMP, NULL, "rules unavailable",
      "7 ERR pinsplice_action_=bump pinsplice_rule_=- message=\"rules unavailable\"\n" },
    { "4294967296", false, PS_ACTION_TERMINATE, "t", NULL,
      "4294967296 ERR pinsplice_action_=terminate pinsplice_rule_=\"t\" message=\"\"\n" },
    { "0", true, PS_ACTION_BUMP, "-", "",
      "0 OK pinsplice_action_=bump pinsplice_rule_=\"-\" message=\"\"\n" },
    /* an ID that is not digits is never echoed */
    { "x1", false, PS_ACTION_BUMP, NULL, "m",
      "ERR pinsplice_action_=bump pinsplice_rule_=- message=\"m\"\n" },
    { "", false, PS_ACTION_BUMP, NULL, "m",
      "ERR pinsplice_action_=bump pinsplice_rule_=- message=\"m\"\n" },
    { "123456789012345678901", false, PS_ACTION_BUMP, NULL, "m",
      "ERR pinsplice_action_=bump pinsplice_rule_=- message=\"m\"\n" },
    /* quoting: quotes, backslashes, percent, non-ASCII, CR/LF, other control characters */
    { "1", true, PS_ACTION_SPLICE, "say \"hi\" C:\\zoom\\", "50% off",
      "1 OK pinsplice_action_=splice pinsplice_rule_=\"say \\\"hi\\\" C:\\\\zoom\\\\\" "
      "message=\"50% off\"\n" },
    { NULL, true, PS_ACTION_SPLICE, "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac", "a\nb\rc\td\x7f",
      "OK pinsplice_action_=splice pinsplice_rule_=\"Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac\" "
      "message=\"a\\nb\\rc?d?\"\n" },
    { NULL, false, (enum ps_action)42, NULL, NULL,
      "ERR pinsplice_action_=bump pinsplice_rule_=- message=\"\"\n" },
};
/* clang-format on */

static void
test_reply_table(void **state)
{
    char out[PS_PROTO_REPLY_MAX];
    size_t i, n;

    for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
        const struct reply_case *c = &reply_cases[i];
        n = ps_proto_reply(c->id, c->ok, c->decision, c->rule, c->message, out, sizeof(out));
        if (strcmp(out, c->want) != 0)
            fail_msg("case %zu:\n got  %s want %s", i, out, c->want);
        assert_int_equal(n, strlen(c->want));
    }
}

/* Names that must survive Squid's parser byte for byte. */
static void
test_reply_roundtrip(void **state)
{
    static const char *const names[] = {
        "Bypass Zoom - Pre-configured",
        "a \"quoted\" name",
        "back\\slash\\",
        "\\\"",
        "\"",
        "100%",
        "%41%20",
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
        "tab\there",
        "line\nbreak\r",
        "a=b c=d",
        "OK",
        "ERR x=y",
        "\\n literally",
        "trailing space ",
        "-",
    };
    char out[PS_PROTO_REPLY_MAX], id[32], result[8], action[64], rule[2048], msg[2048];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ps_proto_reply("99", true, PS_ACTION_SPLICE, names[i], names[i], out, sizeof(out));
        parse_reply(out, true, id, result, action, rule, msg);
        assert_string_equal(id, "99");
        assert_string_equal(result, "OK");
        assert_string_equal(action, "splice");
        if (strchr(names[i], '\t') != NULL) {
            /* a quoted value cannot carry a tab: it becomes '?' */
            assert_string_equal(rule, "tab?here");
            continue;
        }
        assert_string_equal(rule, names[i]);
        assert_string_equal(msg, names[i]);
    }
}

/* Long values are cut at a character, never inside an escape or a UTF-8 sequence; the line always
 * ends in a newline and fits; the schema's longest rule name (200 characters) is never cut. */
static void
test_reply_truncation(void **state)
{
    static const char *const units[] = {"\"", "\\", "a", "\xe6\x97\xa5", "\xc3\xa9", "\n"};
    char out[PS_PROTO_REPLY_MAX + 200], id[32], result[8], action[64], rule[2048];
    static char msg[3 * PS_PROTO_REPLY_MAX], name[3 * PS_PROTO_REPLY_MAX];
    char *quotes;
    size_t u, k, size, n, len;

    /* a 200-character name of the worst kind fits whole in a PS_PROTO_REPLY_MAX buffer */
    quotes = repeat('"', 200);
    ps_proto_reply("18446744073709551615", false, PS_ACTION_TERMINATE, quotes, quotes, out,
                   PS_PROTO_REPLY_MAX);
    parse_reply(out, true, id, result, action, rule, msg);
    assert_string_equal(rule, quotes);
    free(quotes);

    for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        len = 0;
        for (k = 0; len + 4 < sizeof(name) - 1; k++) {
            memcpy(name + len, units[u], strlen(units[u]));
            len += strlen(units[u]);
        }
        name[len] = '\0';
        for (size = PS_PROTO_REPLY_MIN; size <= sizeof(out); size += 7) {
            memset(out, 'X', sizeof(out));
            n = ps_proto_reply("123", true, PS_ACTION_SPLICE, name, name, out, size);
            assert_true(n > 0 && n < size);
            assert_int_equal(strlen(out), n);
            parse_reply(out, true, id, result, action, rule, msg);
            /* both values are a whole number of units followed by "..." */
            for (char *v = rule; v != NULL; v = v == rule ? msg : NULL) {
                size_t vl = strlen(v), ul = strlen(units[u]);
                assert_true(vl >= 3);
                assert_memory_equal(v + vl - 3, "...", 3);
                assert_int_equal((vl - 3) % ul, 0);
                assert_memory_equal(v, name, vl - 3);
            }
            assert_true(strlen(rule) <= PS_RULE_NAME_BYTES + PS_RULE_NAME_CHARS);
        }
    }
}

/* The monitor and verify pairs (plan 19): between the rule and the message, in Squid's
 * key=value syntax; both rule names of the worst kind fit whole in PS_PROTO_REPLY_MAX. */
static void
test_reply_extras(void **state)
{
    static struct kv kv[8];
    char out[PS_PROTO_REPLY_MAX], id[32], result[8];
    char *quotes = repeat('"', PS_RULE_NAME_CHARS);
    struct ps_decision d;
    struct ps_proto_request req;
    int n;

    (void)state;
    memset(&d, 0, sizeof(d));
    memset(&req, 0, sizeof(req));
    req.has_id = true;
    strcpy(req.id, "7");
    req.action = PS_ACTION_SPLICE;
    d.action = PS_ACTION_BUMP;
    d.reason = PS_REASON_UNVERIFIED;
    d.detail = "server not verified: verify-failed";
    d.rule_name = quotes;
    d.monitor_rule = quotes;
    d.monitor_action = PS_ACTION_SPLICE;
    d.verified = "verify-failed";
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    n = squid_parse(out, true, id, result, kv, 8);
    assert_int_equal(n, 6);
    assert_string_equal(result, "ERR");
    assert_string_equal(kv[1].key, "pinsplice_rule_");
    assert_string_equal(kv[1].value, quotes);
    assert_string_equal(kv[2].key, "pinsplice_verify_");
    assert_string_equal(kv[2].value, "verify-failed");
    assert_string_equal(kv[3].key, "pinsplice_monitor_");
    assert_string_equal(kv[3].value, "splice");
    assert_string_equal(kv[4].key, "pinsplice_monitor_rule_");
    assert_string_equal(kv[4].value, quotes);
    assert_string_equal(kv[5].key, "message");
    assert_string_equal(kv[5].value, "server not verified: verify-failed");
    /* the smallest buffer still gives a parseable line */
    for (size_t size = PS_PROTO_REPLY_MIN; size < sizeof(out); size += 13) {
        size_t len = ps_proto_reply_decision(&req, &d, NULL, out, size);
        assert_true(len > 0 && len < size && out[len - 1] == '\n');
        n = squid_parse(out, true, id, result, kv, 8);
        assert_true(n >= 3);
        assert_string_equal(kv[n - 1].key, "message");
    }
    /* none: the reply is as before */
    d.monitor_rule = NULL;
    d.verified = NULL;
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_int_equal(squid_parse(out, true, id, result, kv, 8), 3);
    free(quotes);
}

/* Names that need an escape at one position, others that need none (ASCII and UTF-8): each comes
 * back byte for byte; a 200-character UTF-8 name fits whole. */
static void
test_reply_roundtrip_positions(void **state)
{
    static const char *const esc[] = {"\"", "\\", "\n", "\r"};
    static const char *const plain[] = {
        "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93",
        "\xf0\x9f\x94\x92 pinned",
        "x",
        "",
        "100% = all",
        "a'b`c{d}|~",
    };
    char out[PS_PROTO_REPLY_MAX], id[32], result[8], action[64], rule[2048], msg[2048];
    char name[64], big[401];
    size_t e, k, i;

    for (e = 0; e < sizeof(esc) / sizeof(esc[0]); e++) {
        for (k = 0; k < 25; k++) {
            memset(name, 'n', 25);
            name[25] = '\0';
            name[k] = esc[e][0];
            ps_proto_reply("8", true, PS_ACTION_SPLICE, name, name, out, sizeof(out));
            parse_reply(out, true, id, result, action, rule, msg);
            assert_string_equal(rule, name);
            assert_string_equal(msg, name);
        }
    }
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        ps_proto_reply(NULL, false, PS_ACTION_TERMINATE, plain[i], plain[i], out, sizeof(out));
        parse_reply(out, false, id, result, action, rule, msg);
        assert_string_equal(result, "ERR");
        assert_string_equal(action, "terminate");
        assert_string_equal(rule, plain[i]);
        assert_string_equal(msg, plain[i]);
        /* nothing escaped: the value is the name in quotes */
        snprintf(name, sizeof(name), "pinsplice_rule_=\"%s\" ", plain[i]);
        assert_non_null(strstr(out, name));
    }
    for (i = 0; i < 200; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[400] = '\0';
    ps_proto_reply("18446744073709551615", true, PS_ACTION_SPLICE, big, "rule matched", out,
                   PS_PROTO_REPLY_MAX);
    parse_reply(out, true, id, result, action, rule, msg);
    assert_string_equal(rule, big);
}

/* Where a value stops fitting: the largest name that comes back whole takes exactly the room that
 * a cut one ("..." included) takes, for every buffer size near the smallest. */
static void
test_reply_fit_boundary(void **state)
{
    static char name[301];
    char out[PS_PROTO_REPLY_MIN + 41], id[32], result[8], action[64], rule[2048], msg[2048];
    size_t size, len, whole;

    for (size = PS_PROTO_REPLY_MIN; size <= sizeof(out); size++) {
        whole = 0;
        for (len = 1; len < sizeof(name); len++) {
            memset(name, 'a', len);
            name[len] = '\0';
            assert_true(ps_proto_reply("42", true, PS_ACTION_SPLICE, name, "m", out, size) < size);
            parse_reply(out, true, id, result, action, rule, msg);
            if (strcmp(rule, name) == 0) {
                if (whole != len - 1)
                    fail_msg("size %zu: %zu bytes whole after a cut one", size, len);
                whole = len;
                continue;
            }
            if (whole < 3)
                fail_msg("size %zu: %zu bytes cut, largest whole %zu", size, len, whole);
            /* cut: a prefix 3 bytes shorter than the largest whole one, then "..." */
            assert_int_equal(strlen(rule), whole);
            assert_memory_equal(rule, name, whole - 3);
            assert_string_equal(rule + whole - 3, "...");
        }
        assert_true(whole > 0 && whole < sizeof(name) - 1);
    }
}

/* ps_proto_reply_decision writes its fixed messages pre-formatted: the same bytes as
 * ps_proto_reply with the text, at every buffer size and with rules that leave it little room. */
static void
test_reply_decision_same(void **state)
{
    static const enum ps_reason reasons[] = {PS_REASON_RULE, PS_REASON_DEFAULT, PS_REASON_NO_RULES};
    static const char *const texts[] = {"rule matched", "no rule matched: default action",
                                        "rules unavailable"};
    static struct ps_proto_request req;
    static char long_plain[201], long_quotes[201];
    const char *const rules[] = {NULL, "r", "Z\xc3\xbcrich", long_plain, long_quotes};
    char a[PS_PROTO_REPLY_MAX + 8], b[PS_PROTO_REPLY_MAX + 8];
    struct ps_decision d;
    size_t r, ru, size, na, nb;

    memset(long_plain, 'p', 200);
    memset(long_quotes, '"', 200);
    memset(&req, 0, sizeof(req));
    req.has_id = true;
    strcpy(req.id, "77");
    req.action = PS_ACTION_SPLICE;
    for (r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
        for (ru = 0; ru < sizeof(rules) / sizeof(rules[0]); ru++) {
            memset(&d, 0, sizeof(d));
            d.action = ru % 2 ? PS_ACTION_SPLICE : PS_ACTION_BUMP;
            d.reason = reasons[r];
            d.rule_name = rules[ru];
            for (size = PS_PROTO_REPLY_MIN; size <= sizeof(a); size++) {
                na = ps_proto_reply_decision(&req, &d, NULL, a, size);
                nb = ps_proto_reply("77", d.action == PS_ACTION_SPLICE, d.action, rules[ru],
                                    texts[r], b, size);
                if (na != nb || strcmp(a, b) != 0)
                    fail_msg("reason %zu rule %zu size %zu:\n got  %s want %s", r, ru, size, a, b);
            }
        }
    }
}

static void
test_reply_small_buffer(void **state)
{
    char out[PS_PROTO_REPLY_MIN], big[600];

    memset(out, 'X', sizeof(out));
    assert_int_equal(
        ps_proto_reply("1", true, PS_ACTION_SPLICE, "r", "m", out, PS_PROTO_REPLY_MIN - 1), 0);
    assert_int_equal(out[0], '\0');
    assert_int_equal(ps_proto_reply("1", true, PS_ACTION_SPLICE, "r", "m", NULL, 0), 0);
    memset(big, 'r', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_true(ps_proto_reply("18446744073709551615", false, PS_ACTION_TERMINATE, big, big, out,
                               sizeof(out)) < sizeof(out));
    assert_int_equal(out[strlen(out) - 1], '\n');
}

static void
test_reply_decision(void **state)
{
    static struct ps_proto_request req;
    struct ps_proto p;
    struct ps_decision d;
    struct ps_err err;
    char out[PS_PROTO_REPLY_MAX];
    const char *line = "31 www.zoom.us www.zoom.us:443 10.0.0.1 - - splice";

    ps_proto_init(&p, PS_PROTO_AUTO);
    assert_int_equal(ps_proto_parse(&p, line, strlen(line), &req, &err), 0);
    memset(&d, 0, sizeof(d));
    d.action = PS_ACTION_SPLICE;
    d.reason = PS_REASON_RULE;
    d.rule_id = 3;
    d.rule_name = "Bypass Zoom - Pre-configured";
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 OK pinsplice_action_=splice pinsplice_rule_=\"Bypass Zoom - "
                             "Pre-configured\" message=\"rule matched\"\n");

    /* the acl asked about bump: the same decision is ERR */
    req.action = PS_ACTION_BUMP;
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 ERR pinsplice_action_=splice pinsplice_rule_=\"Bypass Zoom - "
                             "Pre-configured\" message=\"rule matched\"\n");

    memset(&d, 0, sizeof(d));
    d.action = PS_ACTION_BUMP;
    d.reason = PS_REASON_BAD_NAME;
    d.detail = "SNI: empty label";
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 OK pinsplice_action_=bump pinsplice_rule_=- "
                             "message=\"bad server name: SNI: empty label\"\n");
    d.reason = PS_REASON_NO_RULES;
    d.detail = NULL;
    req.action = PS_ACTION_SPLICE;
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 ERR pinsplice_action_=bump pinsplice_rule_=- "
                             "message=\"rules unavailable\"\n");
    d.reason = PS_REASON_DEFAULT;
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 ERR pinsplice_action_=bump pinsplice_rule_=- "
                             "message=\"no rule matched: default action\"\n");
    d.reason = PS_REASON_BAD_INPUT;
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 ERR pinsplice_action_=bump pinsplice_rule_=- "
                             "message=\"bad input\"\n");
    /* an explicit message wins (the helper's fail-open) */
    d.action = PS_ACTION_SPLICE;
    ps_proto_reply_decision(&req, &d, "rules unavailable (fail-open)", out, sizeof(out));
    assert_string_equal(out, "31 OK pinsplice_action_=splice pinsplice_rule_=- "
                             "message=\"rules unavailable (fail-open)\"\n");

    /* a consulted server check is named, whatever its outcome (the note Squid logs as 17) */
    memset(&d, 0, sizeof(d));
    d.action = PS_ACTION_SPLICE;
    d.reason = PS_REASON_RULE;
    d.rule_name = "Z";
    ps_decide_verified(&d, PS_VERIFY_OK);
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 OK pinsplice_action_=splice pinsplice_rule_=\"Z\" "
                             "pinsplice_verify_=verified message=\"rule matched\"\n");
    ps_decide_verified(&d, PS_VERIFY_TIMEOUT);
    ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
    assert_string_equal(out, "31 ERR pinsplice_action_=bump pinsplice_rule_=\"Z\" "
                             "pinsplice_verify_=verify-timeout "
                             "message=\"server not verified: verify-timeout\"\n");
    /* the smallest buffer still ends in a newline with a long rule name and the outcome */
    {
        static char big[801];
        char small[PS_PROTO_REPLY_MIN];
        size_t n;

        memset(big, 'r', 800);
        d.rule_name = big;
        n = ps_proto_reply_decision(&req, &d, NULL, small, sizeof(small));
        assert_true(n > 0 && n < sizeof(small) && small[n - 1] == '\n');
        n = ps_proto_reply_decision(&req, &d, NULL, out, sizeof(out));
        assert_non_null(strstr(out, "\" pinsplice_verify_=verify-timeout message="));
    }

    ps_proto_reply_error("5", "SNI: bad %-escape (not % and two hex digits)", out, sizeof(out));
    assert_string_equal(out, "5 ERR pinsplice_action_=bump pinsplice_rule_=- "
                             "message=\"SNI: bad %-escape (not % and two hex digits)\"\n");
}

/* ---- numbers -------------------------------------------------------------------------------- */

struct ulong_case {
    const char *s;
    int rc;
    unsigned long v;
};

static void
test_parse_ulong(void **state)
{
    static const struct ulong_case cases[] = {
        {"1000", 0, 1000},
        {"10", 0, 10},
        {"3600000", 0, 3600000},
        {"0010", 0, 10},
        {NULL, PS_EINVAL, 0},
        {"", PS_EINVAL, 0},
        {"9", PS_EINVAL, 0},
        {"3600001", PS_EINVAL, 0},
        {"-1", PS_EINVAL, 0},
        {"+5", PS_EINVAL, 0},
        {" 50", PS_EINVAL, 0},
        {"50 ", PS_EINVAL, 0},
        {"1e3", PS_EINVAL, 0},
        {"0x10", PS_EINVAL, 0},
        {"99999999999999999999999999", PS_EINVAL, 0},
    };
    struct ps_err err;
    unsigned long v;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 7;
        assert_int_equal(
            ps_proto_parse_ulong("--reload-interval", cases[i].s, 10, 3600000, &v, &err),
            cases[i].rc);
        assert_int_equal(v, cases[i].rc == 0 ? cases[i].v : 7);
        if (cases[i].rc != 0)
            assert_non_null(strstr(err.msg, "--reload-interval"));
    }
}

/* SQL for INSERT INTO rules(name) of the bytes b[0..n) (as text, by hex). */
static char *
insert_name_sql(const unsigned char *b, size_t n)
{
    char *sql = malloc(2 * n + 128);
    size_t i, o;

    assert_non_null(sql);
    o = (size_t)sprintf(sql, "INSERT INTO rules (name) VALUES (CAST(X'");
    for (i = 0; i < n; i++)
        o += (size_t)sprintf(sql + o, "%02X", b[i]);
    sprintf(sql + o, "' AS TEXT));");
    return sql;
}

/* Issue 12 item 12: every rule name the real schema accepts comes back whole in a reply, at the
 * worst mixes (all escapes; all 4-byte UTF-8; escapes plus bytes SQLite's length() does not count
 * as characters), and one byte over PS_RULE_NAME_BYTES is refused by the schema. Before, a
 * 200-character name of 3- or 4-byte characters was cut to 512 bytes. */
static void
test_reply_schema_names(void **state)
{
    unsigned char names[3][PS_RULE_NAME_BYTES + 1];
    size_t lens[3], i, k;
    char out[PS_PROTO_REPLY_MAX], id[32], result[8], action[64], rule[4096], msg[2048];
    char *db, *sql;
    unsigned char over[PS_RULE_NAME_BYTES + 1];

    (void)state;
    memset(names[0], '"', PS_RULE_NAME_CHARS);
    lens[0] = PS_RULE_NAME_CHARS;
    for (k = 0; k < PS_RULE_NAME_CHARS; k++)
        memcpy(names[1] + 4 * k, "\xf0\x9f\x94\x92", 4);
    lens[1] = 4 * PS_RULE_NAME_CHARS;
    memset(names[2], '\\', PS_RULE_NAME_CHARS - 1);
    names[2][PS_RULE_NAME_CHARS - 1] = 0xc3;
    memset(names[2] + PS_RULE_NAME_CHARS, 0xa9, PS_RULE_NAME_BYTES - PS_RULE_NAME_CHARS);
    lens[2] = PS_RULE_NAME_BYTES;
    db = fx_db(NULL, 0);
    for (i = 0; i < 3; i++) {
        sql = insert_name_sql(names[i], lens[i]);
        fx_exec(db, sql, 0);
        free(sql);
    }
    /* one byte more is refused, also when the characters are few */
    over[0] = 'a';
    over[1] = 0xc3;
    memset(over + 2, 0xa9, sizeof(over) - 2);
    sql = insert_name_sql(over, sizeof(over));
    assert_int_equal(fx_exec(db, sql, 1), -1);
    free(sql);
    fx_remove(db);
    for (i = 0; i < 3; i++) {
        names[i][lens[i]] = '\0';
        ps_proto_reply("18446744073709551615", false, PS_ACTION_TERMINATE, (char *)names[i],
                       "a message", out, sizeof(out));
        parse_reply(out, true, id, result, action, rule, msg);
        assert_int_equal(strlen(rule), lens[i]);
        assert_memory_equal(rule, names[i], lens[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_reply_extras),
        cmocka_unit_test(test_parse_lengths),
        cmocka_unit_test(test_parse_every_position),
        cmocka_unit_test(test_parse_longest_line),
        cmocka_unit_test(test_parse_history),
        cmocka_unit_test(test_reply_table),
        cmocka_unit_test(test_reply_roundtrip),
        cmocka_unit_test(test_reply_truncation),
        cmocka_unit_test(test_reply_schema_names),
        cmocka_unit_test(test_reply_roundtrip_positions),
        cmocka_unit_test(test_reply_fit_boundary),
        cmocka_unit_test(test_reply_decision_same),
        cmocka_unit_test(test_reply_small_buffer),
        cmocka_unit_test(test_reply_decision),
        cmocka_unit_test(test_parse_ulong),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
