#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "icapreq.h"
#include "text.h"

static bool
is_tchar(unsigned char c)
{
    /* RFC 9110 token characters. */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* "HTTP/d.d" exactly. */
static bool
is_version(const char *s, size_t len)
{
    return len == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
           s[7] >= '0' && s[7] <= '9';
}

int
ps_icapreq_connect_target(const char *request_line, char out[PS_ICAPREQ_TARGET_MAX + 1],
                          struct ps_err *err)
{
    static const char method[] = "CONNECT ";
    const char *target, *sp;
    size_t len, i, tlen;

    if (request_line == NULL || request_line[0] == '\0')
        return 0;
    len = strnlen(request_line, PS_ICAPREQ_LINE_MAX + 1);
    if (len > PS_ICAPREQ_LINE_MAX)
        return ps_err_set(err, PS_ETOOLONG, "request line over %d bytes", PS_ICAPREQ_LINE_MAX);
    if (len < sizeof(method) - 1 || memcmp(request_line, method, sizeof(method) - 1) != 0) {
        /* "CONNECT" alone, or followed by anything but one space, is still a CONNECT to refuse. */
        if (strncmp(request_line, "CONNECT", 7) == 0 && (len == 7 || !is_tchar(request_line[7])))
            return ps_err_set(err, PS_EINVAL, "CONNECT without a target");
        return 0;
    }
    for (i = 0; i < len; i++)
        if (is_ctl((unsigned char)request_line[i]))
            return ps_err_set(err, PS_EINVAL, "control character in the CONNECT line");
    target = request_line + sizeof(method) - 1;
    sp = memchr(target, ' ', len - (size_t)(target - request_line));
    if (sp == NULL)
        return ps_err_set(err, PS_EINVAL, "CONNECT line without an HTTP version");
    tlen = (size_t)(sp - target);
    if (tlen == 0)
        return ps_err_set(err, PS_EINVAL, "CONNECT without a target");
    if (!is_version(sp + 1, len - (size_t)(sp + 1 - request_line)))
        return ps_err_set(err, PS_EINVAL, "CONNECT line: bad HTTP version '%.20s'", sp + 1);
    if (tlen > PS_ICAPREQ_TARGET_MAX)
        return ps_err_set(err, PS_ETOOLONG, "CONNECT target of %zu bytes: over %d", tlen,
                          PS_ICAPREQ_TARGET_MAX);
    memcpy(out, target, tlen);
    out[tlen] = '\0';
    return 1;
}

int
ps_icapreq_header_name_check(const char *name, struct ps_err *err)
{
    static const char *const reserved[] = {
        "Host",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Upgrade",
        "Proxy-Authorization",
        "Proxy-Connection",
        "Expect",
        "TE",
        "Trailer",
        "Keep-Alive",
        "Via",
    };
    size_t len, i;

    if (name == NULL || name[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "empty header name");
    len = strnlen(name, PS_ICAPREQ_HEADER_NAME_MAX + 1);
    if (len > PS_ICAPREQ_HEADER_NAME_MAX)
        return ps_err_set(err, PS_ETOOLONG, "header name '%.40s...' over %d characters", name,
                          PS_ICAPREQ_HEADER_NAME_MAX);
    for (i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return ps_err_set(err, PS_EINVAL, "header name '%.64s': character %zu not allowed",
                              name, i + 1);
    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return ps_err_set(err, PS_EINVAL, "header name '%s' is reserved by HTTP", name);
    return 0;
}

bool
ps_icapreq_header_is(const char *line, const char *name)
{
    size_t i;

    if (line == NULL || name == NULL || name[0] == '\0')
        return false;
    /* One pass, no strlen: the module asks this of every header line several times per
     * request, and nearly every line differs at its first byte. A line shorter than name stops
     * at its NUL, which never equals a byte of name. */
    for (i = 0; name[i] != '\0'; i++)
        if (i >= PS_ICAPREQ_HEADER_NAME_MAX || ps_ascii_lower(line[i]) != ps_ascii_lower(name[i]))
            return false;
    return line[i] == ':';
}

const char *
ps_icapreq_header_value(const char *line, const char *name)
{
    const char *v;

    if (!ps_icapreq_header_is(line, name))
        return NULL;
    v = line + strlen(name) + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

int
ps_icapreq_header_line(const char *name, const char *value, char *buf, size_t size,
                       struct ps_err *err)
{
    size_t nl, vl;

    if (name == NULL || value == NULL || buf == NULL || size == 0)
        return ps_err_set(err, PS_EINVAL, "header line: missing argument");
    nl = strlen(name);
    vl = strlen(value);
    if (nl + 2 + vl + 1 > size) {
        buf[0] = '\0';
        return ps_err_set(err, PS_ETOOLONG, "header line '%.40s' over %zu bytes", name, size - 1);
    }
    memcpy(buf, name, nl);
    memcpy(buf + nl, ": ", 2);
    memcpy(buf + nl + 2, value, vl + 1);
    return 0;
}

int
ps_icapreq_escape(const char *in, char *out, size_t size, struct ps_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0, len;

    if (out == NULL || size == 0)
        return ps_err_set(err, PS_EINVAL, "escape: no output buffer");
    if (in == NULL)
        in = "-";
    len = strlen(in);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        bool edge_space = c == ' ' && (i == 0 || i == len - 1);
        if (is_ctl(c) || c == '%' || c >= 0x80 || edge_space) {
            if (o + 3 >= size)
                goto too_long;
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        } else {
            if (o + 1 >= size)
                goto too_long;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return 0;
too_long:
    out[0] = '\0';
    return ps_err_set(err, PS_ETOOLONG, "value over %zu bytes once escaped", size - 1);
}

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode standard base64 (padding optional) of s[0..len) into out; *olen = bytes written.
 * Returns 0, PS_EINVAL, or PS_ETOOLONG when more than cap bytes would come out. */
static int
b64_decode(const char *s, size_t len, char *out, size_t cap, size_t *olen, struct ps_err *err)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i, o = 0, pad = 0;

    for (i = 0; i < len; i++) {
        int v;
        if (s[i] == '=') {
            pad++;
            continue;
        }
        v = b64_value((unsigned char)s[i]);
        if (v < 0 || pad > 0)
            return ps_err_set(err, PS_EINVAL, "user header: not base64");
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return ps_err_set(err, PS_ETOOLONG, "user name over %zu bytes", cap);
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        return ps_err_set(err, PS_EINVAL, "user header: not base64");
    *olen = o;
    return 0;
}

int
ps_icapreq_user(const char *value, bool base64, char out[PS_ICAPREQ_USER_MAX + 1],
                struct ps_err *err)
{
    char buf[PS_ICAPREQ_USER_MAX * 2 + 4];
    const char *s;
    size_t len, i;
    int rc;

    if (value == NULL)
        return ps_err_set(err, PS_EINVAL, "empty user name");
    while (*value == ' ' || *value == '\t')
        value++;
    len = strnlen(value, sizeof(buf));
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len >= sizeof(buf) - 1)
        return ps_err_set(err, PS_ETOOLONG, "user header over %zu bytes", sizeof(buf) - 2);
    if (base64) {
        rc = b64_decode(value, len, buf, sizeof(buf) - 1, &len, err);
        if (rc < 0)
            return rc;
        if (memchr(buf, '\0', len) != NULL)
            return ps_err_set(err, PS_EINVAL, "user name with a NUL byte");
    } else {
        memcpy(buf, value, len);
    }
    buf[len] = '\0';
    /* Squid sends the name as it is (ModXact::makeUsernameHeader: the auth or external ACL user,
     * maybe base64), with no prefix: nothing is stripped, so the name is compared exactly as the
     * helper compares %un ("mallory://alice" is not alice). Only the header's own surrounding
     * whitespace was trimmed above; the decoded bytes are the name. */
    s = buf;
    if (len == 0)
        return ps_err_set(err, PS_EINVAL, "empty user name");
    if (len > PS_ICAPREQ_USER_MAX)
        return ps_err_set(err, PS_ETOOLONG, "user name over %d bytes", PS_ICAPREQ_USER_MAX);
    for (i = 0; i < len; i++)
        if (is_ctl((unsigned char)s[i]))
            return ps_err_set(err, PS_EINVAL, "control character in user name");
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

bool
ps_icapreq_needs_header(enum ps_action action, int client_copies)
{
    return action != PS_ACTION_BUMP || client_copies != 0;
}

int
ps_icapreq_rule_label(const struct ps_decision *d, char *out, size_t size, struct ps_err *err)
{
    const char *reason;
    char label[32];
    size_t n;

    if (d != NULL && d->rule_name != NULL)
        return ps_icapreq_escape(d->rule_name, out, size, err);
    /* "(reason)" without snprintf: this runs for every CONNECT no rule decides, most of them. */
    reason = d == NULL ? "bad-input" : ps_reason_str(d->reason);
    n = strnlen(reason, sizeof(label) - 3);
    label[0] = '(';
    memcpy(label + 1, reason, n);
    label[n + 1] = ')';
    label[n + 2] = '\0';
    return ps_icapreq_escape(label, out, size, err);
}

int
ps_icapreq_seconds(const char *s, unsigned max, unsigned *ms_out, struct ps_err *err)
{
    uint64_t v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return ps_err_set(err, PS_EINVAL, "'%.40s': not a number of seconds", s ? s : "");
    if (!ps_num_parse_str(s, UINT64_MAX, &v))
        return ps_err_set(err, PS_EINVAL, "'%.40s': not a number of seconds", s);
    if (v > max)
        return ps_err_set(err, PS_EINVAL, "'%.40s': over %u seconds", s, max);
    *ms_out = (unsigned)v * 1000u;
    return 0;
}

/* ---- the request facts ---------------------------------------------------------------- */

/* Value of the first of lines[0..n) named exactly name, or NULL. */
static const char *
header_find(const char *const *lines, int n, const char *name)
{
    int i;

    if (lines == NULL)
        return NULL;
    for (i = 0; i < n && i < PS_ICAP_HEADERS_MAX; i++) {
        const char *v = ps_icapreq_header_value(lines[i], name);
        if (v != NULL)
            return v;
    }
    return NULL;
}

/* The query's headers: client address, program, user. */
static void
query_headers(struct ps_icap_facts *f, const struct ps_icap_config *cfg, const char *const *http,
              int http_n, const char *const *icap, int icap_n)
{
    const char *v;

    f->client_ip = header_find(icap, icap_n, "X-Client-IP");
    f->program = header_find(http, http_n, cfg->program_header);
    v = header_find(icap, icap_n, cfg->user_header);
    if (v != NULL && ps_icapreq_user(v, cfg->user_base64, f->user_buf, NULL) == 0) {
        f->user = f->user_buf;
    } else if (v == NULL && strcasecmp(cfg->user_header, "X-Authenticated-User") != 0) {
        v = header_find(icap, icap_n, "X-Authenticated-User");
        if (v != NULL && ps_icapreq_user(v, true, f->user_buf, NULL) == 0)
            f->user = f->user_buf;
    }
}

void
ps_icap_facts_fill(struct ps_icap_facts *f, const struct ps_icap_config *cfg,
                   const char *request_line, const char *const *http, int http_n,
                   const char *const *icap, int icap_n)
{
    int rc, i;

    f->kind = PS_ICAP_OTHER;
    f->target[0] = '\0';
    f->client_ip = f->program = f->user = NULL;
    f->user_buf[0] = '\0';
    f->strip = NULL;
    f->client_copies = 0;
    rc = ps_icapreq_connect_target(request_line, f->target, NULL);
    if (rc == 0)
        return;
    f->kind = rc > 0 ? PS_ICAP_CONNECT : PS_ICAP_MALFORMED;
    /* Every line, however many: a copy past a scan limit would survive a 204 and reach Squid's
     * ACL. */
    for (i = 1; http != NULL && i < http_n; i++)
        if (ps_icapreq_header_is(http[i], cfg->decision_header))
            f->client_copies++;
    if (f->client_copies > 0)
        f->strip = cfg->decision_header;
    if (f->kind == PS_ICAP_CONNECT)
        query_headers(f, cfg, http, http_n, icap, icap_n);
}

bool
ps_icap_strips(const struct ps_icap_facts *f, int index, const char *line)
{
    return index > 0 && f->strip != NULL && ps_icapreq_header_is(line, f->strip);
}

void
ps_icap_stripped(struct ps_icap_facts *f, const struct ps_icap_config *cfg, bool ok,
                 const char *const *http, int http_n)
{
    if (f->strip == NULL)
        return;
    if (!ok) {
        f->client_copies = -1;
        return;
    }
    if (f->kind == PS_ICAP_CONNECT)
        f->program = header_find(http, http_n, cfg->program_header);
}
