#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "name.h"
#include "text.h"
#include "tlsalert.h"

#define LIB_SSL 20        /* ERR_LIB_SSL, the same in OpenSSL 1.1 and 3 */
#define ALERT_OFFSET 1000 /* SSL_AD_REASON_OFFSET: reason = 1000 + alert number */
#define TOKENS_MAX 16     /* most '+'-separated parts we look at */

/* Parse s[0..n) as a number in base 10 or 16 (at most 16 digits). */
static bool
number(const char *s, size_t n, int base, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;
    int d;

    if (n == 0 || n > 16)
        return false;
    for (i = 0; i < n; i++) {
        d = ps_name_hexval((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return false;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    *out = v;
    return true;
}

/* The SSL-library reason code of a packed error, for both packings:
 * OpenSSL 3: lib << 23 | reason (23 bits); OpenSSL 1.1: lib << 24 | func << 12 | reason. */
static unsigned long
ssl_reason(unsigned long code)
{
    if (((code >> 23) & 0xFF) == LIB_SSL && code < (1UL << 31))
        return code & 0x7FFFFF;
    if (((code >> 24) & 0xFF) == LIB_SSL)
        return code & 0xFFF;
    return 0;
}

static bool
has_prefix(const char *s, size_t n, const char *prefix, size_t *plen)
{
    *plen = strlen(prefix);
    return n >= *plen && memcmp(s, prefix, *plen) == 0;
}

void
ps_tlsalert_parse(const char *s, size_t len, struct ps_tlsfail *out)
{
    struct ps_tlsfail f = {PS_TLSFAIL_NONE, -1, 0, 0, -1, 0};
    const char *p = s, *end = s + len, *plus;
    unsigned long v;
    size_t n, pl;
    int tokens = 0;

    while (p < end && tokens++ < TOKENS_MAX) {
        plus = memchr(p, '+', (size_t)(end - p));
        n = (size_t)((plus != NULL ? plus : end) - p);
        if (has_prefix(p, n, "TLS_LIB_ERR=", &pl) && number(p + pl, n - pl, 16, &v))
            f.lib_err = v;
        else if (has_prefix(p, n, "TLS_IO_ERR=", &pl) && number(p + pl, n - pl, 10, &v) && v < 1000)
            f.io_err = (int)v;
        else if (has_prefix(p, n, "errno=", &pl) && number(p + pl, n - pl, 10, &v) && v < 100000)
            f.sys_errno = (int)v;
        if (plus == NULL)
            break;
        p = plus + 1;
    }
    f.reason = ssl_reason(f.lib_err);
    if (f.reason >= ALERT_OFFSET && f.reason < ALERT_OFFSET + 256) {
        f.kind = PS_TLSFAIL_ALERT;
        f.alert = (int)(f.reason - ALERT_OFFSET);
    } else if (f.lib_err != 0) {
        f.kind = PS_TLSFAIL_OTHER;
    } else if (f.sys_errno == ECONNRESET || f.sys_errno == EPIPE) {
        f.kind = PS_TLSFAIL_RESET;
    } else if (f.io_err == SSL_ERROR_SYSCALL || f.io_err == SSL_ERROR_ZERO_RETURN) {
        f.kind = f.sys_errno == 0 ? PS_TLSFAIL_CLOSED : PS_TLSFAIL_OTHER;
    } else if (f.io_err >= 0 || f.sys_errno != 0) {
        f.kind = PS_TLSFAIL_OTHER;
    }
    *out = f;
}

/* "unknown CA" -> "unknown_ca"; false when nothing usable is left. */
static bool
rfc_style(const char *in, char *buf, size_t size)
{
    size_t i, o = 0;

    for (i = 0; in[i] != '\0' && o + 1 < size; i++) {
        char c = ps_ascii_lower(in[i]);
        if (c == ' ' || c == '-')
            c = '_';
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            continue;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return o > 0;
}

const char *
ps_tlsalert_reason(unsigned long reason)
{
    if (reason == 0 || reason > 0x7FFFFF)
        return NULL;
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
    return ERR_reason_error_string(ERR_PACK(LIB_SSL, 0, reason));
}

const char *
ps_tlsalert_name(int alert, char *buf, size_t size)
{
    const char *s, *strip[] = {"tlsv13 alert ", "tlsv1 alert ", "sslv3 alert "};
    size_t i, pl;

    if (alert >= 0 && alert <= 255) {
        /* OpenSSL's alert table: "unknown CA", "bad certificate", ..., "unknown" when absent. */
        s = SSL_alert_desc_string_long(alert);
        if (s != NULL && strcmp(s, "unknown") != 0 && rfc_style(s, buf, size))
            return buf;
        /* Newer alerts (certificate_required, 116) are only in the error-reason table. */
        s = ps_tlsalert_reason((unsigned long)(ALERT_OFFSET + alert));
        if (s != NULL) {
            for (i = 0; i < sizeof(strip) / sizeof(strip[0]); i++) {
                if (has_prefix(s, strlen(s), strip[i], &pl)) {
                    if (rfc_style(s + pl, buf, size))
                        return buf;
                    break;
                }
            }
        }
    }
    snprintf(buf, size, "alert_%d", alert);
    return buf;
}
