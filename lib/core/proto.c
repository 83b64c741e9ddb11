#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "err.h"
#include "name.h"
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
    bool plain; /* no '%', NUL or control character: the field is its own unescaped form */
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

/*
 * find_stop(p): the index of the first stop byte at p, a byte a field cannot carry as it is: the
 * separator, '%', NUL or another control character (<= ' ' or 0x7f); bytes >= 0x80 (UTF-8) are
 * carried. There must be one, with 7 readable bytes after it: the walk has no other bound, and
 * where it can it reads 8 bytes at a time (the usual line is 60 to 80 bytes of plain fields).
 * tokenize() looks at the byte found itself, so finding one too early would cost only speed;
 * missing one would not: test_proto puts each stop byte at every position.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_ONES 0x0101010101010101ULL
#define WORD_LOW7 0x7f7f7f7f7f7f7f7fULL

/* 0x80 in each byte of w that is zero, 0 in the others (exact: no carry crosses a byte). */
static uint64_t
zero_bytes(uint64_t w)
{
    return ~(((w & WORD_LOW7) + WORD_LOW7) | w | WORD_LOW7);
}

static size_t
find_stop(const unsigned char *p)
{
    uint64_t w, m;
    size_t i = 0;

    for (;;) {
        memcpy(&w, p + i, sizeof(w));
        /* <= ' ': the high bit is clear and the low 7 bits plus 0x5f stay below 0x80 */
        m = ~(((w & WORD_LOW7) + WORD_ONES * (0x7f - ' ')) | w | WORD_LOW7);
        m |= zero_bytes(w ^ (WORD_ONES * '%')) | zero_bytes(w ^ (WORD_ONES * 0x7f));
        if (m != 0)
            return i + (size_t)__builtin_ctzll(m) / 8; /* little-endian: the first byte is low */
        i += sizeof(w);
    }
}
#else
static size_t
find_stop(const unsigned char *p)
{
    size_t i = 0;

    while (p[i] > ' ' && p[i] != '%' && p[i] != 0x7f)
        i++;
    return i;
}
#endif

/*
 * Split line (len bytes) at single spaces, in the same pass noting which fields are plain (hold
 * no stop byte but their separator: nothing to unescape or refuse). line[len] must be NUL and the
 * 7 bytes after it readable: the walk needs no other bound, the NUL stops it. Returns the number
 * of fields, counting at most MAX_TOKENS + 1 (so "too many" is still visible); the first
 * MAX_TOKENS are stored. An empty line is one empty field.
 */
