#ifndef PS_LIB_LOGFORMAT_H
#define PS_LIB_LOGFORMAT_H

#include <stdint.h>

struct ps_err;

/*
 * A Squid logformat: which field of an access.log record logs what. A format is described by
 * its Squid logformat definition (the text after "logformat NAME"), compiled once by
 * ps_logformat_compile. Two are built in: Squid's native "squid" format and the "pinsplice"
 * format of squid-conf/pinsplice.conf.in. Records are parsed with one (logline.h).
 */

#define PS_LOGFORMAT_FIELDS_MAX 48 /* most fields (tokens) a logformat may have */

/* What a logformat token logs. */
enum ps_logfield {
    PS_LF_SKIP = 0,     /* a code the scanner does not use: one field, ignored */
    PS_LF_TIME,         /* %ts.%03tu or %ts */
    PS_LF_ELAPSED,      /* %tr */
    PS_LF_CLIENT,       /* %>a */
    PS_LF_CLIENT_PORT,  /* %>a:%>p */
    PS_LF_RESULT,       /* %Ss/%03>Hs */
    PS_LF_BYTES_OUT,    /* %<st */
    PS_LF_BYTES_IN,     /* %>st */
    PS_LF_METHOD,       /* %rm */
    PS_LF_URL,          /* %ru */
    PS_LF_USER,         /* %un */
    PS_LF_HIER,         /* %Sh/%<a */
    PS_LF_BUMP_MODE,    /* %ssl::bump_mode */
    PS_LF_SNI,          /* %ssl::>sni */
    PS_LF_RDOMAIN,      /* %>rd */
    PS_LF_ERR,          /* %err_code/%err_detail */
    PS_LF_TLS,          /* %ssl::>negotiated_version */
    PS_LF_ACTION,       /* %{pinsplice_action_}note */
    PS_LF_RULE,         /* %{pinsplice_rule_}note */
    PS_LF_VERIFY,       /* %{pinsplice_verify_}note: the server check's outcome */
    PS_LF_MONITOR,      /* %{pinsplice_monitor_}note: what a monitor rule would have done */
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

#endif /* PS_LIB_LOGFORMAT_H */
