#ifndef PS_LIB_ICAPREQ_H
#define PS_LIB_ICAPREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "decide.h"

struct ps_err;

/*
 * The ICAP path in two calls, for the c-icap service (module/srv_pinsplice.c), the way c-icap's
 * url_check fills one request description and decides once: ps_icap_facts_fill reads the facts
 * of one encapsulated request (icapreq.c), ps_icap_plan decides and says what to answer
 * (icapplan.c): 204 or 200, the header to strip, the headers to add, the log attributes. The
 * module only carries the plan out with c-icap's API. Nothing here knows c-icap: the module
 * passes plain strings, so every rule below is unit-tested in tests/unit/test_icapreq.c.
 * The string helpers under them follow.
 */

struct ps_snapshot;

#define PS_ICAPREQ_LINE_MAX 8192      /* longest request line looked at */
#define PS_ICAPREQ_TARGET_MAX 1024    /* longest CONNECT target copied (a UTF-8 name, a port) */
#define PS_ICAPREQ_HEADER_NAME_MAX 64 /* longest header name accepted in a directive */
#define PS_ICAPREQ_USER_MAX 255       /* longest user name (after base64 decoding) */
/* an escaped rule name or reason: every byte of the longest name the schema accepts as %XX */
#define PS_ICAPREQ_VALUE_MAX (PS_RULE_NAME_BYTES * 3 + 1)

/*
 * Is request_line ("METHOD SP target SP HTTP/d.d", no CR LF) a CONNECT, and to what?
 * The method is compared case-sensitively, as HTTP does. The target (authority-form, e.g.
 * "zoom.us:443" or "[2001:db8::1]:443") is copied as sent into out; checking it as a host name is
 * ps_decide's job (a bad name decides bump).
 * Returns 1 for a CONNECT (out set), 0 when the line is absent (NULL or empty) or another method
 * (out untouched), PS_EINVAL for a CONNECT line that is malformed (no target, no or bad HTTP
 * version, control characters, extra fields), PS_ETOOLONG for a line over PS_ICAPREQ_LINE_MAX or
 * a target over PS_ICAPREQ_TARGET_MAX. On error out is unchanged.
 */
int ps_icapreq_connect_target(const char *request_line, char out[PS_ICAPREQ_TARGET_MAX + 1],
                              struct ps_err *err);

/*
 * Check a header name given in a directive (pinsplice.DecisionHeader, ...): 1..64 RFC 9110 token
 * characters, and none of the names Squid or HTTP framing depend on (Host, Content-Length,
 * Transfer-Encoding, Connection, Upgrade, Proxy-Authorization, Proxy-Connection, Expect, TE,
 * Trailer, Keep-Alive, Via). Returns 0 or PS_EINVAL / PS_ETOOLONG naming the value.
 */
int ps_icapreq_header_name_check(const char *name, struct ps_err *err);

/*
 * True when the header field line ("Name: value" or "Name:value") has exactly the field name
 * name, compared case-insensitively. "X-A-B: v" is not "X-A"; NULL never matches.
 */
bool ps_icapreq_header_is(const char *line, const char *name);

/*
 * The value of the header field line when its field name is exactly name (as
 * ps_icapreq_header_is), with leading spaces and tabs skipped; NULL otherwise. Points into line.
 */
const char *ps_icapreq_header_value(const char *line, const char *name);

/*
 * Format "name: value" into buf (size bytes). value must already be header-safe (see
 * ps_icapreq_escape). Returns 0, PS_EINVAL for a NULL argument, PS_ETOOLONG when buf is too
 * small (buf then holds "" if size > 0).
 */
int ps_icapreq_header_line(const char *name, const char *value, char *buf, size_t size,
                           struct ps_err *err);

/*
 * Make text safe for an ICAP header value and c-icap's access log: bytes below 0x20, 0x7f, '%'
 * and bytes >= 0x80 become %XX; leading/trailing spaces are kept as %20 so the value survives
 * header trimming. Returns 0, or PS_ETOOLONG when out (size bytes) is too small (out then holds
 * ""). NULL in is written as "-".
 */
int ps_icapreq_escape(const char *in, char *out, size_t size, struct ps_err *err);

/*
 * The user name carried by an ICAP header value. base64: the value is base64 (Squid's
 * `icap_client_username_encode on`, and always for X-Authenticated-User). The header value's
 * surrounding spaces are trimmed; nothing else is removed (Squid prefixes nothing), so the name
 * is compared exactly as the helper compares %un.
 * Returns 0 and out, PS_EINVAL for NULL/empty, bad base64, a decoded NUL or control character,
 * PS_ETOOLONG past PS_ICAPREQ_USER_MAX. On error out is unchanged.
 */