static size_t
tokenize(const char *line, size_t len, struct span tok[MAX_TOKENS])
{
    const unsigned char *u = (const unsigned char *)line;
    size_t n = 0, start = 0, i = 0;
    bool plain = true;

    for (;;) {
        i += find_stop(u + i);
        if (i < len && u[i] != ' ') {
            plain = false; /* '%' or a control character inside the line (a raw NUL too) */
            i++;
            continue;
        }
        /* a separator, or the end of the line */
        if (n < MAX_TOKENS) {
            tok[n].s = line + start;
            tok[n].len = i - start;
            tok[n].plain = plain;
        }
        n++;
        if (i >= len || n > MAX_TOKENS)
            break;
        i++;
        start = i;
        plain = true;
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
 * URL-unescape one field of len bytes at s in place (decoding never writes ahead of reading) and
 * NUL-terminate it at s[len] or before. Strict: a '%' needs two hex digits, NUL and control
 * characters are refused raw or escaped. A plain field (see tokenize) is only checked for length.
 * Sets *absent for "-" or an empty field. Returns the length, or a negative code with err naming
 * the field.
 */
static int
unescape(char *s, size_t len, bool plain, const char *name, bool *absent, struct ps_err *err)
{
    size_t i, o = 0;
    int hi, lo;
    unsigned char c;

    *absent = len == 0 || (len == 1 && s[0] == '-');
    if (*absent)
        return 0;
    if (plain) {
        if (len > PS_PROTO_FIELD_MAX)
            return ps_err_set(err, PS_ETOOLONG, "%s: over %d bytes", name, PS_PROTO_FIELD_MAX);
        s[len] = '\0';
        return (int)len;
    }
    for (i = 0; i < len; i++) {
        c = (unsigned char)s[i];
        if (c == '%') {
            hi = i + 1 < len ? ps_name_hexval((unsigned char)s[i + 1]) : -1;
            lo = i + 2 < len ? ps_name_hexval((unsigned char)s[i + 2]) : -1;
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
        s[o++] = (char)c;
    }
    s[o] = '\0';
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
    char *field;
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
    /* One copy of the line; each field is then cut (its separator becomes its NUL) and, only
     * when it holds a '%', unescaped where it lies. */
    if (len > 0)
        memcpy(req->buf, line, len);
    /* the NUL, and zeros tokenize() may read past it (buf has room: see proto.h) */
    memset(req->buf + len, 0, PS_PROTO_PAD);
    n = tokenize(req->buf, len, tok);
    first = find_fields(p, req->buf, len, tok, n, req, err);
    if (first < 0)
        return first;
    for (i = 0; i < PS_PROTO_NFIELDS; i++) {
        field = req->buf + (tok[first + i].s - req->buf);
        rc =
            unescape(field, tok[first + i].len, tok[first + i].plain, field_names[i], &absent, err);
        if (rc < 0)
            return rc;
        value[i] = absent ? NULL : field;
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

/* Length of the leading run of s that goes inside quotes unchanged (no NUL, '"', '\\' or control
 * character), looking at no more than max bytes. */
static size_t
plain_run(const char *s, size_t max)
{
    size_t i;
    unsigned char c;

    for (i = 0; i < max; i++) {
        c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            break;
    }
    return i;
}

/*
 * Write s as a quoted value in at most budget bytes (budget >= QUOTED_MIN). When the whole value
 * does not fit, cut it at a character boundary and end it with "..." inside the quotes. Every walk
 * stops at the NUL or at the budget.
 */
static void
put_quoted(struct out *o, const char *s, size_t budget)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t need = 2, i, clen, limit;
    char tmp[2];

    /* The usual value (a rule name, a fixed message) needs no escape and fits: one copy. The run
     * stops at the NUL at the latest, so s[i] is never past it. */
    i = plain_run(s, budget - 1);
    if (s[i] == '\0' && i + 2 <= budget) {
        put(o, "\"", 1);
        put(o, s, i);
        put(o, "\"", 1);
        return;
    }
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

struct lit {
    const char *s;
    size_t len;
};
#define LIT(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
#define HEAD(result, action) LIT(result " pinsplice_action_=" action " pinsplice_rule_=")

/* Everything from the result word to the rule's value, by [ok][decision]; a decision out of range
 * is written as bump, the fail-closed one. */
static const struct lit *
reply_head(bool ok, enum ps_action decision)
{
    static const struct lit heads[2][3] = {
        {HEAD("ERR", "bump"), HEAD("ERR", "splice"), HEAD("ERR", "terminate")},
        {HEAD("OK", "bump"), HEAD("OK", "splice"), HEAD("OK", "terminate")},
    };

    switch (decision) {
    case PS_ACTION_SPLICE:
        return &heads[ok][1];
    case PS_ACTION_TERMINATE:
        return &heads[ok][2];
    case PS_ACTION_BUMP:
        break;
    }
    return &heads[ok][0];
}

/* The least a quoted value can take: "..." in quotes. */
#define QUOTED_MIN 5
/* A rule's value never takes more than this, so the message always keeps room. It holds every
 * name the schema accepts whole: a byte is written as at most 2 (an escape) and only ASCII bytes,
 * each one character, are escaped, so a name takes at most BYTES + CHARS, plus the quotes. */
#define RULE_BUDGET (PS_RULE_NAME_BYTES + PS_RULE_NAME_CHARS + 2)

/* A message known to need no escape, with the end of the reply it makes, pre-formatted
 * (test_proto checks these give the same bytes as the text through put_quoted). */
struct msg {
    const char *text;
    struct lit tail; /* " message=\"<text>\"\n" */
};
#define MSG_KEY " message="
#define VERIFY_KEY " pinsplice_verify_="
#define MSG(text)                                                                                  \
    {                                                                                              \
        text, LIT(MSG_KEY "\"" text "\"\n")                                                        \
    }

static const struct msg msg_rule = MSG("rule matched");
static const struct msg msg_default = MSG("no rule matched: default action");
static const struct msg msg_no_rules = MSG("rules unavailable");

/* What the first monitor rule that matched would have done (plan 19), after the verify pair:
 * pinsplice_monitor_=ACTION pinsplice_monitor_rule_="NAME". */
#define MON_KEY " pinsplice_monitor_="
#define MON_RULE_KEY " pinsplice_monitor_rule_="

/* ps_proto_reply, with the message either as text (quoted here) or, when msg is not NULL, as a
 * pre-formatted one (message is then msg->text); mon_rule NULL: no monitor pairs. */
static size_t
reply(const char *id, bool ok, enum ps_action decision, const char *rule, const char *verified,
      const char *mon_action, const char *mon_rule, const char *message, const struct msg *msg,
      char *out, size_t size)
{
    struct out o = {out, 0, size > 0 ? size - 1 : 0};
    const struct lit *head = reply_head(ok, decision);
    size_t room, mark, idlen, vlen;

    if (size < PS_PROTO_REPLY_MIN) {
        if (size > 0)
            out[0] = '\0';
        return 0;
    }
    idlen = id != NULL ? strnlen(id, PS_PROTO_ID_MAX + 1) : 0;
    if (is_id(id, idlen)) {
        put(&o, id, idlen);
        put(&o, " ", 1);
    }
    put(&o, head->s, head->len);
    /* What both values may use: all but " message=" and the newline. The fixed parts take at
     * most 21 + 3 + 18 + 9 + 16 + 9 + 1 = 77 bytes, so room >= PS_PROTO_REPLY_MIN - 1 - 77 = 50,
     * enough for two QUOTED_MIN values. */
    room = o.cap - o.n - (sizeof(MSG_KEY) - 1) - 1;
    /* the server check's outcome, a short token (ps_verify_reason), when it leaves room for the
     * two values; a reply buffer of PS_PROTO_REPLY_MAX always has it */
    vlen = verified != NULL ? strnlen(verified, 32) : 0;
    if (vlen > 0 && room >= sizeof(VERIFY_KEY) - 1 + vlen + 2 * QUOTED_MIN)
        room -= sizeof(VERIFY_KEY) - 1 + vlen;
    else
        vlen = 0;
    mark = o.n;
    if (rule == NULL)
        put(&o, "-", 1);
    else
        put_quoted(&o, rule, room - QUOTED_MIN < RULE_BUDGET ? room - QUOTED_MIN : RULE_BUDGET);
    room -= o.n - mark;
    if (vlen > 0) {
        put(&o, VERIFY_KEY, sizeof(VERIFY_KEY) - 1);
        put(&o, verified, vlen);
    }
    /* The monitor pairs take their keys, the action (at most 9 bytes) and the monitor rule's
     * quoted name, cut like the rule's; the message keeps QUOTED_MIN. Left out when the buffer
     * is too small for them (never with PS_PROTO_REPLY_MAX: both names fit whole). */
    if (mon_rule != NULL && mon_action != NULL &&
        room >= sizeof(MON_KEY) - 1 + 9 + sizeof(MON_RULE_KEY) - 1 + 2 * QUOTED_MIN) {
        size_t budget;
        mark = o.n;
        put(&o, MON_KEY, sizeof(MON_KEY) - 1);
        put(&o, mon_action, strnlen(mon_action, 9));
        put(&o, MON_RULE_KEY, sizeof(MON_RULE_KEY) - 1);
        room -= o.n - mark;
        budget = room - QUOTED_MIN;
        mark = o.n;
        put_quoted(&o, mon_rule, budget < RULE_BUDGET ? budget : RULE_BUDGET);
        room -= o.n - mark;
    }
    /* the pre-formatted end when its quoted value fits the room, as put_quoted would check */
    if (msg != NULL && msg->tail.len - (sizeof(MSG_KEY) - 1) - 1 <= room) {
        put(&o, msg->tail.s, msg->tail.len);
    } else {
        put(&o, MSG_KEY, sizeof(MSG_KEY) - 1);
        put_quoted(&o, message != NULL ? message : "", room);
        put(&o, "\n", 1);
    }
    out[o.n] = '\0';
    return o.n;
}

size_t
ps_proto_reply(const char *id, bool ok, enum ps_action decision, const char *rule,
               const char *message, char *out, size_t size)
{
    return reply(id, ok, decision, rule, NULL, NULL, NULL, message, NULL, out, size);
}

size_t
ps_proto_reply_error(const char *id, const char *message, char *out, size_t size)
{
    return reply(id, false, PS_ACTION_BUMP, NULL, NULL, NULL, NULL, message, NULL, out, size);
}

size_t
ps_proto_reply_decision(const struct ps_proto_request *req, const struct ps_decision *d,
                        const char *message, char *out, size_t size)
{
    return ps_proto_reply_to(req->has_id ? req->id : NULL, req->action, d, message, out, size);
}

size_t
ps_proto_reply_to(const char *id, enum ps_action asked, const struct ps_decision *d,
                  const char *message, char *out, size_t size)
{
    const struct msg *msg = NULL;
    char buf[256];

    if (message == NULL) {
        switch (d->reason) {
        case PS_REASON_RULE:
            msg = &msg_rule;
            break;
        case PS_REASON_DEFAULT:
            msg = &msg_default;
            break;
        case PS_REASON_NO_RULES:
            msg = &msg_no_rules;
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
        case PS_REASON_POLICY:
            message = d->detail ? d->detail : "policy";
            break;
        case PS_REASON_UNVERIFIED: /* detail: "server not verified: verify-..." */
            message = d->detail ? d->detail : "server not verified";
            break;
        default:
            message = "";
            break;
        }
    }
    return reply(id, d->action == asked, d->action, d->rule_name, d->verified,
                 d->monitor_rule != NULL ? ps_action_str(d->monitor_action) : NULL,
                 d->monitor_rule, msg != NULL ? msg->text : message, msg, out, size);
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
