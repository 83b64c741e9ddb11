#ifndef PS_LIB_LOGLINE_H
#define PS_LIB_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "logformat.h" /* a record is parsed by its format: callers need both */

struct ps_err;

/*
 * One Squid access.log record, parsed without allocating: the parser splits the (mutable) line in
 * place and the fields below point into it. Which fields a record has depends on its logformat
 * (logformat.h).
 */

#define PS_LOGLINE_MAX 65536 /* longest record we parse, without the newline */

/* A field's text; n == 0 when the record has "-" (or nothing) there. Not NUL-terminated. */
struct ps_logstr {
    const char *s;
    size_t n;
};

/* s is exactly the text lit. */
static inline bool
ps_logstr_eq(struct ps_logstr s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.s, lit, n) == 0;
}

/* s begins with the text lit. */
static inline bool
ps_logstr_starts(struct ps_logstr s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.s, lit, n) == 0;
}

struct ps_logline {
    int64_t time_ms;         /* Unix time in milliseconds */
    int64_t elapsed_ms;      /* -1 when absent */
    struct ps_logstr client; /* client address, without the port */
    struct ps_logstr peer;   /* "address:port" as logged; n == 0 when the format has no port */
    unsigned port;           /* 0 when absent */
    struct ps_logstr result; /* Squid result code, e.g. TCP_MISS, NONE_NONE, TCP_TUNNEL */
    int status;              /* HTTP status; 0 for "000" or absent */
    int64_t bytes_out;       /* bytes sent to the client, -1 when absent */
    int64_t bytes_in;        /* bytes received from the client, -1 when absent */
    struct ps_logstr method, url, user, hier, bump_mode, sni, rdomain;
    struct ps_logstr err_code, err_detail, tls, action, rule;
    struct ps_logstr verify, monitor, monitor_rule;
};

/*
 * Parse one record (line[0..len), no newline) of format f into *out. The line is modified in
 * place: URL escapes (%XX) of the SNI, CONNECT host, user and pinsplice notes are decoded,
 * "quoted" fields are unquoted (\" \\ \n \r \t \xHH) and [bracketed] ones lose their brackets,
 * so out's fields point into line. A "-" field is absent (n == 0). Fields past the format's are
 * ignored (log_mime_hdrs, a longer format); fields past f->nrequired may be missing (absent).
 * Returns 0, PS_EINVAL with a message saying what is
 * wrong ("too few fields (9 of 16)", "bad timestamp '...'", ...), or PS_ETOOLONG for
 * len > PS_LOGLINE_MAX. On error *out is undefined and line may be partly decoded.
 */
int ps_logline_parse(const struct ps_logformat *f, char *line, size_t len, struct ps_logline *out,
                     struct ps_err *err);

/*
 * Decode %XX escapes of s[0..len) in place; a '%' not followed by two hex digits stays as it is.
 * Returns the new length.
 */
size_t ps_logline_urldecode(char *s, size_t len);

/*
 * Parse "SECONDS[.FRACTION]" (up to 12 digits of seconds, fraction to milliseconds) into *ms.
 * Returns 0 or PS_EINVAL.
 */
int ps_logline_time(const char *s, size_t len, int64_t *ms);

/*
 * Parse a --since/--until value, in UTC: "@SECONDS" or "SECONDS[.FRACTION]" (Unix time, at least
 * 9 digits), "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD[ T]HH:MM:SS", optionally ending in
 * "Z". With end set, a value is the END of the period it names (a day, a minute, a second), so
 * --until 2026-11-26 includes that whole day. Returns 0 and *ms, or PS_EINVAL naming the value.
 */
int ps_logline_datetime(const char *s, bool end, int64_t *ms, struct ps_err *err);

#endif /* PS_LIB_LOGLINE_H */