int ps_icapreq_user(const char *value, bool base64, char out[PS_ICAPREQ_USER_MAX + 1],
                    struct ps_err *err);

/*
 * Must the answer to a CONNECT carry the decision header in a modified request (ICAP 200), or is
 * the unmodified request (ICAP 204) enough? The snippet's last line bumps every CONNECT that
 * arrives without the header, so a bump needs none; splice and terminate do. client_copies is the
 * number of decision headers the client sent, which the module removes: a 204 would hand them
 * back to Squid, so any copy, or a negative count (they could not be removed), needs the 200:
 * it carries "bump" next to whatever was left, and Squid joins repeated headers, so the
 * snippet's "^splice$" acl cannot match. Returns true for a 200. Pure; never fails.
 */
bool ps_icapreq_needs_header(enum ps_action action, int client_copies);

/*
 * The rule label for X-Pinsplice-Rule and %{pinsplice:rule}Sa, escaped (ps_icapreq_escape): the
 * rule's name, or "(default)", "(no-rules)", "(bad-name)", "(bad-input)" when no rule decided.
 * Returns 0 or PS_ETOOLONG (out then "").
 */
int ps_icapreq_rule_label(const struct ps_decision *d, char *out, size_t size, struct ps_err *err);

/*
 * Parse a whole number of seconds in 0..max (a directive value) and return it in milliseconds.
 * Returns 0, or PS_EINVAL naming the value (empty, sign, trailing characters, over max).
 */
int ps_icapreq_seconds(const char *s, unsigned max, unsigned *ms_out, struct ps_err *err);

/* ---- the request facts ---------------------------------------------------------------- */

/* The service's directives the facts and the plan depend on (the strings are borrowed). */
struct ps_icap_config {
    const char *program_header;  /* HTTP request header naming the program (ProgramHeader) */
    const char *decision_header; /* HTTP request header carrying the decision (DecisionHeader) */
    const char *user_header;     /* ICAP header carrying the proxy user (UserHeader) */
    bool user_base64;            /* UserHeaderBase64 */
    bool fail_open;              /* FailOpen: ps_decide_fail_open */
};

enum ps_icap_kind {
    PS_ICAP_OTHER = 0,     /* no request line, or not a CONNECT: 204 at once, nothing decided */
    PS_ICAP_CONNECT = 1,   /* a well-formed CONNECT: decided */
    PS_ICAP_MALFORMED = 2, /* a CONNECT whose line is malformed: bump, reason bad-input */
};

/* The most header lines (ICAP or HTTP) looked at for a value; the decision header's copies are
 * counted on every line, however many there are (c-icap bounds the list). */
#define PS_ICAP_HEADERS_MAX 1000

/* What one encapsulated request says. Strings point into the header lines given to
 * ps_icap_facts_fill (they must outlive the facts) or into the facts themselves. */
struct ps_icap_facts {
    enum ps_icap_kind kind;
    /* The CONNECT target as sent ("" unless a CONNECT). */
    char target[PS_ICAPREQ_TARGET_MAX + 1];
    /* X-Client-IP (ICAP header) and ProgramHeader's value (HTTP header), or NULL. */
    const char *client_ip;
    const char *program;
    /* UserHeader decoded, else X-Authenticated-User (base64) when UserHeader is absent; NULL
     * when neither gives a valid name. Points into user_buf. */
    const char *user;
    char user_buf[PS_ICAPREQ_USER_MAX + 1];
    /* The header to remove from the HTTP request before ps_icap_plan (every line after the
     * request line named DecisionHeader: ps_icap_strips), and how many lines that is; NULL and 0
     * when the client sent none (always for PS_ICAP_OTHER). ps_icap_stripped sets
     * client_copies to -1 when they could not be removed. */
    const char *strip;
    int client_copies;
};

/*
 * Fill f from one encapsulated request: request_line (NULL: none), the HTTP header lines http[0..
 * http_n) as c-icap lists them (http[0] is the request line itself), the ICAP request header lines
 * icap[0..icap_n). Either list may be NULL. Header values are matched by exact field name
 * (ps_icapreq_header_value), the first PS_ICAP_HEADERS_MAX lines of each list. Only a
 * well-formed CONNECT reads the query's headers; only a CONNECT counts the decision headers.
 * Never fails: a malformed CONNECT is f->kind PS_ICAP_MALFORMED.
 */
