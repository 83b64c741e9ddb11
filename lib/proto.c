#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "err.h"
#include "proto.h"

/* The request's fields, for messages: the order Squid sends them in. */
static const char *const field_names[PS_PROTO_NFIELDS] = {
    "SNI", "CONNECT-HOST", "CLIENT-IP", "USER", "PROGRAM", "ACTION",
};

/* At most this many fields are located; a line with more is reported as "more than 8". */
#define MAX_TOKENS (PS_PROTO_NFIELDS + 2)

struct span {
    const char *s;
    size_t len;
};

void
ps_proto_init(struct ps_proto *p, enum ps_proto_mode mode)
{
    if (mode != PS_PROTO_CONCURRENT && mode != PS_PROTO_SERIAL)
        mode = PS_PROTO_AUTO;
    p->forced = mode;
    p->last = PS_PROTO_AUTO;
}

static bool
is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A channel-ID as Squid writes one: 1..PS_PROTO_ID_MAX decimal digits. */
static bool
is_id(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > PS_PROTO_ID_MAX)
        return false;
    for (i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Split at single spaces. Returns the number of fields, counting at most MAX_TOKENS + 1 (so "too
 * many" is still visible); the first MAX_TOKENS are stored. An empty line is one empty field. */
static size_t
tokenize(const char *line, size_t len, struct span tok[MAX_TOKENS])
{
    size_t n = 0, start = 0, i;

    for (i = 0; i <= len; i++) {
        if (i < len && line[i] != ' ')
            continue;
        if (n < MAX_TOKENS) {
            tok[n].s = line + start;
            tok[n].len = i - start;
        }
        n++;
        if (n > MAX_TOKENS)
            break;
        start = i + 1;
    }
    return n;
}

bool
ps_proto_guess_id(const struct ps_proto *p, const char *line, size_t len,
                  char id[PS_PROTO_ID_MAX + 1])
{
    enum ps_proto_mode mode = p->forced != PS_PROTO_AUTO ? p->forced : p->last;
    const char *sp;
    size_t tlen;

    id[0] = '\0';
    if (mode == PS_PROTO_SERIAL || line == NULL)
        return false;
    /* CONCURRENT, or no history: a first field of digits is a channel-ID. */
    sp = memchr(line, ' ', len);
    tlen = sp != NULL ? (size_t)(sp - line) : len;
    if (!is_id(line, tlen))
        return false;
    memcpy(id, line, tlen);
    id[tlen] = '\0';
    return true;
}

/*
 * URL-unescape one field into out (which has room for tok->len + 1 bytes). Strict: a '%' needs two
 * hex digits, NUL and control characters are refused raw or escaped. Sets *absent for "-" or an
 * empty field. Returns the length written, or a negative code with err naming the field.
 */
static int
unescape(const struct span *tok, const char *name, char *out, bool *absent, struct ps_err *err)
{
    size_t i, o = 0;
    int hi, lo;
    unsigned char c;

    *absent = tok->len == 0 || (tok->len == 1 && tok->s[0] == '-');
    if (*absent)
        return 0;
    for (i = 0; i < tok->len; i++) {
        c = (unsigned char)tok->s[i];
        if (c == '%') {
            hi = i + 1 < tok->len ? hexval((unsigned char)tok->s[i + 1]) : -1;
            lo = i + 2 < tok->len ? hexval((unsigned char)tok->s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return ps_err_set(err, PS_EINVAL, "%s: bad %%-escape (not %% and two hex digits)",
                                  name);
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
            if (c == 0)
                return ps_err_set(err, PS_EINVAL, "%s: escaped NUL (%%00)", name);
            if (is_ctl(c))
                return ps_err_set(err, PS_EINVAL, "%s: escaped control character 0x%02x", name, c);
        } else if (c == 0) {
            return ps_err_set(err, PS_EINVAL, "%s: NUL byte", name);
        } else if (is_ctl(c)) {
            return ps_err_set(err, PS_EINVAL, "%s: control character 0x%02x", name, c);
        }
        if (o >= PS_PROTO_FIELD_MAX)
            return ps_err_set(err, PS_ETOOLONG, "%s: over %d bytes", name, PS_PROTO_FIELD_MAX);
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

/* Decide whether the line carries a channel-ID; fills req->id. Returns the index of the first
 * request field, or a negative code. n is the field count from tokenize(). */
static int
find_fields(struct ps_proto *p, const char *line, size_t len, const struct span *tok, size_t n,
            struct ps_proto_request *req, struct ps_err *err)
{
    enum ps_proto_mode mode = p->forced != PS_PROTO_AUTO ? p->forced : p->last;
    size_t want;

    /* Squid never changes the mode while a helper runs, so once a well-formed line showed it, a
     * line that disagrees is malformed: a concurrent line missing a field must still be answered
     * with its channel-ID, and a reply with an ID Squid did not send would be unparseable. */
    if (mode == PS_PROTO_AUTO) {
        if (n == PS_PROTO_NFIELDS + 1)
            mode = PS_PROTO_CONCURRENT;
        else if (n == PS_PROTO_NFIELDS)
            mode = PS_PROTO_SERIAL;
    }
    if (mode == PS_PROTO_AUTO) {
        req->has_id = ps_proto_guess_id(p, line, len, req->id);
        if (n > MAX_TOKENS)
            return ps_err_set(err, PS_EINVAL,
                              "more than %d fields, expected %d (after an "
                              "optional channel-ID)",
                              MAX_TOKENS, PS_PROTO_NFIELDS);
        return ps_err_set(err, PS_EINVAL,
                          "%zu field%s, expected %d (after an optional "
                          "channel-ID)",
                          n, n == 1 ? "" : "s", PS_PROTO_NFIELDS);
    }
    if (mode == PS_PROTO_CONCURRENT) {
        if (!is_id(tok[0].s, tok[0].len))
            return ps_err_set(err, PS_EINVAL, "channel-ID: not 1 to %d digits", PS_PROTO_ID_MAX);
        memcpy(req->id, tok[0].s, tok[0].len);
        req->id[tok[0].len] = '\0';
        req->has_id = true;
    }
    want = PS_PROTO_NFIELDS + (mode == PS_PROTO_CONCURRENT);
    if (n != want) {
        if (n > MAX_TOKENS)
            return ps_err_set(err, PS_EINVAL, "more than %d fields, expected %d%s", MAX_TOKENS,
                              PS_PROTO_NFIELDS, req->has_id ? " after the channel-ID" : "");
        return ps_err_set(err, PS_EINVAL, "%zu field%s, expected %d%s", n - req->has_id,
                          n - req->has_id == 1 ? "" : "s", PS_PROTO_NFIELDS,
                          req->has_id ? " after the channel-ID" : "");
    }
    return req->has_id ? 1 : 0;
}

int
ps_proto_parse(struct ps_proto *p, const char *line, size_t len, struct ps_proto_request *req,
               struct ps_err *err)
{
    struct span tok[MAX_TOKENS];
    const char *value[PS_PROTO_NFIELDS];
    char *out = req->buf;
    bool absent;
    size_t n, i;
    int first, rc;

    req->has_id = false;
    req->id[0] = '\0';
    if (line == NULL && len > 0)
        return ps_err_set(err, PS_EINVAL, "no line");
    if (len > PS_PROTO_LINE_MAX) {
        req->has_id = ps_proto_guess_id(p, line, len, req->id);
        return ps_err_set(err, PS_ETOOLONG, PS_PROTO_TOOLONG_MSG);
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    /* Squid 5.7 ends the line with a space when the format names %DATA itself. */
    if (len > 0 && line[len - 1] == ' ')
        len--;
    n = tokenize(line != NULL ? line : "", len, tok);
    first = find_fields(p, line, len, tok, n, req, err);
    if (first < 0)
        return first;
    for (i = 0; i < PS_PROTO_NFIELDS; i++) {
        rc = unescape(&tok[first + i], field_names[i], out, &absent, err);
        if (rc < 0)
            return rc;
        value[i] = absent ? NULL : out;
        out += absent ? 0 : (size_t)rc + 1;
    }
    req->action = PS_ACTION_SPLICE;
    if (value[5] != NULL && ps_action_parse(value[5], &req->action) != 0)
        return ps_err_set(err, PS_EINVAL, "ACTION: not splice, bump, terminate or -");
    req->query.sni = value[0];
    req->query.host = value[1];
    req->query.client_ip = value[2];
    req->query.user = value[3];
    req->query.program = value[4];
    req->query.now = 0;
    p->last = req->has_id ? PS_PROTO_CONCURRENT : PS_PROTO_SERIAL;
    return 0;
}

/* ---- replies ------------------------------------------------------------------------------ */

/* Output cursor: cap excludes the terminating NUL; callers check room before every put. */
struct out {
    char *p;
    size_t n, cap;
};

static void
put(struct out *o, const char *s, size_t len)
{
    if (len > o->cap - o->n)
        len = o->cap - o->n; /* not reached: budgets are computed first */
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

static void
put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Length of the character starting at s[0]: a whole UTF-8 sequence when its continuation bytes
 * are there (a NUL is not one, so this never reads past the string), else 1. */
static size_t
char_len(const unsigned char *s)
{
    size_t want, k;

    if (s[0] < 0xc0)
        return 1;
    want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf8 ? 4 : 1;
    for (k = 1; k < want; k++)
        if ((s[k] & 0xc0) != 0x80)
            break;
    return k;
}

/* How one byte is written inside quotes; returns its length (1 or 2). Squid's strwordtok()
 * turns \" \\ \n \r back into the byte; it has no escape for other control characters. */
static size_t
escape_byte(unsigned char c, char buf[2])
{
    switch (c) {
    case '"':
        buf[0] = '\\';
        buf[1] = '"';
        return 2;
    case '\\':
        buf[0] = '\\';
        buf[1] = '\\';
        return 2;
    case '\n':
        buf[0] = '\\';
        buf[1] = 'n';
        return 2;
    case '\r':
        buf[0] = '\\';
        buf[1] = 'r';
        return 2;
    default:
        buf[0] = is_ctl(c) ? '?' : (char)c;
        return 1;
    }
}

/* Escaped length of the character at s, clen bytes long. */
static size_t
escaped_len(const unsigned char *s, size_t clen)
{
    char tmp[2];

    return clen > 1 ? clen : escape_byte(s[0], tmp);
}

/*
 * Write s as a quoted value in at most budget bytes (budget >= QUOTED_MIN). When the whole value
 * does not fit, cut it at a character boundary and end it with "..." inside the quotes. Both walks
 * stop at the NUL or at the budget.
 */
static void
put_quoted(struct out *o, const char *s, size_t budget)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t need = 2, i, clen, limit;
    char tmp[2];

    for (i = 0; u[i] != '\0' && need <= budget; i += clen) {
        clen = char_len(u + i);
        need += escaped_len(u + i, clen);
    }
    limit = need <= budget ? budget : budget - 3; /* keep room for "..." */
    put(o, "\"", 1);
    need = 2;
    for (i = 0; u[i] != '\0'; i += clen) {
        clen = char_len(u + i);
        if (need + escaped_len(u + i, clen) > limit)
            break;
        if (clen > 1)
            put(o, s + i, clen);
        else
            put(o, tmp, escape_byte(u[i], tmp));
        need += escaped_len(u + i, clen);
    }
    if (u[i] != '\0')
        put(o, "...", 3);
    put(o, "\"", 1);
}

static const char *
action_name(enum ps_action a)
{
    switch (a) {
    case PS_ACTION_SPLICE:
        return "splice";
    case PS_ACTION_TERMINATE:
        return "terminate";
    case PS_ACTION_BUMP:
        return "bump";
    }
    return "bump";
}

/* The least a quoted value can take: "..." in quotes. */
#define QUOTED_MIN 5
/* A rule's value never takes more than this (a 200-character name fits even fully escaped), so
 * the message always keeps room. */
#define RULE_BUDGET 512

size_t
ps_proto_reply(const char *id, bool ok, enum ps_action decision, const char *rule,
               const char *message, char *out, size_t size)
{
    static const char msg_key[] = " message=";
    struct out o = {out, 0, size > 0 ? size - 1 : 0};
    size_t room, mark;

    if (size < PS_PROTO_REPLY_MIN) {
        if (size > 0)
            out[0] = '\0';
        return 0;
    }
    if (id != NULL && is_id(id, strnlen(id, PS_PROTO_ID_MAX + 1))) {
        put_str(&o, id);
        put(&o, " ", 1);
    }
    put_str(&o, ok ? "OK" : "ERR");
    put_str(&o, " pinsplice_action=");
    put_str(&o, action_name(decision));
    put_str(&o, " pinsplice_rule=");
    /* What both values may use: all but " message=" and the newline. The fixed parts take at
     * most 21 + 3 + 18 + 9 + 16 + 9 + 1 = 77 bytes, so room >= PS_PROTO_REPLY_MIN - 1 - 77 = 50,
     * enough for two QUOTED_MIN values. */
    room = o.cap - o.n - (sizeof(msg_key) - 1) - 1;
    mark = o.n;
    if (rule == NULL)
        put(&o, "-", 1);
    else
        put_quoted(&o, rule, room - QUOTED_MIN < RULE_BUDGET ? room - QUOTED_MIN : RULE_BUDGET);
    room -= o.n - mark;
    put_str(&o, msg_key);
    put_quoted(&o, message != NULL ? message : "", room);
    put(&o, "\n", 1);
    out[o.n] = '\0';
    return o.n;
}

size_t
ps_proto_reply_error(const char *id, const char *message, char *out, size_t size)
{
    return ps_proto_reply(id, false, PS_ACTION_BUMP, NULL, message, out, size);
}

size_t
ps_proto_reply_decision(const struct ps_proto_request *req, const struct ps_decision *d,
                        const char *message, char *out, size_t size)
{
    char buf[256];

    if (message == NULL) {
        switch (d->reason) {
        case PS_REASON_RULE:
            message = "rule matched";
            break;
        case PS_REASON_DEFAULT:
            message = "no rule matched: default action";
            break;
        case PS_REASON_NO_RULES:
            message = "rules unavailable";
            break;
        case PS_REASON_BAD_NAME:
            snprintf(buf, sizeof(buf), "bad server name%s%s", d->detail ? ": " : "",
                     d->detail ? d->detail : "");
            message = buf;
            break;
        case PS_REASON_BAD_INPUT:
            snprintf(buf, sizeof(buf), "bad input%s%s", d->detail ? ": " : "",
                     d->detail ? d->detail : "");
            message = buf;
            break;
        default:
            message = "";
            break;
        }
    }
    return ps_proto_reply(req->has_id ? req->id : NULL, d->action == req->action, d->action,
                          d->rule_name, message, out, size);
}

int
ps_proto_parse_ulong(const char *what, const char *s, unsigned long min, unsigned long max,
                     unsigned long *out, struct ps_err *err)
{
    unsigned long v = 0;
    size_t i;

    if (s == NULL || s[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "%s: empty number", what);
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9')
            return ps_err_set(err, PS_EINVAL, "%s: '%.32s' is not a decimal number", what, s);
        if (v > (ULONG_MAX - (unsigned long)(s[i] - '0')) / 10)
            return ps_err_set(err, PS_EINVAL, "%s: %.32s is out of range %lu..%lu", what, s, min,
                              max);
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < min || v > max)
        return ps_err_set(err, PS_EINVAL, "%s: %.32s is out of range %lu..%lu", what, s, min, max);
    *out = v;
    return 0;
}
