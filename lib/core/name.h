#ifndef PS_LIB_NAME_H
#define PS_LIB_NAME_H

#include <stdbool.h>
#include <stddef.h>

struct ps_err;

#define PS_NAME_MAX 253   /* longest host name, without the trailing dot (RFC 1035) */
#define PS_LABEL_MAX 63   /* longest label */
#define PS_LABELS_MAX 127 /* most labels a PS_NAME_MAX name can have: bounds every suffix walk */
#define PS_PROGRAM_MAX 255 /* longest program basename we accept */

enum ps_name_kind {
    PS_NAME_DOMAIN = 1, /* a host name, normalised to lower-case A-labels */
    PS_NAME_IPV4 = 2,   /* an IPv4 literal (dotted quad), copied as written */
    PS_NAME_IPV6 = 3,   /* an IPv6 literal, brackets removed */
};

/*
 * Normalise a server name as a client or Squid sent it (SNI or CONNECT host without port):
 * ASCII lower case, one trailing dot dropped, a non-ASCII (UTF-8) name converted to A-labels with
 * libidn2 (UTS#46, non-transitional), then validated: labels of 1..63 characters of [a-z0-9-_],
 * no leading or trailing '-', at most 253 characters. IPv4 and IPv6 literals (IPv6 optionally in
 * brackets) are recognised and reported as such: an IP never matches a domain entry.
 * in need not be NUL-terminated. out receives the NUL-terminated result.
 * Returns 0 and sets *kind, or PS_EINVAL / PS_ETOOLONG with a message naming the input; on error
 * out and *kind are unchanged. ASCII input never allocates.
 */
int ps_name_normalize(const char *in, size_t len, char out[PS_NAME_MAX + 1],
                      enum ps_name_kind *kind, struct ps_err *err);

/*
 * The same for a name from the wire (an SNI or CONNECT host on the Squid paths): RFC 6066 sends
 * host names as ASCII, so a name with any byte >= 0x80 is PS_EINVAL ("non-ASCII name"), never
 * mapped: UTS#46 would fold ignorable code points (U+200B), fullwidth dots and the like into a
 * covered name that the client never sent.
 */
int ps_name_normalize_ascii(const char *in, size_t len, char out[PS_NAME_MAX + 1],
                            enum ps_name_kind *kind, struct ps_err *err);

/*
 * For the CLI, which accepts Unicode for convenience: map a NUL-terminated name (is_host: a
 * CONNECT host, "name[:port]") that holds non-ASCII bytes to its A-label form (port kept).
 * Returns 0 when in is NULL or already ASCII (out untouched), 1 with out set when it mapped, or
 * PS_EINVAL / PS_ETOOLONG naming the input when it cannot be mapped.
 */
#define PS_NAME_ASCII_MAX (PS_NAME_MAX + 7) /* name, ':' and a port, NUL */
int ps_name_to_ascii(const char *in, bool is_host, char out[PS_NAME_ASCII_MAX], struct ps_err *err);

/*
 * Check that a name from the rule database is already in normal form (what ps_name_normalize
 * would return unchanged for a domain). Returns 0, or PS_EINVAL naming the problem
 * ("upper case", "trailing dot", "empty label", ...).
 */
int ps_name_check_stored(const char *name, struct ps_err *err);

/*
 * Split "host:port", "[v6]:port", "[v6]", "v6" or "host" into its host part. The returned host
 * points into in (brackets stripped); *port_out is the port or 0 when there is none. Returns 0,
 * or PS_EINVAL for an unterminated bracket or a bad port.
 */
int ps_name_split_hostport(const char *in, size_t len, const char **host, size_t *host_len,
                           unsigned *port_out, struct ps_err *err);

/*
 * The basename of a program path, lower-cased into out: everything after the last '/' or '\\'.
 * Returns 0, PS_EINVAL for an empty basename or control characters, PS_ETOOLONG past
 * PS_PROGRAM_MAX.
 */
int ps_name_program(const char *in, size_t len, char out[PS_PROGRAM_MAX + 1], struct ps_err *err);

/* The value of one hex digit (either case), or -1. Shared by every %XX decoder and hex parser. */
static inline int
ps_name_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif /* PS_LIB_NAME_H */