void ps_icap_facts_fill(struct ps_icap_facts *f, const struct ps_icap_config *cfg,
                        const char *request_line, const char *const *http, int http_n,
                        const char *const *icap, int icap_n);

/* Is line index (in the HTTP header list given to ps_icap_facts_fill) one that f->strip names?
 * Never the request line (index 0). */
bool ps_icap_strips(const struct ps_icap_facts *f, int index, const char *line);

/*
 * The module removed f->strip's lines (ok) from the HTTP request, which is now http[0..http_n):
 * rebuilding the list moves its lines, so the facts that point into it are read again. Or it
 * could not (!ok): the plan then answers bump (bad-input), with a 200 carrying "bump" next to
 * whatever was left (ps_icapreq_needs_header). Nothing to do when f->strip is NULL.
 */
void ps_icap_stripped(struct ps_icap_facts *f, const struct ps_icap_config *cfg, bool ok,
                      const char *const *http, int http_n);

/* ---- the plan --------------------------------------------------------------------------- */

#define PS_ICAP_LINE_MAX (PS_ICAPREQ_HEADER_NAME_MAX + PS_ICAPREQ_VALUE_MAX + 8)
#define PS_ICAP_XHEADERS_MAX 4
#define PS_ICAP_ATTRS_MAX 6

/* The ICAP response headers every decided CONNECT gets, 200 or 204. */
#define PS_ICAP_ACTION_HEADER "X-Pinsplice-Action"
#define PS_ICAP_RULE_HEADER "X-Pinsplice-Rule"
/* What the first monitor rule that matched would have done (rules.mode = 'monitor'): only when
 * one matched. */
#define PS_ICAP_MONITOR_HEADER "X-Pinsplice-Monitor"
#define PS_ICAP_MONITOR_RULE_HEADER "X-Pinsplice-Monitor-Rule"

/* One c-icap log attribute (%{name}Sa). */
struct ps_icap_attr {
    const char *name;
    const char *value;
};

struct ps_icap_plan {
    /* 204: the request unmodified; 200: the modified request (f->strip removed, http_header
     * added). */
    int status;
    /* The answer (fail-open applied). */
    enum ps_action action;
    /* For a 200: "DecisionHeader: action", to add to the HTTP request ("" for a 204). */
    char http_header[PS_ICAP_LINE_MAX];
    /* The ICAP response header lines, in order. */
    size_t n_xheaders;
    char xheaders[PS_ICAP_XHEADERS_MAX][PS_ICAP_LINE_MAX];
    /* The log attributes, in order; their values point into the plan or are static. */
    size_t n_attrs;
    struct ps_icap_attr attrs[PS_ICAP_ATTRS_MAX];
    /* The escaped rule label, server name and monitor rule the attributes point to. */
    char rule[PS_ICAPREQ_VALUE_MAX], host[PS_ICAPREQ_VALUE_MAX];
    char monitor_rule[PS_ICAPREQ_VALUE_MAX];
};

/*
 * Decide the request f describes with the rules in snap (NULL: none loaded) and plan the answer.
 * A CONNECT is decided once (ps_decide, then ps_decide_fail_open with cfg->fail_open); a malformed
 * one, or one whose client copies could not be removed, is bump with reason bad-input and never
 * looks at the rules. d gets the decision as answered (for the metrics: its pointers point into
 * snap); p owns copies of everything it says, so snap may be released once d is no longer
 * needed. The ICAP headers are X-Pinsplice-Action, X-Pinsplice-Rule (ps_icapreq_rule_label) and,
 * when a monitor rule matched, X-Pinsplice-Monitor and X-Pinsplice-Monitor-Rule; the attributes
 * pinsplice:monitor, pinsplice:monitor_rule (the same condition), pinsplice:action,
 * pinsplice:rule, pinsplice:reason, pinsplice:host ("-" when no name was decided on). 204 or 200:
 * ps_icapreq_needs_header. f PS_ICAP_OTHER: an empty 204 (d bump, bad-input). Never fails.
 */
void ps_icap_plan(const struct ps_icap_facts *f, const struct ps_icap_config *cfg,
                  const struct ps_snapshot *snap, struct ps_decision *d, struct ps_icap_plan *p);

#endif /* PS_LIB_ICAPREQ_H */
