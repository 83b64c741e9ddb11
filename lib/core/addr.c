#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "text.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int
ps_addr_parse(const char *s, size_t len, struct ps_addr *out, struct ps_err *err)
{
    char buf[64];
    struct ps_addr a;

    if (s == NULL || len == 0)
        return ps_err_set(err, PS_EINVAL, "empty address");
    if (len >= sizeof(buf))
        return ps_err_set(err, PS_EINVAL, "bad address '%.40s...'", s);
    /* inet_pton stops at a NUL: "10.0.0.1\0junk" would be read as 10.0.0.1 (found by fuzzing). */
    if (memchr(s, '\0', len) != NULL)
        return ps_err_set(err, PS_EINVAL, "NUL byte in address");
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, buf, a.b + 12) == 1) {
        memcpy(a.b, v4mapped, sizeof(v4mapped));
        a.v4 = true;
    } else if (inet_pton(AF_INET6, buf, a.b) == 1) {
        a.v4 = memcmp(a.b, v4mapped, sizeof(v4mapped)) == 0;
    } else {
        return ps_err_set(err, PS_EINVAL, "bad address '%s'", buf);
    }
    *out = a;
    return 0;
}

static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
ps_cidr_parse(const char *s, size_t len, struct ps_cidr *out, struct ps_err *err)
{
    const char *slash;
    struct ps_cidr c;
    unsigned bits = 0, max;
    size_t alen;
    bool written_v4;
    int rc;

    if (s == NULL || len == 0)
        return ps_err_set(err, PS_EINVAL, "empty network");
    slash = memchr(s, '/', len);
    alen = slash ? (size_t)(slash - s) : len;
    rc = ps_addr_parse(s, alen, &c.net, err);
    if (rc < 0)
        return ps_err_set(err, rc, "bad network '%.*s'", (int)(len < 60 ? len : 60), s);
    /* An IPv4 network written as IPv4 counts its prefix in 32 bits; the IPv4-mapped IPv6 form
     * (::ffff:10.0.0.0/104) counts in 128 bits like any IPv6 network. */
    written_v4 = memchr(s, ':', alen) == NULL;
    max = written_v4 ? 32 : 128;
    if (slash == NULL) {
        bits = max;
    } else {
        size_t blen = len - alen - 1;
        uint64_t v;
        if (blen > 3 || !ps_num_parse(slash + 1, blen, UINT64_MAX, &v))
            return ps_err_set(err, PS_EINVAL, "bad prefix length in '%.*s'",
                              (int)(len < 60 ? len : 60), s);
        bits = (unsigned)v;
        if (bits > max)
            return ps_err_set(err, PS_EINVAL, "prefix length over %u in '%.*s'", max,
                              (int)(len < 60 ? len : 60), s);
    }
    c.bits = written_v4 ? bits + 96 : bits;
    if (c.net.v4 && c.bits < 96)
        return ps_err_set(err, PS_EINVAL, "prefix of '%.*s' reaches past the IPv4-mapped range",
                          (int)(len < 60 ? len : 60), s);
    {
        struct ps_addr masked = c.net;
        unsigned full = c.bits / 8, rest = c.bits % 8;
        if (full < 16) {
            masked.b[full] &= (uint8_t)(0xff << (8 - rest));
            memset(masked.b + full + 1, 0, 16 - full - 1);
            if (rest == 0)
                masked.b[full] = 0;
        }
        if (memcmp(masked.b, c.net.b, 16) != 0) {
            char txt[64];
            inet_ntop(c.net.v4 ? AF_INET : AF_INET6, c.net.v4 ? masked.b + 12 : masked.b, txt,
                      sizeof(txt));
            return ps_err_set(err, PS_EINVAL, "host bits set in '%.*s' (the network is %s/%u)",
                              (int)(len < 60 ? len : 60), s, txt, bits);
        }
    }
    *out = c;
    return 0;
}

bool
ps_cidr_contains(const struct ps_cidr *c, const struct ps_addr *a)
{
    if (c->net.v4 != a->v4)
        return false;
    return prefix_equal(c->net.b, a->b, c->bits);
}
