/* fuzz_proto: the helper's request line parser and its reply writer (lib/core/proto.c), the input
 * ext_pinsplice_acl reads from Squid. Input: request lines separated by '\n', parsed in order
 * with one parser state (the concurrency mode is remembered between lines); the first byte picks
 * the forced mode. Invariants: every line gets exactly one well-formed reply line that echoes the
 * channel-ID whenever the request had one; a parsed request has only well-formed fields; an
 * unparsable line is answered ERR with decision bump; a rule name within the schema's limits
 * comes back whole through Squid's unquoting. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "decide.h"
#include "err.h"
#include "proto.h"
#include "reply_check.h"

static char reply[PS_PROTO_REPLY_MAX];
static char decoded[PS_PROTO_REPLY_MAX];
static struct ps_proto_request req;

static void
check_field(const char *what, const char *s)
{
    size_t i;

    if (s == NULL)
        return;
    fuzz_check(s[0] != '\0', "%s parsed as an empty string, not absent", what);
    for (i = 0; s[i] != '\0'; i++)
        fuzz_check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "%s has a control byte", what);
    fuzz_check(i <= PS_PROTO_FIELD_MAX, "%s longer than PS_PROTO_FIELD_MAX", what);
}

static void
one_line(struct ps_proto *p, const char *line, size_t len)
{
    struct ps_err err = {0};
    struct ps_decision d;
    bool absent;
    size_t n;
    int rc;

    rc = ps_proto_parse(p, line, len, &req, &err);
    if (rc == 0) {
        fuzz_check(req.has_id == (req.id[0] != '\0'), "has_id disagrees with id");
        if (p->forced == PS_PROTO_CONCURRENT)
            fuzz_check(req.has_id, "forced concurrency, parsed without a channel-ID");
        if (p->forced == PS_PROTO_SERIAL)
            fuzz_check(!req.has_id, "forced serial, parsed a channel-ID");
        fuzz_check(req.action == PS_ACTION_SPLICE || req.action == PS_ACTION_BUMP ||
                       req.action == PS_ACTION_TERMINATE,
                   "action %d", (int)req.action);
        check_field("SNI", req.query.sni);
        check_field("CONNECT-HOST", req.query.host);
        check_field("CLIENT-IP", req.query.client_ip);
        check_field("USER", req.query.user);
        check_field("PROGRAM", req.query.program);
        /* No rules: the decision is bump (no-rules), or bump for malformed input. */
        ps_decide(NULL, &req.query, &d);
        fuzz_check(d.action == PS_ACTION_BUMP, "no rules loaded, decided %d", (int)d.action);
        n = ps_proto_reply_decision(&req, &d, NULL, reply, sizeof(reply));
        reply_check(reply, n, req.has_id ? req.id : NULL, decoded, &absent);
        fuzz_check(strncmp(reply + (req.has_id ? strlen(req.id) + 1 : 0),
                           req.action == PS_ACTION_BUMP ? "OK " : "ERR ", 3) == 0,
                   "OK must mean decision == ACTION: %s", reply);
    } else {
        fuzz_check(rc == PS_EINVAL || rc == PS_ETOOLONG, "parse returned %d", rc);
        fuzz_check(err.msg[0] != '\0', "an error without a message");
        n = ps_proto_reply_error(req.has_id ? req.id : NULL, err.msg, reply, sizeof(reply));
        reply_check(reply, n, req.has_id ? req.id : NULL, decoded, &absent);
        fuzz_check(strstr(reply, "ERR pinsplice_action_=bump pinsplice_rule_=- ") != NULL,
                   "an unparsable line not answered ERR/bump: %s", reply);
    }
}

/* A rule name the schema allows (<= PS_RULE_NAME_CHARS characters, <= PS_RULE_NAME_BYTES bytes)
 * is never cut (lib/core/proto.h): Squid's unquoting gives it back, control bytes other than CR and LF
 * read as '?'. A longer one is cut and ends in "...". */
static void
rule_name(const uint8_t *data, size_t size)
{
    char rule[PS_RULE_NAME_BYTES * 2 + 1], want[sizeof(rule)];
    size_t n = size < sizeof(rule) - 1 ? size : sizeof(rule) - 1, i, chars = 0, len;
    bool absent;

    memcpy(rule, data, n);
    rule[n] = '\0';
    len = strlen(rule);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)rule[i];
        chars += (c & 0xc0) != 0x80;
        want[i] = (c < 0x20 && c != '\r' && c != '\n') || c == 0x7f ? '?' : (char)c;
    }
    want[len] = '\0';
    n = ps_proto_reply("12", true, PS_ACTION_SPLICE, rule, "message", reply, sizeof(reply));
    reply_check(reply, n, "12", decoded, &absent);
    fuzz_check(!absent, "a rule given, '-' written");
    if (len <= PS_RULE_NAME_BYTES && chars <= PS_RULE_NAME_CHARS)
        fuzz_check(strcmp(decoded, want) == 0, "rule name of %zu bytes / %zu chars cut: %s", len,
                   chars, reply);
    else if (strcmp(decoded, want) != 0)
        fuzz_check(strlen(decoded) >= 3 && strcmp(decoded + strlen(decoded) - 3, "...") == 0,
                   "a cut rule name does not end in '...': %s", reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ps_proto_mode modes[4] = {PS_PROTO_AUTO, PS_PROTO_CONCURRENT,
                                                PS_PROTO_SERIAL, PS_PROTO_AUTO};
    struct ps_proto p;
    const char *s, *end, *nl;

    if (size == 0)
        return 0;
    ps_proto_init(&p, modes[data[0] & 3]);
    rule_name(data + 1, size - 1);
    s = (const char *)data + 1;
    end = (const char *)data + size;
    while (s <= end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL)
            nl = end;
        one_line(&p, s, (size_t)(nl - s));
        s = nl + 1;
    }
    return 0;
}
