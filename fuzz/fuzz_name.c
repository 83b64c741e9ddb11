/* fuzz_name: server name normalisation (lib/core/name.c), applied to every SNI and CONNECT host.
 * Invariants: normalising is idempotent (the result normalises to itself, same kind); a domain
 * result passes ps_name_check_stored (so it can match a stored entry); the wire variant refuses
 * every non-ASCII name and otherwise agrees with the full one; host:port splitting returns a
 * slice of its input; a program basename holds no '/' and no upper case. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "name.h"

static void
normalize(const char *in, size_t len)
{
    char out[PS_NAME_MAX + 1], again[PS_NAME_MAX + 1], ascii[PS_NAME_MAX + 1];
    enum ps_name_kind kind = 0, kind2 = 0, kind3 = 0;
    struct ps_err err = {0};
    bool non_ascii = false;
    size_t i;
    int rc, rc2;

    for (i = 0; i < len; i++)
        non_ascii |= (unsigned char)in[i] >= 0x80;
    rc = ps_name_normalize(in, len, out, &kind, &err);
    rc2 = ps_name_normalize_ascii(in, len, ascii, &kind3, &err);
    if (non_ascii)
        /* EINVAL ("non-ASCII name"), or ETOOLONG when it is over-long as well: refused. */
        fuzz_check(rc2 == PS_EINVAL || rc2 == PS_ETOOLONG, "wire name with a byte >= 0x80: %d",
                   rc2);
    else
        fuzz_check(rc2 == rc && (rc != 0 || (kind3 == kind && strcmp(ascii, out) == 0)),
                   "ASCII name: the wire and full normalisations disagree");
    if (rc != 0) {
        fuzz_check(rc == PS_EINVAL || rc == PS_ETOOLONG, "normalize returned %d", rc);
        fuzz_check(err.msg[0] != '\0', "an error without a message");
        return;
    }
    fuzz_check(kind == PS_NAME_DOMAIN || kind == PS_NAME_IPV4 || kind == PS_NAME_IPV6,
               "kind %d", (int)kind);
    fuzz_check(strlen(out) <= PS_NAME_MAX && out[0] != '\0', "result length %zu", strlen(out));
    for (i = 0; out[i] != '\0'; i++)
        fuzz_check((unsigned char)out[i] > 0x20 && (unsigned char)out[i] < 0x7f &&
                       !(out[i] >= 'A' && out[i] <= 'Z'),
                   "result '%s' has byte 0x%02x", out, (unsigned char)out[i]);
    rc = ps_name_normalize(out, strlen(out), again, &kind2, &err);
    fuzz_check(rc == 0, "'%s' does not normalise again: %s", out, err.msg);
    fuzz_check(kind2 == kind, "'%s' changed kind", out);
    fuzz_check(strcmp(again, out) == 0, "not idempotent: '%s' -> '%s'", out, again);
    if (kind == PS_NAME_DOMAIN)
        fuzz_check(ps_name_check_stored(out, &err) == 0, "normal form '%s' refused as stored: %s",
                   out, err.msg);
}

static void
hostport(const char *in, size_t len)
{
    const char *host = NULL;
    size_t hlen = 0;
    unsigned port = 7;
    struct ps_err err = {0};

    if (ps_name_split_hostport(in, len, &host, &hlen, &port, &err) != 0) {
        fuzz_check(err.msg[0] != '\0', "an error without a message");
        return;
    }
    fuzz_check(host >= in && host + hlen <= in + len, "host is not a slice of the input");
    fuzz_check(port <= 65535, "port %u", port);
    if (len > 0 && in[0] == '[')
        fuzz_check(hlen + 2 <= len && host == in + 1 && host[hlen] == ']',
                   "a bracketed host that is not the bracket's contents");
    normalize(host, hlen);
}

static void
program(const char *in, size_t len)
{
    char out[PS_PROGRAM_MAX + 1];
    struct ps_err err = {0};
    size_t i;

    if (ps_name_program(in, len, out, &err) != 0)
        return;
    fuzz_check(out[0] != '\0' && strlen(out) <= PS_PROGRAM_MAX, "basename length");
    for (i = 0; out[i] != '\0'; i++)
        fuzz_check(out[i] != '/' && out[i] != '\\' && !(out[i] >= 'A' && out[i] <= 'Z') &&
                       (unsigned char)out[i] >= 0x20 && out[i] != 0x7f,
                   "basename '%s'", out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char cli[PS_NAME_ASCII_MAX], *z;
    struct ps_err err = {0};
    int rc;

    normalize(s, size);
    hostport(s, size);
    program(s, size);
    /* The CLI's Unicode mapping: its output is ASCII and normalises. */
    z = malloc(size + 1);
    if (z == NULL)
        return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    rc = ps_name_to_ascii(z, (size & 1) != 0, cli, &err);
    if (rc == 1) {
        size_t i;
        for (i = 0; cli[i] != '\0'; i++)
            fuzz_check((unsigned char)cli[i] < 0x80, "to_ascii gave non-ASCII '%s'", cli);
    }
    free(z);
    return 0;
}
