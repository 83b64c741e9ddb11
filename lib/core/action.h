/*
 * action.h: what a decision can be and why, shared by the rule snapshot (lib/core/snapshot.h),
 * the decision (lib/core/decide.h) and the edges that print them (proto, icapreq, metrics).
 * It depends on nothing, so the snapshot and the decision both include it and neither
 * includes the other's header for these types.
 */
#ifndef PS_LIB_ACTION_H
#define PS_LIB_ACTION_H

enum ps_action {
    PS_ACTION_BUMP = 0, /* decrypt (the fail-closed answer) */
    PS_ACTION_SPLICE = 1,
    PS_ACTION_TERMINATE = 2,
};

/* Why the decision is what it is. */
enum ps_reason {
    PS_REASON_RULE = 0,     /* a rule matched */
    PS_REASON_DEFAULT = 1,  /* no rule matched: settings.default_action */
    PS_REASON_NO_RULES = 2, /* no snapshot (rules unavailable): bump, fail closed */
    PS_REASON_BAD_NAME = 3, /* the SNI or CONNECT host is not a valid name: bump */
    PS_REASON_BAD_INPUT = 4, /* another field (client IP, program) is malformed: bump */
    PS_REASON_POLICY = 6,   /* settings.no_sni_action / ip_sni_action decided (detail says which) */
    PS_REASON_UNVERIFIED = 5, /* a splice whose server failed its check: bump (detail: "server
                               * not verified: " and the reason code, e.g. "verify-failed") */
};

/* The longest rule name sql/schema.sql accepts (rules.name CHECK: characters as SQLite's length()
 * counts them, and bytes). Replies (lib/core/proto.h) and ICAP headers (lib/core/icapreq.h) are sized
 * from these so no accepted name is ever cut; test_proto loads names at both limits through the
 * real schema. */
#define PS_RULE_NAME_CHARS 200
#define PS_RULE_NAME_BYTES 800

/* "splice", "bump", "terminate". */
const char *ps_action_str(enum ps_action a);
/* Parse one of those (exact, lower case). Returns 0 or PS_EINVAL. */
int ps_action_parse(const char *s, enum ps_action *out);
/* "rule", "default", "no-rules", "bad-name", "bad-input", "unverified", "policy". */
const char *ps_reason_str(enum ps_reason r);

#endif /* PS_LIB_ACTION_H */
