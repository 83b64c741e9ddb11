/* fuzz_addr: IP address and CIDR parsing (lib/core/addr.c): the CLIENT-IP of every request and the
 * trusted-source networks of the rules DB. Invariants: an accepted address is what inet_pton reads
 * from the same text (IPv4 kept mapped), and inet_ntop's form parses back to the same bytes; an
 * accepted CIDR has no host bits, contains its own network and ps_cidr_parse of its canonical
 * text gives it back. */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fuzz.h"

static void
canonical(const struct ps_addr *a, char *buf, size_t size)
{
    if (a->v4)
        inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)size);
    else
        inet_ntop(AF_INET6, a->b, buf, (socklen_t)size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct ps_addr a, b;
    struct ps_cidr c, d;
    struct ps_err err = {0};
    char text[INET6_ADDRSTRLEN + 8], z[128];
    unsigned i;

    if (ps_addr_parse(s, size, &a, &err) == 0) {
        canonical(&a, text, sizeof(text));
        fuzz_check(ps_addr_parse(text, strlen(text), &b, &err) == 0, "'%s' does not parse back",
                   text);
        fuzz_check(memcmp(a.b, b.b, 16) == 0 && a.v4 == b.v4, "'%s' parses to other bytes", text);
        /* The whole text is the address: no NUL inside cuts it short. */
        fuzz_check(memchr(data, '\0', size) == NULL, "accepted an address with a NUL inside");
        if (size < sizeof(z)) {
            unsigned char raw[16];
            memcpy(z, data, size);
            z[size] = '\0';
            if (memchr(z, ':', size) == NULL)
                fuzz_check(a.v4 && inet_pton(AF_INET, z, raw) == 1 && memcmp(raw, a.b + 12, 4) == 0,
                           "IPv4 '%s' not what inet_pton reads", z);
            else
                fuzz_check(inet_pton(AF_INET6, z, raw) == 1 && memcmp(raw, a.b, 16) == 0,
                           "IPv6 '%s' not what inet_pton reads", z);
        }
    } else {
        fuzz_check(err.msg[0] != '\0', "an error without a message");
    }
    if (ps_cidr_parse(s, size, &c, &err) == 0) {
        fuzz_check(c.bits <= 128 && (!c.net.v4 || c.bits >= 96), "bits %u", c.bits);
        for (i = c.bits; i < 128; i++)
            fuzz_check(!(c.net.b[i / 8] & (0x80 >> (i % 8))), "host bit %u set", i);
        fuzz_check(ps_cidr_contains(&c, &c.net), "a network does not contain itself");
        canonical(&c.net, text, sizeof(text));
        snprintf(text + strlen(text), 8, "/%u", c.net.v4 ? c.bits - 96 : c.bits);
        fuzz_check(ps_cidr_parse(text, strlen(text), &d, &err) == 0, "'%s' does not parse back: %s",
                   text, err.msg);
        fuzz_check(d.bits == c.bits && memcmp(d.net.b, c.net.b, 16) == 0 && d.net.v4 == c.net.v4,
                   "'%s' parses to another network", text);
    }
    return 0;
}
