#include "config.h"

#include <string.h>

#include "err.h"
#include "logline.h"
#include "name.h"
#include "text.h"

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s (at most 18: a record's numbers are smaller, and any int64_t max then fits), in
 * [0, max]. */
static bool
parse_u64(const char *s, size_t n, int64_t max, int64_t *out)
{
    uint64_t v;

    if (n > 18 || max < 0 || !ps_num_parse(s, n, (uint64_t)max, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

size_t
ps_logline_urldecode(char *s, size_t len)
{
    size_t i, o = 0;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && (hi = ps_name_hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = ps_name_hexval((unsigned char)s[i + 2])) >= 0) {
            s[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

int
ps_logline_time(const char *s, size_t len, int64_t *ms)
{
    int64_t sec = 0, frac = 0;
    size_t i = 0, nd = 0, scale = 1000;

    while (i < len && is_digit(s[i])) {
        if (++nd > 12)
            return PS_EINVAL;
        sec = sec * 10 + (s[i++] - '0');
    }
    if (nd == 0)
        return PS_EINVAL;
    if (i < len && s[i] == '.') {
        if (++i == len)
            return PS_EINVAL;
        for (nd = 0; i < len && is_digit(s[i]); i++, nd++) {
            if (nd >= 9)
                return PS_EINVAL;
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * (int64_t)scale;
            }
        }
    }
    if (i != len)
        return PS_EINVAL;
    *ms = sec * 1000 + frac;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n digits at s, in [lo, hi]. */
static bool
digits(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    return parse_u64(s, n, hi, out) && *out >= lo;
}

int
ps_logline_datetime(const char *s, bool end, int64_t *ms, struct ps_err *err)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y, mo, d, h = 0, mi = 0, sec = 0, v, span = 86400000;
    size_t n = s != NULL ? strlen(s) : 0;

    if (n > 0 && s[n - 1] == 'Z')
        n--;
    if (n > 1 && s[0] == '@' && ps_logline_time(s + 1, n - 1, &v) == 0)
        goto epoch;
    if (n >= 9 && is_digit(s[0]) && memchr(s, '-', n) == NULL && ps_logline_time(s, n, &v) == 0)
        goto epoch;
    if (!(n == 10 || n == 16 || n == 19) || s[4] != '-' || s[7] != '-' ||
        !digits(s, 4, 1970, 9999, &y) || !digits(s + 5, 2, 1, 12, &mo) ||
        !digits(s + 8, 2, 1, mdays[mo - 1], &d) ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
        goto bad;
    if (n > 10) {
        if ((s[10] != ' ' && s[10] != 'T') || s[13] != ':' || !digits(s + 11, 2, 0, 23, &h) ||
            !digits(s + 14, 2, 0, 59, &mi))
            goto bad;
        span = 60000;
    }
    if (n == 19) {
        if (s[16] != ':' || !digits(s + 17, 2, 0, 60, &sec))
            goto bad;
        span = 1000;
    }
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 +
          (end ? span - 1 : 0);
    return 0;
epoch:
    *ms = v + (end && memchr(s, '.', n) == NULL ? 999 : 0);
    return 0;
bad:
    return ps_err_set(err, PS_EINVAL,
                      "bad time '%.40s' (expected YYYY-MM-DD[ HH:MM[:SS]] UTC or @UNIXTIME)",
                      s != NULL ? s : "");
}

/* ---- the record ----------------------------------------------------------------------------- */

enum { Q_NONE = 0, Q_QUOTES = 1, Q_BRACKETS = 2 };

struct span {
    char *s;
    size_t n;
    int quote; /* Q_*: how the field was written; s/n exclude the quotes or brackets */
};

/* Find the end of a "..." field: p points after the opening quote. Returns the closing quote or
 * NULL. A backslash escapes the next character. */
static char *
quote_end(char *p, const char *end)
{
    while (p < end) {
        if (*p == '\\')
            p += 2;
        else if (*p == '"')
            return p;
        else
            p++;
    }
    return NULL;
}

/* Split line into up to max fields without changing it. Returns the number of fields found
 * (counting past max), or -1 for an unterminated quote or bracket or text glued to one. */
static long
split(char *line, size_t len, struct span *f, size_t max)
{
    char *p = line, *end = line + len, *close;
    long n = 0;

    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end)
            return n;
        struct span sp = {p, 0, Q_NONE};
        if (*p == '"' || *p == '[') {
            close = *p == '"' ? quote_end(p + 1, end) : memchr(p, ']', (size_t)(end - p));
            if (close == NULL)
                return -1;
            sp.quote = *p == '"' ? Q_QUOTES : Q_BRACKETS;
            sp.s = p + 1;
            sp.n = (size_t)(close - p - 1);
            p = close + 1;
            if (p < end && !is_space(*p))
                return -1;
        } else {
            while (p < end && !is_space(*p))
                p++;
            sp.n = (size_t)(p - sp.s);
        }
        if ((size_t)n < max)
            f[n] = sp;
        n++;
    }
}

/* Undo Squid's quoting of a "..." field in place; returns the new length. */
static size_t
unquote(char *s, size_t n)
{
    size_t r = 0, w = 0;
    int hi, lo;

    while (r < n) {
        if (s[r] != '\\' || r + 1 >= n) {
            s[w++] = s[r++];
            continue;
        }
        char c = s[r + 1];
        r += 2;
        if (c == 'n')
            s[w++] = '\n';
        else if (c == 'r')
            s[w++] = '\r';
        else if (c == 't')
            s[w++] = '\t';
        else if (c == 'x' && r + 1 < n && (hi = ps_name_hexval((unsigned char)s[r])) >= 0 &&
                 (lo = ps_name_hexval((unsigned char)s[r + 1])) >= 0) {
            s[w++] = (char)(hi << 4 | lo);
            r += 2;
        } else
            s[w++] = c;
    }
    return w;
}

static struct ps_logstr
str_of(const struct span *sp)
{
    struct ps_logstr r = {sp->s, sp->n};

    if (r.n == 0 || (r.n == 1 && r.s[0] == '-'))
        r = (struct ps_logstr){"", 0};
    return r;
}

/* Decode a string field in place once the whole record is known to parse. */
static void
decode(struct ps_logstr *str, const struct span *sp, bool url)
{
    if (str->n == 0)
        return;
    if (sp->quote == Q_QUOTES)
        str->n = unquote(sp->s, sp->n);
    else if (url && sp->quote == Q_NONE && memchr(sp->s, '%', sp->n) != NULL)
        str->n = ps_logline_urldecode(sp->s, sp->n);
}

/* A client address as Squid logs it: hex digits, '.', ':'. native: an IPv4 address carries no
 * ':' (except the ::ffff: mapped form), which tells "1.2.3.4:5678" (pinsplice) from "1.2.3.4". */
static bool
addr_ok(const char *s, size_t n, bool native)
{
    bool dot = false, colon = false;
    size_t i;

    if (n == 0 || n > 45)
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] == '.')
            dot = true;
        else if (s[i] == ':')
            colon = true;
        else if (ps_name_hexval((unsigned char)s[i]) < 0)
            return false;
    }
    if (native && dot && colon)
        return n > 7 && (memcmp(s, "::ffff:", 7) == 0 || memcmp(s, "::FFFF:", 7) == 0);
    return true;
}

/* The string field a kind fills, or NULL for the kinds field() parses; *url: URL-escaped. */
static struct ps_logstr *
str_slot(enum ps_logfield kind, struct ps_logline *o, bool *url)
{
    *url = kind == PS_LF_USER || kind == PS_LF_SNI || kind == PS_LF_RDOMAIN ||
           kind == PS_LF_ACTION || kind == PS_LF_RULE || kind == PS_LF_VERIFY ||
           kind == PS_LF_MONITOR || kind == PS_LF_MONITOR_RULE;
    switch (kind) {
    case PS_LF_METHOD:
        return &o->method;
    case PS_LF_URL:
        return &o->url;
    case PS_LF_USER:
        return &o->user;
    case PS_LF_HIER:
        return &o->hier;
    case PS_LF_BUMP_MODE:
        return &o->bump_mode;
    case PS_LF_SNI:
        return &o->sni;
    case PS_LF_RDOMAIN:
        return &o->rdomain;
    case PS_LF_TLS:
        return &o->tls;
    case PS_LF_ACTION:
        return &o->action;
    case PS_LF_RULE:
        return &o->rule;
    case PS_LF_VERIFY:
        return &o->verify;
    case PS_LF_MONITOR:
        return &o->monitor;
    case PS_LF_MONITOR_RULE:
        return &o->monitor_rule;
    default:
        return NULL;
    }
}

#define SHOW(n) ((int)((n) > 48 ? 48 : (n)))

static int
client_port(const char *s, size_t n, struct ps_logline *o, struct ps_err *err)
{
    size_t i = n;
    int64_t v;

    while (i > 0 && s[i - 1] != ':')
        i--;
    if (i == 0 || !addr_ok(s, i - 1, false) || !parse_u64(s + i, n - i, 65535, &v))
        return ps_err_set(err, PS_EINVAL, "bad client address:port '%.*s'", SHOW(n), s);
    o->client = (struct ps_logstr){s, i - 1};
    o->peer = (struct ps_logstr){s, n};
    o->port = (unsigned)v;
    return 0;
}

static int
result_status(const char *s, size_t n, struct ps_logline *o, struct ps_err *err)
{
    const char *slash = memchr(s, '/', n);
    int64_t v;

    if (slash == NULL || slash == s)
        return ps_err_set(err, PS_EINVAL, "bad result/status '%.*s'", SHOW(n), s);
    o->result = (struct ps_logstr){s, (size_t)(slash - s)};
    n -= (size_t)(slash + 1 - s);
    if (n == 1 && slash[1] == '-')
        return 0;
    if (n != 3 || !parse_u64(slash + 1, 3, 999, &v))
        return ps_err_set(err, PS_EINVAL, "bad HTTP status '%.*s'", SHOW(n), slash + 1);
    o->status = (int)v;
    return 0;
}

static void
err_field(const char *s, size_t n, const char *slash, struct ps_logline *o)
{
    o->err_code = (struct ps_logstr){s, (size_t)(slash - s)};
    o->err_detail = (struct ps_logstr){slash + 1, n - (size_t)(slash + 1 - s)};
    if (o->err_code.n == 1 && s[0] == '-')
        o->err_code = (struct ps_logstr){"", 0};
    if (o->err_detail.n == 1 && slash[1] == '-')
        o->err_detail = (struct ps_logstr){"", 0};
}

/* Parse and check one non-string field. */
static int
field(enum ps_logfield kind, const struct span *sp, struct ps_logline *o, struct ps_err *err)
{
    const char *s = sp->s, *slash;
    size_t n = sp->n;
    bool dash = n == 1 && s[0] == '-';

    switch (kind) {
    case PS_LF_TIME:
        if (ps_logline_time(s, n, &o->time_ms) < 0)
            return ps_err_set(err, PS_EINVAL, "bad timestamp '%.*s'", SHOW(n), s);
        return 0;
    case PS_LF_ELAPSED:
        if (!dash && !parse_u64(s, n, INT64_MAX / 2, &o->elapsed_ms))
            return ps_err_set(err, PS_EINVAL, "bad response time '%.*s'", SHOW(n), s);
        return 0;
    case PS_LF_CLIENT:
        if (!addr_ok(s, n, true))
            return ps_err_set(err, PS_EINVAL, "bad client address '%.*s'", SHOW(n), s);
        o->client = (struct ps_logstr){s, n};
        return 0;
    case PS_LF_CLIENT_PORT:
        return client_port(s, n, o, err);
    case PS_LF_RESULT:
        return result_status(s, n, o, err);
    case PS_LF_BYTES_OUT:
    case PS_LF_BYTES_IN:
        if (!dash &&
            !parse_u64(s, n, INT64_MAX / 2, kind == PS_LF_BYTES_OUT ? &o->bytes_out : &o->bytes_in))
            return ps_err_set(err, PS_EINVAL, "bad byte count '%.*s'", SHOW(n), s);
        return 0;
    case PS_LF_HIER:
        if (memchr(s, '/', n) == NULL)
            return ps_err_set(err, PS_EINVAL, "bad hierarchy field '%.*s'", SHOW(n), s);
        return 0;
    case PS_LF_ERR:
        if ((slash = memchr(s, '/', n)) == NULL)
            return ps_err_set(err, PS_EINVAL, "bad error field '%.*s'", SHOW(n), s);
        err_field(s, n, slash, o);
        return 0;
    default:
        return 0;
    }
}

/* "verified" or "verify-" and lowercase letters (lib/core/verify.c's reason codes), or absent */
static bool
verify_value(const struct ps_logstr *v)
{
    size_t i;

    if (v->n == 0 || ps_logstr_eq(*v, "verified"))
        return true;
    if (v->n < 8 || v->n > 32 || memcmp(v->s, "verify-", 7) != 0)
        return false;
    for (i = 7; i < v->n; i++)
        if (v->s[i] < 'a' || v->s[i] > 'z')
            return false;
    return true;
}

static bool
monitor_value(const struct ps_logstr *v)
{
    return v->n == 0 || ps_logstr_eq(*v, "splice") || ps_logstr_eq(*v, "terminate") ||
           ps_logstr_eq(*v, "bump");
}

static bool
last_of_kind(const struct ps_logformat *f, size_t i, size_t n)
{
    size_t j;

    for (j = i + 1; j < n; j++)
        if (f->kind[j] == f->kind[i])
            return false;
    return true;
}

int
ps_logline_parse(const struct ps_logformat *f, char *line, size_t len, struct ps_logline *out,
                 struct ps_err *err)
{
    static const struct ps_logstr none = {"", 0};
    struct span sp[PS_LOGFORMAT_FIELDS_MAX];
    struct ps_logstr *str;
    bool url;
    long n;
    size_t i;
    int rc;

    if (len > PS_LOGLINE_MAX)
        return ps_err_set(err, PS_ETOOLONG, "line too long (%zu bytes, at most %d)", len,
                          PS_LOGLINE_MAX);
    if (memchr(line, '\0', len) != NULL)
        return ps_err_set(err, PS_EINVAL, "NUL byte in the line");
    n = split(line, len, sp, f->nfields);
    if (n < 0)
        return ps_err_set(err, PS_EINVAL, "unterminated quote or bracket");
    if ((size_t)n < f->nrequired)
        return ps_err_set(err, PS_EINVAL, "too few fields (%ld of %u)", n, (unsigned)f->nrequired);
    if ((size_t)n > f->nfields)
        n = f->nfields; /* split counted the extra fields but filled only sp[0..nfields) */
    *out = (struct ps_logline){.elapsed_ms = -1, .bytes_out = -1, .bytes_in = -1};
    out->client = out->peer = out->result = out->method = out->url = out->user = none;
    out->hier = out->bump_mode = out->sni = out->rdomain = out->err_code = none;
    out->err_detail = out->tls = out->action = out->rule = none;
    out->verify = out->monitor = out->monitor_rule = none;
    for (i = 0; i < (size_t)n; i++) {
        if ((rc = field((enum ps_logfield)f->kind[i], &sp[i], out, err)) < 0)
            return rc;
        if ((str = str_slot((enum ps_logfield)f->kind[i], out, &url)) != NULL)
            *str = str_of(&sp[i]);
    }
    /* Only now that nothing can fail is the line changed (auto-detection may retry it). */
    /* A field given twice keeps its last value (the first loop overwrote the slot): decode only
     * that occurrence, or the slot would get the length of another field's text. */
    for (i = 0; i < (size_t)n; i++) {
        if ((str = str_slot((enum ps_logfield)f->kind[i], out, &url)) != NULL &&
            last_of_kind(f, i, (size_t)n))
            decode(str, &sp[i], url);
    }
    /* A record without the trailing notes may carry log_mime_hdrs' [headers] there instead:
     * values the helper never writes are not notes. */
    if (!verify_value(&out->verify))
        out->verify = none;
    if (!monitor_value(&out->monitor))
        out->monitor = out->monitor_rule = none;
    return 0;
}
