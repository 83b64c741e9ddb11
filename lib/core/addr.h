#ifndef PS_LIB_ADDR_H
#define PS_LIB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_err;

/* An IP address (IPv4 kept as IPv4-mapped IPv6, so one comparison serves both). */
struct ps_addr {
    uint8_t b[16];
    bool v4;
};

/* A network: address + prefix length (0..128; an IPv4 /n is stored as /96+n). */
struct ps_cidr {
    struct ps_addr net;
    unsigned bits;
};

/* Parse an IPv4 or IPv6 literal (no brackets, no port). Returns 0 or PS_EINVAL. */
int ps_addr_parse(const char *s, size_t len, struct ps_addr *out, struct ps_err *err);

/* Parse "ADDR" or "ADDR/BITS". Host bits set below the prefix are an error (PS_EINVAL naming the
 * value and the network it should be), so "10.0.0.1/8" is refused rather than guessed. */
int ps_cidr_parse(const char *s, size_t len, struct ps_cidr *out, struct ps_err *err);

/* True when a is inside c. */
bool ps_cidr_contains(const struct ps_cidr *c, const struct ps_addr *a);

#endif /* PS_LIB_ADDR_H */
