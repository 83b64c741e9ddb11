#ifndef PS_LIB_DECIDE_H
#define PS_LIB_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "action.h"

struct ps_snapshot;

/* One TLS connection as the host saw it. Every field may be NULL (absent); the strings are raw,
 * as received (after URL-unescaping), not normalised. */
struct ps_query {
    const char *sni;       /* TLS SNI */
    const char *host;      /* CONNECT host, may carry ":port" or be "[v6]:port" */
    const char *client_ip; /* textual IPv4/IPv6 */
    const char *user;      /* proxy user name */
    const char *program;   /* client program name or path, from the endpoint agent */
    time_t now;            /* for rule expiry; 0 means "now" (time(NULL)) */
    bool sni_unseen;       /* the host cannot see the SNI (the ICAP path decides before TLS):
                            * a NULL sni is not "no SNI", and no_sni_action does not apply */
};

/* The answer. Pointers point into the snapshot (or static strings) and stay valid while the caller
 * holds the snapshot. */
struct ps_decision {
    enum ps_action action;
    enum ps_reason reason;
    int64_t rule_id;        /* 0 when no rule decided */
    const char *rule_name;  /* NULL when no rule decided */
    const char *m_domain;   /* the entry that matched in each dimension the rule has, or NULL */
    const char *m_program;
    const char *m_category;
    const char *m_source;
    const char *m_destination;
    const char *detail;     /* static text for BAD_NAME / BAD_INPUT / NO_RULES, else NULL */
    const struct ps_rule *rule; /* the rule that decided (in the snapshot), or NULL */
    /* Monitor mode (rules.mode = 'monitor'): the first monitor rule that matched before the
     * decision was made (a monitor rule never decides), and the action it would have taken.
     * monitor_rule NULL: none matched. */
    const char *monitor_rule;
    int64_t monitor_rule_id;
    enum ps_action monitor_action;
    char server_name[254];  /* the normalised name decided on ("" when none) */
    const char *verified;   /* the server check's outcome when one was consulted ("verified",
                             * "verify-failed", ...: ps_verify_reason), else NULL */
    /* The deciding rule's expiry (Unix time); 0: never, or no rule decided. */
    int64_t expires_at;
    /* The settings in force when the decision was made, as sql/schema.sql spells them
     * ("host", "bump", ...); NULL when no snapshot was given. */
    struct {
        const char *no_sni_action;
        const char *ip_sni_action;
        const char *splice_verify;
    } settings;
};

/*
 * Decide one connection. snap may be NULL (no rules loaded): the answer is BUMP with reason
 * NO_RULES. Never fails, takes no locks, and does not allocate for ASCII names.
 * Semantics (see README "How a decision is made"): rules in ascending position, then id; the first
 * enabled, unexpired rule whose every non-empty dimension matches decides; else default_action.
 */
void ps_decide(const struct ps_snapshot *snap, const struct ps_query *q, struct ps_decision *out);

/*
 * The fail-open policy, the one place for both paths: the helper (--fail-open) and the module
 * (pinsplice.FailOpen) call it on every decision, and behave alike. Fail-open means only "no
 * rules are loaded": with fail_open it turns a PS_REASON_NO_RULES decision into splice (the
 * reason stays no-rules, so the ICAP rule label stays "(no-rules)") and nothing else. Malformed
 * input (bad-name, bad-input) is bumped in every mode; ps_decide checks the input before it
 * looks at the rules, so no rules never hides it.
 * Returns PS_FAIL_OPEN_MSG when it changed d (the helper's reply says it, as message=), NULL
 * when d is unchanged (fail_open off, another reason, or d NULL).
 */
#define PS_FAIL_OPEN_MSG "rules unavailable (fail-open)"
const char *ps_decide_fail_open(struct ps_decision *d, bool fail_open);

/*
 * Server verification (lib/core/verify.h). A splice that only the client's word justifies (a rule
 * matched the SNI's name, or its category, while the CONNECT destination is an IP literal that
 * the client chose) must wait for a check that the server at that address holds a valid
 * certificate for that name. ps_decide_verify_target() says whether d needs one (settings
 * splice_verify) and fills the target; the caller runs the check off its answering thread and
 * gives the verdict to ps_decide_verified(), which turns any failure into bump.
 */
struct ps_verify_trust;
#define PS_VERIFY_TARGET_ADDR 254
struct ps_verify_target {
    char addr[PS_VERIFY_TARGET_ADDR]; /* the IP literal, brackets removed; or, for a rule with
                                       * verify 'always', the CONNECT host name (resolved by the
                                       * check, as Squid would) */
    unsigned port;                 /* the CONNECT port (443 when none was given) */
    const char *sni;               /* the name to verify: d->server_name */
    struct ps_verify_trust *trust; /* borrowed from the snapshot; NULL: the bundle could not be
                                    * read, the check fails (verify-error) */
    unsigned timeout_ms;
};
bool ps_decide_verify_target(const struct ps_snapshot *snap, const struct ps_query *q,
                             const struct ps_decision *d, struct ps_verify_target *t);
/* verdict: an enum ps_verify_verdict. PS_VERIFY_OK leaves d as it is. */
void ps_decide_verified(struct ps_decision *d, int verdict);

#endif /* PS_LIB_DECIDE_H */
