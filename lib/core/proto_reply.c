/* Replies to Squid's external ACL helper protocol: OK/ERR with the decision's annotations,
 * every value quoted the way Squid's strwordtok() reads it back. See proto.h. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "err.h"
#include "proto.h"
#include "proto_int.h"

/* Output cursor: cap excludes the terminating NUL; callers check room before every put. */
struct out {
    char *p;
    size_t n, cap;
};

static void
put(struct out *o, const char *s, size_t len)
{
    if (len > o->cap - o->n)
        len = o->cap - o->n; /* not reached: budgets are computed first */
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

/* Length of the character starting at s[0]: a whole UTF-8 sequence when its continuation bytes
 * are there (a NUL is not one, so this never reads past the string), else 1. */
static size_t
char_len(const unsigned char *s)
{
    size_t want, k;

    if (s[0] < 0xc0)
        return 1;
    want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf8 ? 4 : 1;
    for (k = 1; k < want; k++)
        if ((s[k] & 0xc0) != 0x80)
            break;
    return k;
}

/* How one byte is written inside quotes; returns its length (1 or 2). Squid's strwordtok()
 * turns \" \\ \n \r back into the byte; it has no escape for other control characters. */
static size_t
escape_byte(unsigned char c, char buf[2])
{
    switch (c) {
    case '"':
        buf[0] = '\\';
        buf[1] = '"';
        return 2;
    case '\\':
        buf[0] = '\\';
        buf[1] = '\\';
        return 2;
    case '\n':
        buf[0] = '\\';
        buf[1] = 'n';
        return 2;
    case '\r':
        buf[0] = '\\';
        buf[1] = 'r';
        return 2;
    default:
        buf[0] = ps_proto_is_ctl(c) ? '?' : (char)c;
        return 1;
    }
}

/* Escaped length of the character at s, clen bytes long. */
static size_t
escaped_len(const unsigned char *s, size_t clen)
{
    char tmp[2];

    return clen > 1 ? clen : escape_byte(s[0], tmp);
}

/* Length of the leading run of s that goes inside quotes unchanged (no NUL, '"', '\\' or control
 * character), looking at no more than max bytes. */
static size_t
plain_run(const char *s, size_t max)
{
    size_t i;
    unsigned char c;

    for (i = 0; i < max; i++) {
        c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            break;
    }
    return i;
}

/*
 * Write s as a quoted value in at most budget bytes (budget >= QUOTED_MIN). When the whole value
 * does not fit, cut it at a character boundary and end it with "..." inside the quotes. Every walk
 * stops at the NUL or at the budget.
 */
static void
put_quoted(struct out *o, const char *s, size_t budget)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t need = 2, i, clen, limit;
    char tmp[2];

    /* The usual value (a rule name, a fixed message) needs no escape and fits: one copy. The run
     * stops at the NUL at the latest, so s[i] is never past it. */
    i = plain_run(s, budget - 1);
    if (s[i] == '\0' && i + 2 <= budget) {
        put(o, "\"", 1);
        put(o, s, i);
        put(o, "\"", 1);
        return;
    }
    for (i = 0; u[i] != '\0' && need <= budget; i += clen) {
        clen = char_len(u + i);
        need += escaped_len(u + i, clen);
    }
    limit = need <= budget ? budget : budget - 3; /* keep room for "..." */
    put(o, "\"", 1);
    need = 2;
    for (i = 0; u[i] != '\0'; i += clen) {
        clen = char_len(u + i);
        if (need + escaped_len(u + i, clen) > limit)
            break;
        if (clen > 1)
            put(o, s + i, clen);
        else
            put(o, tmp, escape_byte(u[i], tmp));
        need += escaped_len(u + i, clen);
    }
    if (u[i] != '\0')
        put(o, "...", 3);
    put(o, "\"", 1);
}

struct lit {
    const char *s;
    size_t len;
};
#define LIT(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
#define HEAD(result, action) LIT(result " pinsplice_action_=" action " pinsplice_rule_=")

/* Everything from the result word to the rule's value, by [ok][decision]; a decision out of range
 * is written as bump, the fail-closed one. */
