#ifndef PS_LIB_PROTO_H
#define PS_LIB_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "decide.h"

struct ps_err;

/*
 * The Squid external ACL protocol of ext_pinsplice_acl, without any I/O.
 *
 * Request line (the newline already removed), fields separated by one space, each URL-escaped by
 * Squid, "-" (or an empty field) when absent:
 *     [CHANNEL-ID ]SNI CONNECT-HOST CLIENT-IP USER PROGRAM ACTION
 * ACTION is the acl's argument (%DATA): splice, bump or terminate; "-" means splice.
 *
 * Reply line (with the newline):
 *     [CHANNEL-ID ]OK|ERR pinsplice_action_=<decision> pinsplice_rule_=<"name"|-> message="<text>"
 * OK iff the decision equals ACTION. Values are written in Squid's quoted form: "..." with
 * '"' and '\' escaped by a backslash, CR and LF as \r and \n (Squid's strwordtok() undoes all
 * four); other control characters (which a quoted value cannot carry) become '?'. Bytes >= 0x80
 * (UTF-8) are copied as they are. A value too long for the line is cut at a character boundary,
 * never inside an escape or a UTF-8 sequence, and ends in "...".
 *
 * Concurrency (the channel-ID) is forced by the caller or detected: until a line is well-formed,
 * by its field count (7 = channel-ID first, 6 = none); after that, the mode of the last
 * well-formed line holds (Squid does not change it while a helper runs), so a line that disagrees
 * with it is malformed and answered in that mode. For a line whose mode cannot be told, a first
 * field of 1..20 digits is taken as a channel-ID. Squid crashes on a reply without the channel-ID
 * (and cannot parse one with an ID it did not send), so a malformed line's reply echoes the ID
 * whenever it can be found.
 */

#define PS_PROTO_LINE_MAX 16384 /* longest request line, without the newline */
#define PS_PROTO_FIELD_MAX 4096 /* longest field after unescaping */
#define PS_PROTO_ID_MAX 20      /* most digits in a channel-ID (2^64-1 has 20) */
#define PS_PROTO_NFIELDS 6
#define PS_PROTO_PAD 8 /* room after the copied line: the parser reads it 8 bytes at a time */
#define PS_PROTO_REPLY_MAX 4096 /* an output buffer of this size always holds the whole reply
                                 * (the rule's and a monitor rule's names whole, and the rest) */
#define PS_PROTO_REPLY_MIN 128  /* below this, ps_proto_reply writes nothing */
#define PS_PROTO_TOOLONG_MSG "line too long (over 16384 bytes)" /* the message for such a line */

enum ps_proto_mode {
    PS_PROTO_AUTO = 0,       /* detect per line */
    PS_PROTO_CONCURRENT = 1, /* every line starts with a channel-ID */
    PS_PROTO_SERIAL = 2,     /* no channel-ID */
};

/* Parser state kept between lines. Initialise with ps_proto_init. */
struct ps_proto {
    enum ps_proto_mode forced; /* AUTO, or the mode set by --concurrency / --no-concurrency */
    enum ps_proto_mode last;   /* mode of the last well-formed line; AUTO before any */
};

/* One parsed request. The query's strings point into buf (a copy of the line, each field cut and
 * unescaped where it lies, NUL-terminated); NULL for an absent field. Valid until the struct is
 * reused. */
struct ps_proto_request {
    bool has_id;
    char id[PS_PROTO_ID_MAX + 1]; /* the channel-ID exactly as received, "" when none */
    struct ps_query query;
    enum ps_action action; /* the ACTION field */
    char buf[PS_PROTO_LINE_MAX + PS_PROTO_PAD];
};

/* Set up parser state. mode: AUTO, CONCURRENT or SERIAL (anything else counts as AUTO). */
void ps_proto_init(struct ps_proto *p, enum ps_proto_mode mode);

/*
 * Parse one request line of len bytes (no newline; need not be NUL-terminated). Strict: a field
 * with a '%' not followed by two hex digits, a %00 or raw NUL, a control character (raw or
 * escaped), a field over PS_PROTO_FIELD_MAX bytes, a wrong number of fields, a bad channel-ID or
 * an unknown ACTION is an error. One trailing CR, then one trailing space, are ignored (Squid
 * 5.7 adds a space when the format names %DATA).
 * Returns 0 with req filled and the detected mode remembered in p; or PS_EINVAL / PS_ETOOLONG
 * with err naming the field and the problem (never quoting the input). On error req->has_id and
 * req->id still hold the channel-ID to echo (see above), the rest of req is unspecified.
 * line may be NULL only when len is 0. Never allocates.
 */
int ps_proto_parse(struct ps_proto *p, const char *line, size_t len, struct ps_proto_request *req,
                   struct ps_err *err);

/*
 * The channel-ID to echo for a line that cannot be parsed (e.g. an over-long one, of which only
 * the first len bytes are known): copies it into id and returns true, or sets id to "" and returns
 * false. Uses the forced mode, else the last well-formed line's mode, else "first field all
 * digits". Does not change p.
 */
bool ps_proto_guess_id(const struct ps_proto *p, const char *line, size_t len,
                       char id[PS_PROTO_ID_MAX + 1]);

/*
 * Format a reply into out (size bytes): "[id ]OK|ERR pinsplice_action_=A pinsplice_rule_=R
 * message=M\n", NUL-terminated. id NULL or "" = no channel-ID (it must be digits: anything else is
 * not echoed); rule NULL = "-"; message NULL = "". Long values are cut as described above so the
 * line always fits. Returns the line's length (without the NUL); with size >= PS_PROTO_REPLY_MAX
 * never truncates a rule name the schema allows (PS_RULE_NAME_CHARS characters and
 * PS_RULE_NAME_BYTES bytes, in any mix of escapes and UTF-8) and never fails. size below
 * PS_PROTO_REPLY_MIN (a caller bug): returns 0 and writes only a NUL if size > 0.
 */
size_t ps_proto_reply(const char *id, bool ok, enum ps_action decision, const char *rule,
                      const char *message, char *out, size_t size);

/*
 * The reply to a parsed request given the decision: OK iff d->action == req->action, the rule's
 * name, pinsplice_verify_=CODE when a server check was consulted (d->verified),
 * pinsplice_monitor_=ACTION pinsplice_monitor_rule_="NAME" when a monitor rule matched
 * (d->monitor_rule), and message (or, when NULL, a short text derived from d->reason and
 * d->detail).
 * Same return and guarantees as ps_proto_reply.
 */
size_t ps_proto_reply_decision(const struct ps_proto_request *req, const struct ps_decision *d,
                               const char *message, char *out, size_t size);

/* The same for a request answered later (a splice waiting for its server check): the channel-ID
 * (NULL: none) and the ACTION the request asked about. */
size_t ps_proto_reply_to(const char *id, enum ps_action asked, const struct ps_decision *d,
                         const char *message, char *out, size_t size);

/* The reply to a line that could not be parsed: ERR, decision bump, no rule, the message. */
size_t ps_proto_reply_error(const char *id, const char *message, char *out, size_t size);

/*
 * Parse a decimal unsigned number for an option: only digits, no sign or space, within
 * [min, max]. Returns 0 and *out, or PS_EINVAL naming what and the accepted range; on error *out
 * is unchanged.
 */
int ps_proto_parse_ulong(const char *what, const char *s, unsigned long min, unsigned long max,
                         unsigned long *out, struct ps_err *err);

#endif /* PS_LIB_PROTO_H */
