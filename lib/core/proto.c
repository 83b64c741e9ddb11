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
#include "proto_int.h"
#include "text.h"

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
    if (!ps_proto_is_id(line, tlen))
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
            if (ps_proto_is_ctl(c))
                return ps_err_set(err, PS_EINVAL, "%s: escaped control character 0x%02x", name, c);
        } else if (c == 0) {
            return ps_err_set(err, PS_EINVAL, "%s: NUL byte", name);
        } else if (ps_proto_is_ctl(c)) {
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
        if (!ps_proto_is_id(tok[0].s, tok[0].len))
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

int
ps_proto_parse_ulong(const char *what, const char *s, unsigned long min, unsigned long max,
                     unsigned long *out, struct ps_err *err)
{
    uint64_t v = 0;
    size_t digits;

    if (s == NULL || s[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "%s: empty number", what);
    /* the digits before the first other byte overflow first, as a left-to-right reading sees */
    digits = strspn(s, "0123456789");
    if (digits > 0 && !ps_num_parse(s, digits, ULONG_MAX, &v))
        return ps_err_set(err, PS_EINVAL, "%s: %.32s is out of range %lu..%lu", what, s, min,
                          max);
    if (s[digits] != '\0')
        return ps_err_set(err, PS_EINVAL, "%s: '%.32s' is not a decimal number", what, s);
    if (v < min || v > max)
        return ps_err_set(err, PS_EINVAL, "%s: %.32s is out of range %lu..%lu", what, s, min, max);
    *out = (unsigned long)v;
    return 0;
}
