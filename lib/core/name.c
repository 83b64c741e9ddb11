#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "err.h"
#include "name.h"
#include "text.h"

/* Longest raw input we look at: a 253-character name in UTF-8 can take ~4x the bytes. */
#define RAW_MAX 1024

static int
is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Validate a lower-case ASCII name in place of the matcher's rules. Returns NULL when good, or a
 * static description of the first problem. */
static const char *
check_labels(const char *s, size_t len)
{
    size_t start = 0, i;

    if (len == 0)
        return "empty name";
    if (len > PS_NAME_MAX)
        return "name over 253 characters";
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            size_t l = i - start;
            if (l == 0)
                return i == len ? "trailing dot" : (start == 0 ? "leading dot" : "empty label");
            if (l > PS_LABEL_MAX)
                return "label over 63 characters";
            if (s[start] == '-' || s[i - 1] == '-')
                return "label starts or ends with '-'";
            start = i + 1;
            continue;
        }
        if (s[i] >= 'A' && s[i] <= 'Z')
            return "upper case";
        if (s[i] == ' ')
            return "space";
        if ((unsigned char)s[i] >= 0x80)
            return "non-ASCII (store IDNs as punycode)";
        if (!is_label_char((unsigned char)s[i]))
            return "character not allowed in a host name";
    }
    /* A name whose last label is all digits is an IP address in some notation, not a domain. */
    for (i = len; i > 0 && s[i - 1] != '.'; i--)
        if (!(s[i - 1] >= '0' && s[i - 1] <= '9'))
            return NULL;
    return "numeric last label (an IP address, not a name)";
}

static const char *fast_ascii(const char *in, size_t len, char *out, bool *maybe_ip);

int
ps_name_check_stored(const char *name, struct ps_err *err)
{
    const char *why;

    char buf[PS_NAME_MAX + 1];
    bool maybe_ip;
    size_t len;

    if (name == NULL)
        return ps_err_set(err, PS_EINVAL, "missing name");
    len = strlen(name);
    /* fast_ascii accepts exactly the stored form, but lower-cases on the way: compare. */
    if (len <= PS_NAME_MAX && fast_ascii(name, len, buf, &maybe_ip) == NULL &&
        memcmp(buf, name, len) == 0)
        return 0;
    why = check_labels(name, len);
    if (why != NULL)
        return ps_err_set(err, PS_EINVAL, "bad domain '%.80s': %s", name, why);
    return 0;
}

static int
try_ip(const char *s, size_t len, char out[PS_NAME_MAX + 1], enum ps_name_kind *kind)
{
    char buf[64];
    unsigned char bin[16];

    bool bracketed = len >= 2 && s[0] == '[' && s[len - 1] == ']';

    if (bracketed) {
        s++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, ':', len) != NULL) {
        if (inet_pton(AF_INET6, buf, bin) != 1)
            return 0;
        if (inet_ntop(AF_INET6, bin, out, PS_NAME_MAX + 1) == NULL)
            return 0;
        *kind = PS_NAME_IPV6;
        return 1;
    }
    /* Brackets hold an IPv6 literal only (RFC 3986 IP-literal): "[1.2.3.4]" is no address. */
    if (bracketed || inet_pton(AF_INET, buf, bin) != 1)
        return 0;
    memcpy(out, buf, len + 1);
    *kind = PS_NAME_IPV4;
    return 1;
}

/* The bytes a host name may hold, lower-cased; 0 for every other byte (controls, space, ':',
 * '[', non-ASCII...). */
