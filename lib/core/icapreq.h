#ifndef PS_LIB_ICAPREQ_H
#define PS_LIB_ICAPREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "decide.h"

struct ps_err;

/*
 * What the c-icap service (module/srv_pinsplice.c) needs to turn one encapsulated HTTP request
 * into a ps_query and a decision back into header text. Nothing here knows c-icap: the module
 * passes plain strings, so every rule below is unit-tested in tests/unit/test_icapreq.c.
 */

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

#endif /* PS_LIB_ICAPREQ_H */