static const struct lit *
reply_head(bool ok, enum ps_action decision)
{
    static const struct lit heads[2][3] = {
        {HEAD("ERR", "bump"), HEAD("ERR", "splice"), HEAD("ERR", "terminate")},
        {HEAD("OK", "bump"), HEAD("OK", "splice"), HEAD("OK", "terminate")},
    };

    switch (decision) {
    case PS_ACTION_SPLICE:
        return &heads[ok][1];
    case PS_ACTION_TERMINATE:
        return &heads[ok][2];
    case PS_ACTION_BUMP:
        break;
    }
    return &heads[ok][0];
}

/* The least a quoted value can take: "..." in quotes. */
#define QUOTED_MIN 5
/* A rule's value never takes more than this, so the message always keeps room. It holds every
 * name the schema accepts whole: a byte is written as at most 2 (an escape) and only ASCII bytes,
 * each one character, are escaped, so a name takes at most BYTES + CHARS, plus the quotes. */
#define RULE_BUDGET (PS_RULE_NAME_BYTES + PS_RULE_NAME_CHARS + 2)

/* A message known to need no escape, with the end of the reply it makes, pre-formatted
 * (test_proto checks these give the same bytes as the text through put_quoted). */
struct msg {
    const char *text;
    struct lit tail; /* " message=\"<text>\"\n" */
};
#define MSG_KEY " message="
#define VERIFY_KEY " pinsplice_verify_="
#define MSG(text)                                                                                  \
    {                                                                                              \
        text, LIT(MSG_KEY "\"" text "\"\n")                                                        \
    }

static const struct msg msg_rule = MSG("rule matched");
static const struct msg msg_default = MSG("no rule matched: default action");
static const struct msg msg_no_rules = MSG("rules unavailable");

/* What the first monitor rule that matched would have done (plan 19), after the verify pair:
 * pinsplice_monitor_=ACTION pinsplice_monitor_rule_="NAME". */
#define MON_KEY " pinsplice_monitor_="
#define MON_RULE_KEY " pinsplice_monitor_rule_="

/* ps_proto_reply, with the message either as text (quoted here) or, when msg is not NULL, as a
 * pre-formatted one (message is then msg->text); mon_rule NULL: no monitor pairs. */