static const unsigned char name_chars[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 45, 46, 0,
    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 0, 0, 0, 0, 0, 0,
    0, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 0, 0, 0, 0, 95,
    0, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* One pass over an ASCII name: lower-case it into out and validate it as check_labels() would.
 * Returns NULL when it is a valid domain, or the problem. *maybe_ip is set when the name could be
 * an IP literal (a ':' or '[', or an all-digit last label), so only then is inet_pton tried. */
static const char *
fast_ascii(const char *in, size_t len, char *out, bool *maybe_ip)
{
    size_t i, start = 0; /* start: first byte of the current label */

    *maybe_ip = false;
    if (len == 0)
        return "empty name";
    if (len > PS_NAME_MAX)
        return "name over 253 characters";
    for (i = 0; i < len; i++) {
        unsigned char c = name_chars[(unsigned char)in[i]];
        out[i] = (char)c;
        if (c == '.') {
            if (i == start)
                return i == 0 ? "leading dot" : "empty label";
            if (i - start > PS_LABEL_MAX)
                return "label over 63 characters";
            if (out[start] == '-' || out[i - 1] == '-')
                return "label starts or ends with '-'";
            start = i + 1;
        } else if (c == 0) {
            c = (unsigned char)in[i];
            if (c == ':' || c == '[' || c == ']') {
                *maybe_ip = true;
                return "character not allowed in a host name";
            }
            return c == ' ' ? "space" : "character not allowed in a host name";
        }
    }
    out[len] = '\0';
    if (start == len)
        return "trailing dot";
    if (len - start > PS_LABEL_MAX)
        return "label over 63 characters";
    if (out[start] == '-' || out[len - 1] == '-')
        return "label starts or ends with '-'";
    for (i = start; i < len; i++) /* an all-digit last label: an IP address, not a name */
        if (out[i] < '0' || out[i] > '9')
            return NULL;
    *maybe_ip = true;
    return "numeric last label (an IP address, not a name)";
}

static int
normalize(const char *in, size_t len, bool idn, char out[PS_NAME_MAX + 1],
          enum ps_name_kind *kind, struct ps_err *err)
{
    char buf[PS_NAME_MAX + 1];
    const char *why;
    size_t i;
    bool ascii = true, maybe_ip;

    if (in == NULL || len == 0)
        return ps_err_set(err, PS_EINVAL, "empty name");
    /* The common case, a valid lower- or mixed-case ASCII name, takes one pass. */
    if (len <= PS_NAME_MAX + 1) {
        size_t n = len;
        if (n > 1 && in[n - 1] == '.' && in[n - 2] != '.')
            n--;
        if (fast_ascii(in, n, buf, &maybe_ip) == NULL) {
            memcpy(out, buf, n + 1);
            *kind = PS_NAME_DOMAIN;
            return 0;
        }
    }
    if (len > RAW_MAX)
        return ps_err_set(err, PS_ETOOLONG, "name of %zu bytes: over %d", len, RAW_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c == 0x7f)
            return ps_err_set(err, PS_EINVAL, "control character in name '%.*s'",
                              (int)(i < 80 ? i : 80), in);
        ascii = ascii && c < 0x80;
    }
    if (ascii) {
        size_t n = len;
        /* one trailing dot: "zoom.us." is the absolute form of "zoom.us" */
        if (n > 1 && in[n - 1] == '.' && in[n - 2] != '.')
            n--;
        why = fast_ascii(in, n, buf, &maybe_ip);
        if (why == NULL) {
            memcpy(out, buf, n + 1);
            *kind = PS_NAME_DOMAIN;
            return 0;
        }
        if (maybe_ip && try_ip(in, len, buf, kind)) {
            memcpy(out, buf, strlen(buf) + 1);
            return 0;
        }
        if (n > PS_NAME_MAX)
            return ps_err_set(err, PS_ETOOLONG, "name '%.40s...' over 253 characters", in);
        return ps_err_set(err, PS_EINVAL, "bad name '%.*s': %s", (int)(len < 80 ? len : 80), in,
                          why);
    } else if (!idn) {
        return ps_err_set(err, PS_EINVAL, "non-ASCII name '%.*s': a server name on the wire is "
                          "ASCII (A-labels, RFC 6066)", (int)(len < 80 ? len : 80), in);
    } else {
        char raw[RAW_MAX + 1];
        char *alabel = NULL;
        int rc;

        if (in[len - 1] == '.')
            len--;
        memcpy(raw, in, len);
        raw[len] = '\0';
        rc = idn2_lookup_u8((const uint8_t *)raw, (uint8_t **)&alabel,
                            IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        if (rc != IDN2_OK)
            return ps_err_set(err, PS_EINVAL, "bad internationalised name '%.80s': %s", raw,
                              idn2_strerror(rc));
        if (strlen(alabel) > PS_NAME_MAX) {
            idn2_free(alabel);
            return ps_err_set(err, PS_ETOOLONG, "name '%.40s...' over 253 characters", raw);
        }
        memcpy(buf, alabel, strlen(alabel) + 1);
        idn2_free(alabel);
    }
    why = check_labels(buf, strlen(buf));
    if (why != NULL)
        return ps_err_set(err, PS_EINVAL, "bad name '%.80s': %s", buf, why);
    memcpy(out, buf, strlen(buf) + 1);
    *kind = PS_NAME_DOMAIN;
    return 0;
}

int
ps_name_normalize(const char *in, size_t len, char out[PS_NAME_MAX + 1], enum ps_name_kind *kind,
                  struct ps_err *err)
{
    return normalize(in, len, true, out, kind, err);
}

int
ps_name_normalize_ascii(const char *in, size_t len, char out[PS_NAME_MAX + 1],
                        enum ps_name_kind *kind, struct ps_err *err)
{
    return normalize(in, len, false, out, kind, err);
}

static bool
has_non_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

int
ps_name_to_ascii(const char *in, bool is_host, char out[PS_NAME_ASCII_MAX], struct ps_err *err)
{
    char name[PS_NAME_MAX + 1];
    enum ps_name_kind kind;
    const char *h = in;
    size_t hlen;
    unsigned port = 0;
    int rc;

    if (in == NULL || !has_non_ascii(in))
        return 0;
    hlen = strlen(in);
    if (is_host && (rc = ps_name_split_hostport(in, hlen, &h, &hlen, &port, err)) < 0)
        return rc;
    if ((rc = ps_name_normalize(h, hlen, name, &kind, err)) < 0)
        return rc;
    if (port != 0)
        snprintf(out, PS_NAME_ASCII_MAX, "%s:%u", name, port);
    else
        memcpy(out, name, strlen(name) + 1);
    return 1;
}

static int
parse_port(const char *s, size_t len, unsigned *out)
{
    uint64_t v;

    if (len > 5 || !ps_num_parse(s, len, 65535, &v) || v == 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static bool
ipv6_literal(const char *s, size_t len)
{
    char buf[64];
    unsigned char bin[16];

    if (len == 0 || len >= sizeof(buf) || memchr(s, ':', len) == NULL)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, bin) == 1;
}

int
ps_name_split_hostport(const char *in, size_t len, const char **host, size_t *host_len,
                       unsigned *port_out, struct ps_err *err)
{
    const char *colon;
    unsigned port = 0;

    if (in == NULL || len == 0)
        return ps_err_set(err, PS_EINVAL, "empty host");
    if (in[0] == '[') {
        const char *close = memchr(in, ']', len);
        size_t rest;
        if (close == NULL)
            return ps_err_set(err, PS_EINVAL, "unterminated '[' in host '%.*s'",
                              (int)(len < 80 ? len : 80), in);
        /* Brackets are for an IPv6 literal (RFC 3986): "[zoom.us]:443" is not the domain
         * zoom.us, and "[1.2.3.4]" is not an IPv4 address. */
        if (!ipv6_literal(in + 1, (size_t)(close - in - 1)))
            return ps_err_set(err, PS_EINVAL, "brackets without an IPv6 address in host '%.*s'",
                              (int)(len < 80 ? len : 80), in);
        rest = len - (size_t)(close + 1 - in);
        if (rest > 0 && (close[1] != ':' || parse_port(close + 2, rest - 1, &port) < 0))
            return ps_err_set(err, PS_EINVAL, "bad port in host '%.*s'",
                              (int)(len < 80 ? len : 80), in);
        *host = in + 1;
        *host_len = (size_t)(close - in - 1);
        *port_out = port;
        return 0;
    }
    colon = memchr(in, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - in)) == NULL) {
        if (parse_port(colon + 1, len - (size_t)(colon + 1 - in), &port) < 0)
            return ps_err_set(err, PS_EINVAL, "bad port in host '%.*s'",
                              (int)(len < 80 ? len : 80), in);
        len = (size_t)(colon - in);
        if (len == 0)
            return ps_err_set(err, PS_EINVAL, "empty host before port");
    }
    /* More than one ':' without brackets: a bare IPv6 literal, no port. */
    *host = in;
    *host_len = len;
    *port_out = port;
    return 0;
}

int
ps_name_program(const char *in, size_t len, char out[PS_PROGRAM_MAX + 1], struct ps_err *err)
{
    size_t i, start = 0;

    if (in == NULL)
        return ps_err_set(err, PS_EINVAL, "empty program name");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c == 0x7f)
            return ps_err_set(err, PS_EINVAL, "control character in program name");
        if (c == '/' || c == '\\')
            start = i + 1;
    }
    len -= start;
    in += start;
    if (len == 0)
        return ps_err_set(err, PS_EINVAL, "empty program name");
    if (len > PS_PROGRAM_MAX)
        return ps_err_set(err, PS_ETOOLONG, "program name of %zu bytes: over %d", len,
                          PS_PROGRAM_MAX);
    ps_ascii_lower_copy(out, in, len);
    out[len] = '\0';
    return 0;
}
