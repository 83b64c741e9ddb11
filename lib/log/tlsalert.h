#ifndef PS_LIB_TLSALERT_H
#define PS_LIB_TLSALERT_H

#include <stddef.h>

/*
 * Why a TLS handshake with the client failed, from the %err_detail Squid logs with
 * ERR_SECURE_ACCEPT_FAIL, e.g. "SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1" (the client
 * sent alert 48, unknown_ca) or "SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104" (it reset the
 * connection). Names come from OpenSSL's own tables, not from a list kept here.
 */

enum ps_tlsfail_kind {
    PS_TLSFAIL_NONE = 0, /* nothing recognisable in the detail */
    PS_TLSFAIL_ALERT,    /* the client sent a TLS alert: it rejected the handshake */
    PS_TLSFAIL_RESET,    /* the connection was reset (ECONNRESET, EPIPE) during the handshake */
    PS_TLSFAIL_CLOSED,   /* the client closed the connection during the handshake, no alert */
    PS_TLSFAIL_OTHER,    /* another OpenSSL error (not TLS, no shared cipher, ...) */
};

struct ps_tlsfail {
    enum ps_tlsfail_kind kind;
    int alert;             /* TLS alert number (0..255) for PS_TLSFAIL_ALERT, else -1 */
    unsigned long lib_err; /* TLS_LIB_ERR as logged (0 when absent) */
    unsigned long reason;  /* its OpenSSL reason code (SSL library), 0 when absent */
    int io_err;            /* TLS_IO_ERR (SSL_get_error() value), -1 when absent */
    int sys_errno;         /* errno=, 0 when absent */
};

/*
 * Parse an %err_detail (s[0..len), not NUL-terminated) into *out. Recognises TLS_LIB_ERR=HEX
 * (OpenSSL 3 and 1.1 packings), TLS_IO_ERR=N and errno=N, in any order, separated by '+'.
 * Never fails: text it does not know gives kind PS_TLSFAIL_NONE (or OTHER when a library error
 * is present but is not an alert).
 */
void ps_tlsalert_parse(const char *s, size_t len, struct ps_tlsfail *out);

/*
 * The RFC 8446 style name of a TLS alert ("unknown_ca", "bad_certificate",
 * "certificate_unknown", "certificate_required", ...), derived from OpenSSL's alert and error
 * string tables; "alert_N" when OpenSSL has no name for it. Writes into buf (size >= 8) and
 * returns buf. Thread-safe once OpenSSL is initialised.
 */
const char *ps_tlsalert_name(int alert, char *buf, size_t size);

/* OpenSSL's text for an SSL-library reason code ("wrong version number"), or NULL. Static. */
const char *ps_tlsalert_reason(unsigned long reason);

#endif /* PS_LIB_TLSALERT_H */