static size_t
reply(const char *id, bool ok, enum ps_action decision, const char *rule, const char *verified,
      const char *mon_action, const char *mon_rule, const char *message, const struct msg *msg,
      char *out, size_t size)
{
    struct out o = {out, 0, size > 0 ? size - 1 : 0};
    const struct lit *head = reply_head(ok, decision);
    size_t room, mark, idlen, vlen;

    if (size < PS_PROTO_REPLY_MIN) {
        if (size > 0)
            out[0] = '\0';
        return 0;
    }
    idlen = id != NULL ? strnlen(id, PS_PROTO_ID_MAX + 1) : 0;
    if (ps_proto_is_id(id, idlen)) {
        put(&o, id, idlen);
        put(&o, " ", 1);
    }
    put(&o, head->s, head->len);
    /* What both values may use: all but " message=" and the newline. The fixed parts take at
     * most 21 + 3 + 18 + 9 + 16 + 9 + 1 = 77 bytes, so room >= PS_PROTO_REPLY_MIN - 1 - 77 = 50,
     * enough for two QUOTED_MIN values. */
    room = o.cap - o.n - (sizeof(MSG_KEY) - 1) - 1;
    /* the server check's outcome, a short token (ps_verify_reason), when it leaves room for the
     * two values; a reply buffer of PS_PROTO_REPLY_MAX always has it */
    vlen = verified != NULL ? strnlen(verified, 32) : 0;
    if (vlen > 0 && room >= sizeof(VERIFY_KEY) - 1 + vlen + 2 * QUOTED_MIN)
        room -= sizeof(VERIFY_KEY) - 1 + vlen;
    else
        vlen = 0;
    mark = o.n;
    if (rule == NULL)
        put(&o, "-", 1);
    else
        put_quoted(&o, rule, room - QUOTED_MIN < RULE_BUDGET ? room - QUOTED_MIN : RULE_BUDGET);
    room -= o.n - mark;
    if (vlen > 0) {
        put(&o, VERIFY_KEY, sizeof(VERIFY_KEY) - 1);
        put(&o, verified, vlen);
    }
    /* The monitor pairs take their keys, the action (at most 9 bytes) and the monitor rule's
     * quoted name, cut like the rule's; the message keeps QUOTED_MIN. Left out when the buffer
     * is too small for them (never with PS_PROTO_REPLY_MAX: both names fit whole). */
    if (mon_rule != NULL && mon_action != NULL &&
        room >= sizeof(MON_KEY) - 1 + 9 + sizeof(MON_RULE_KEY) - 1 + 2 * QUOTED_MIN) {
        size_t budget;
        mark = o.n;
        put(&o, MON_KEY, sizeof(MON_KEY) - 1);
        put(&o, mon_action, strnlen(mon_action, 9));
        put(&o, MON_RULE_KEY, sizeof(MON_RULE_KEY) - 1);
        room -= o.n - mark;
        budget = room - QUOTED_MIN;
        mark = o.n;
        put_quoted(&o, mon_rule, budget < RULE_BUDGET ? budget : RULE_BUDGET);
        room -= o.n - mark;
    }
    /* the pre-formatted end when its quoted value fits the room, as put_quoted would check */
    if (msg != NULL && msg->tail.len - (sizeof(MSG_KEY) - 1) - 1 <= room) {
        put(&o, msg->tail.s, msg->tail.len);
    } else {
        put(&o, MSG_KEY, sizeof(MSG_KEY) - 1);
        put_quoted(&o, message != NULL ? message : "", room);
        put(&o, "\n", 1);
    }
    out[o.n] = '\0';
    return o.n;
}

size_t
ps_proto_reply(const char *id, bool ok, enum ps_action decision, const char *rule,
               const char *message, char *out, size_t size)
{
    return reply(id, ok, decision, rule, NULL, NULL, NULL, message, NULL, out, size);
}

size_t
ps_proto_reply_error(const char *id, const char *message, char *out, size_t size)
{
    return reply(id, false, PS_ACTION_BUMP, NULL, NULL, NULL, NULL, message, NULL, out, size);
}

size_t
ps_proto_reply_decision(const struct ps_proto_request *req, const struct ps_decision *d,
                        const char *message, char *out, size_t size)
{
    return ps_proto_reply_to(req->has_id ? req->id : NULL, req->action, d, message, out, size);
}

size_t
ps_proto_reply_to(const char *id, enum ps_action asked, const struct ps_decision *d,
                  const char *message, char *out, size_t size)
{
    const struct msg *msg = NULL;
    char buf[256];

    if (message == NULL) {
        switch (d->reason) {
        case PS_REASON_RULE:
            msg = &msg_rule;
            break;
        case PS_REASON_DEFAULT:
            msg = &msg_default;
            break;
        case PS_REASON_NO_RULES:
            msg = &msg_no_rules;
            break;
        case PS_REASON_BAD_NAME:
            snprintf(buf, sizeof(buf), "bad server name%s%s", d->detail ? ": " : "",
                     d->detail ? d->detail : "");
            message = buf;
            break;
        case PS_REASON_BAD_INPUT:
            snprintf(buf, sizeof(buf), "bad input%s%s", d->detail ? ": " : "",
                     d->detail ? d->detail : "");
            message = buf;
            break;
        case PS_REASON_POLICY:
            message = d->detail ? d->detail : "policy";
            break;
        case PS_REASON_UNVERIFIED: /* detail: "server not verified: verify-..." */
            message = d->detail ? d->detail : "server not verified";
            break;
        default:
            message = "";
            break;
        }
    }
    return reply(id, d->action == asked, d->action, d->rule_name, d->verified,
                 d->monitor_rule != NULL ? ps_action_str(d->monitor_action) : NULL,
                 d->monitor_rule, msg != NULL ? msg->text : message, msg, out, size);
}
