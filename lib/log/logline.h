#ifndef PS_LIB_LOGLINE_H
#define PS_LIB_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_err;

/*
 * One Squid access.log record, parsed without allocating: the parser splits the (mutable) line in
 * place and the fields below point into it. Which fields a record has depends on the logformat;
 * a format is described by its Squid logformat definition (the text after "logformat NAME"),
 * compiled once by ps_logformat_compile. Two are built in: Squid's native "squid" format and the
 * "pinsplice" format of squid-conf/pinsplice.conf.in.
 */

#define PS_LOGLINE_MAX 65536       /* longest record we parse, without the newline */
#define PS_LOGFORMAT_FIELDS_MAX 48 /* most fields (tokens) a logformat may have */

/* What a logformat token logs. */
enum ps_logfield {
    PS_LF_SKIP = 0,    /* a code the scanner does not use: one field, ignored */
    PS_LF_TIME,        /* %ts.%03tu or %ts */
    PS_LF_ELAPSED,     /* %tr */
    PS_LF_CLIENT,      /* %>a */
    PS_LF_CLIENT_PORT, /* %>a:%>p */
    PS_LF_RESULT,      /* %Ss/%03>Hs */
    PS_LF_BYTES_OUT,   /* %<st */
    PS_LF_BYTES_IN,    /* %>st */
    PS_LF_METHOD,      /* %rm */
    PS_LF_URL,         /* %ru */
    PS_LF_USER,        /* %un */
    PS_LF_HIER,        /* %Sh/%<a */
    PS_LF_BUMP_MODE,   /* %ssl::bump_mode */
    PS_LF_SNI,         /* %ssl::>sni */
    PS_LF_RDOMAIN,     /* %>rd */
    PS_LF_ERR,         /* %err_code/%err_detail */
    PS_LF_TLS,         /* %ssl::>negotiated_version */
    PS_LF_ACTION,      /* %{pinsplice_action_}note */
    PS_LF_RULE,        /* %{pinsplice_rule_}note */
    PS_LF_VERIFY,      /* %{pinsplice_verify_}note: the server check's outcome */
    PS_LF_MONITOR,     /* %{pinsplice_monitor_}note: what a monitor rule would have done */
    PS_LF_MONITOR_RULE, /* %{pinsplice_monitor_rule_}note: that monitor rule */
    PS_LF_COUNT
};

/* A compiled logformat. Plain data: copy it freely. */
struct ps_logformat {
    char name[32];
    uint8_t nfields;
    uint8_t nrequired; /* a record may stop after this many fields: the trailing verify and
                        * monitor notes, added to the snippet later, are absent from older logs */
    uint8_t kind[PS_LOGFORMAT_FIELDS_MAX]; /* enum ps_logfield per field, in order */
    uint32_t has;                          /* bit (1u << kind) for every kind present */
};

/* A field's text; n == 0 when the record has "-" (or nothing) there. Not NUL-terminated. */
struct ps_logstr {
    const char *s;
    size_t n;
};

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
 * Compile a logformat definition: space-separated tokens as in squid.conf, e.g.
 * "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt". Squid's modifiers ("#", "[",
 * "'", '"', "-", width, ".precision") are accepted and ignored; codes the scanner does not use
 * become PS_LF_SKIP (one field). Each token must log one field without spaces, or one
 * "quoted" or [bracketed] field (as '"%{Referer}>h"' or '[%tl]' do). name is copied (truncated
 * to 31 bytes). Returns 0 and *out, or PS_EINVAL (no %ts, more than PS_LOGFORMAT_FIELDS_MAX
 * tokens, an unterminated {argument}); on error *out is unchanged.
 */
int ps_logformat_compile(const char *name, const char *def, struct ps_logformat *out,
                         struct ps_err *err);

/* The built-in formats "squid" and "pinsplice", or NULL for another name. Static storage. */
const struct ps_logformat *ps_logformat_builtin(const char *name);

/* The definitions the built-in formats were compiled from. */
extern const char ps_logformat_squid_def[];
extern const char ps_logformat_pinsplice_def[];

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
