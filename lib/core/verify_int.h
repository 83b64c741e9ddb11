/*
 * verify_int.h: what the parts of server verification share inside lib/core: the trust's
 * layout (verify_trust.c builds it, verify_check.c checks a chain against it), the clock, the
 * result setter, the name check and the resolver (verify_resolve.c). See verify.h.
 */
#ifndef PS_LIB_VERIFY_INT_H
#define PS_LIB_VERIFY_INT_H

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "verify.h"

#define PS_VERIFY_MAX_PINS 16
#define PS_VERIFY_MAX_NAME 253

struct ps_verify_trust {
    pthread_mutex_t mu;
    unsigned refs;
    SSL_CTX *ctx;
    size_t npins;
    unsigned char pins[PS_VERIFY_MAX_PINS][32];
    char key[];
};

/* Monotonic milliseconds. */
long ps_verify_now_ms(void);

/* Set out's verdict and detail (formatted); returns v. */
enum ps_verify_verdict ps_verify_set(struct ps_verify_result *out, enum ps_verify_verdict v,
                                     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Is sni a host name a check may be asked for (at most PS_VERIFY_MAX_NAME bytes)? */
bool ps_verify_valid_sni(const char *sni);

/* Resolve name (TCP addresses, any family) by deadline_ms (ps_verify_now_ms() time). Returns 0
 * and *out (free with freeaddrinfo), EAI_AGAIN when the deadline passed first, or another EAI_*
 * code. */
int ps_verify_resolve(const char *name, long deadline_ms, struct addrinfo **out);

#endif /* PS_LIB_VERIFY_INT_H */
