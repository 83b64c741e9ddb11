#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"
#include "err.h"
#include "fixture.h"
#include "snapshot.h"
#include "verify.h"

/* Rules in the order they are tried (position), each probing one part of the semantics. */
static const char rules_sql[] =
    "INSERT INTO categories(name) VALUES ('Finance');"
    "INSERT INTO category_domains(category, domain) VALUES ('Finance', 'bank.test');"
    "INSERT INTO rules(id, name, action, position) VALUES"
    " (1, 'bump the admin console', 'bump', 10),"
    " (2, 'zoom', 'splice', 20),"
    " (3, 'exact only', 'splice', 30),"
    " (4, 'zoom app', 'splice', 5),"
    " (5, 'finance', 'splice', 40),"
    " (6, 'alice', 'splice', 50),"
    " (7, 'lab net', 'terminate', 60),"
    " (8, 'expired', 'splice', 70),"
    " (9, 'empty rule', 'splice', 1),"
    " (10, 'disabled', 'splice', 2),"
    " (11, 'tie b', 'terminate', 80),"
    " (12, 'tie a', 'splice', 80);"
    "UPDATE rules SET enabled = 0 WHERE id = 10;"
    "UPDATE rules SET expires_at = '2020-01-01 00:00:00' WHERE id = 8;"
    "INSERT INTO rule_domains(rule_id, domain, exact) VALUES"
    " (1, 'admin.zoom.us', 0), (2, 'zoom.us', 0), (3, 'exact.test', 1),"
    " (4, 'zoom.us', 0), (8, 'expired.test', 0), (10, 'disabled.test', 0),"
    " (11, 'tie.test', 0), (12, 'tie.test', 0);"
    "INSERT INTO rule_programs(rule_id, os, program) VALUES (4, 'windows', 'Zoom.exe');"
    "INSERT INTO rule_categories(rule_id, category) VALUES (5, 'Finance');"
    "INSERT INTO rule_sources(rule_id, source) VALUES (6, 'user:alice'), (7, '192.0.2.0/24');"
    "UPDATE settings SET value = '10.0.0.0/8, 2001:db8::/32' WHERE key = 'program_trusted_sources';";

struct dcase {
    const char *sni, *host, *ip, *user, *program;
    enum ps_action action;
    const char *rule; /* NULL: no rule */
    enum ps_reason reason;
};

#define S PS_ACTION_SPLICE
#define B PS_ACTION_BUMP
#define T PS_ACTION_TERMINATE

static const struct dcase cases[] = {
    /* label boundaries */
    {"www.zoom.us", NULL, NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"zoom.us", NULL, NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"ZOOM.US.", NULL, NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"evilzoom.us", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"zoom.us.evil.com", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"us", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    /* first match in position order: the narrower bump rule comes first */
    {"admin.zoom.us", NULL, NULL, NULL, NULL, B, "bump the admin console", PS_REASON_RULE},
    {"x.admin.zoom.us", NULL, NULL, NULL, NULL, B, "bump the admin console", PS_REASON_RULE},
    /* exact */
    {"exact.test", NULL, NULL, NULL, NULL, S, "exact only", PS_REASON_RULE},
    {"www.exact.test", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    /* SNI versus CONNECT host */
    {NULL, "zoom.us:443", NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"www.zoom.us", "www.zoom.us:443", NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"www.zoom.us", "zoom.us:443", NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {"www.zoom.us", "evil.test:443", NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"evil.test", "zoom.us:443", NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"www.zoom.us", "127.0.0.1:443", NULL, NULL, NULL, S, "zoom", PS_REASON_RULE},
    {NULL, "127.0.0.1:443", NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {NULL, "[::1]:443", NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"1.2.3.4", "zoom.us:443", NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    /* programs count only from trusted sources */
    {"zoom.us", NULL, "10.1.2.3", NULL, "Zoom.exe", S, "zoom app", PS_REASON_RULE},
    {"zoom.us", NULL, "10.1.2.3", NULL, "C:\\Zoom\\ZOOM.EXE", S, "zoom app", PS_REASON_RULE},
    {"zoom.us", NULL, "2001:db8::7", NULL, "zoom.exe", S, "zoom app", PS_REASON_RULE},
    {"zoom.us", NULL, "192.168.1.1", NULL, "Zoom.exe", S, "zoom", PS_REASON_RULE},
    {"zoom.us", NULL, "10.1.2.3", NULL, "notzoom.exe", S, "zoom", PS_REASON_RULE},
    {"evil.test", NULL, "10.1.2.3", NULL, "Zoom.exe", B, NULL, PS_REASON_DEFAULT},
    /* categories, sources */
    {"www.bank.test", NULL, NULL, NULL, NULL, S, "finance", PS_REASON_RULE},
    {"bank.test.evil", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"any.test", NULL, "10.9.9.9", "alice", NULL, S, "alice", PS_REASON_RULE},
    {"any.test", NULL, "10.9.9.9", "Alice", NULL, B, NULL, PS_REASON_DEFAULT},
    {"any.test", NULL, "192.0.2.55", NULL, NULL, T, "lab net", PS_REASON_RULE},
    {NULL, NULL, "192.0.2.55", NULL, NULL, T, "lab net", PS_REASON_RULE},
    /* expired, disabled, empty rules never match */
    {"expired.test", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    {"disabled.test", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
    /* same position: lower id first */
    {"tie.test", NULL, NULL, NULL, NULL, T, "tie b", PS_REASON_RULE},
    /* bad input fails closed */
    {"zoom..us", NULL, NULL, NULL, NULL, B, NULL, PS_REASON_BAD_NAME},
    {"zoom.us", "zoom.us:99999", NULL, NULL, NULL, B, NULL, PS_REASON_BAD_NAME},
    {"zoom.us", NULL, "not-an-ip", NULL, NULL, B, NULL, PS_REASON_BAD_INPUT},
    {"zoom.us", NULL, "10.1.2.3", NULL, "a\x01" "b", B, NULL, PS_REASON_BAD_INPUT},
    {NULL, NULL, NULL, NULL, NULL, B, NULL, PS_REASON_DEFAULT},
};

static void
test_decide_table(void **state)
{
    struct ps_snapshot *s = fx_snapshot(rules_sql, 0);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dcase *c = &cases[i];
        struct ps_query q = {c->sni, c->host, c->ip, c->user, c->program, 0, false};
        struct ps_decision d;
        ps_decide(s, &q, &d);
        if (d.action != c->action || d.reason != c->reason ||
            (c->rule == NULL) != (d.rule_name == NULL) ||
            (c->rule != NULL && strcmp(c->rule, d.rule_name) != 0))
            fail_msg("case %zu sni=%s host=%s ip=%s prog=%s: got %s/%s/%s, want %s/%s/%s", i,
                     c->sni ? c->sni : "-", c->host ? c->host : "-", c->ip ? c->ip : "-",
                     c->program ? c->program : "-", ps_action_str(d.action),
                     ps_reason_str(d.reason), d.rule_name ? d.rule_name : "-",
                     ps_action_str(c->action), ps_reason_str(c->reason), c->rule ? c->rule : "-");
    }
    ps_snapshot_release(s);
}

static void
test_matched_values(void **state)
{
    struct ps_snapshot *s = fx_snapshot(rules_sql, 0);
    struct ps_query q = {"meet.zoom.us", NULL, "10.0.0.1", NULL, "/opt/Zoom.exe", 0, false};
    struct ps_decision d;

    (void)state;
    ps_decide(s, &q, &d);
    assert_string_equal(d.rule_name, "zoom app");
    assert_int_equal(d.rule_id, 4);
    assert_string_equal(d.m_domain, "zoom.us");
    assert_string_equal(d.m_program, "zoom.exe");
    assert_null(d.m_category);
    assert_string_equal(d.server_name, "meet.zoom.us");
    ps_snapshot_release(s);
}

static void
test_expiry_uses_now(void **state)
{
    struct ps_snapshot *s = fx_snapshot(rules_sql, 0);
    struct ps_query q = {"expired.test", NULL, NULL, NULL, NULL, 1000000000, false}; /* 2001 */
    struct ps_decision d;

    (void)state;
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_SPLICE);
    assert_string_equal(d.rule_name, "expired");
    assert_int_equal(d.expires_at, 1577836800); /* the decision carries the rule's expiry */
    assert_string_equal(d.settings.no_sni_action, "host");
    assert_string_equal(d.settings.ip_sni_action, "ignore");
    assert_string_equal(d.settings.splice_verify, "ip");
    q.now = 1577836800; /* 2020-01-01 00:00:00 UTC: expired from this second on */
    ps_decide(s, &q, &d);
    assert_int_equal(d.reason, PS_REASON_DEFAULT);
    assert_int_equal(d.expires_at, 0); /* no rule decided */
    /* a rule that never expires */
    q.sni = "www.zoom.us";
    ps_decide(s, &q, &d);
    assert_string_equal(d.rule_name, "zoom");
    assert_int_equal(d.expires_at, 0);
    ps_snapshot_release(s);
}

static void
test_no_rules_fails_closed(void **state)
{
    struct ps_query q = {"www.zoom.us", NULL, NULL, NULL, NULL, 0, false};
    struct ps_decision d;

    (void)state;
    ps_decide(NULL, &q, &d);
    assert_int_equal(d.action, PS_ACTION_BUMP);
    assert_int_equal(d.reason, PS_REASON_NO_RULES);
    assert_null(d.settings.no_sni_action); /* no snapshot: no settings either */
}

/* A snapshot with no rule at all (issue 12 item 11): the builder used to call qsort(NULL, 0, ...),
 * undefined behaviour that aborts the --enable-ubsan build before any answer. It must build, and
 * decide the default (bump). */
static void
test_empty_builder(void **state)
{
    struct ps_builder *b = ps_builder_new();
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};
    struct ps_query q = {"www.zoom.us", NULL, NULL, NULL, NULL, 0, false};
    struct ps_decision d;

    (void)state;
    assert_non_null(b);
    assert_int_equal(ps_builder_finish(b, &s, &err), 0);
    assert_non_null(s);
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_BUMP);
    assert_int_equal(d.reason, PS_REASON_DEFAULT);
    ps_snapshot_release(s); /* the builder was consumed by finish */
}

/* The fail-open policy: one function for helper and module; it changes d in place and says so
 * with the helper's message. Only "no rules" with fail_open is turned into splice. */
static void
test_fail_open_policy(void **state)
{
    static const struct {
        enum ps_action action;
        enum ps_reason reason;
        bool fail_open;
        enum ps_action want;
    } fcases[] = {
        {PS_ACTION_SPLICE, PS_REASON_RULE, false, PS_ACTION_SPLICE},
        {PS_ACTION_TERMINATE, PS_REASON_RULE, true, PS_ACTION_TERMINATE},
        {PS_ACTION_BUMP, PS_REASON_NO_RULES, false, PS_ACTION_BUMP},
        {PS_ACTION_BUMP, PS_REASON_NO_RULES, true, PS_ACTION_SPLICE},
        {PS_ACTION_BUMP, PS_REASON_BAD_NAME, true, PS_ACTION_BUMP},
        {PS_ACTION_BUMP, PS_REASON_BAD_INPUT, true, PS_ACTION_BUMP},
        {PS_ACTION_BUMP, PS_REASON_DEFAULT, true, PS_ACTION_BUMP},
    };
    struct ps_decision d;
    const char *msg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
        memset(&d, 0, sizeof(d));
        d.action = fcases[i].action;
        d.reason = fcases[i].reason;
        msg = ps_decide_fail_open(&d, fcases[i].fail_open);
        assert_int_equal(d.action, fcases[i].want);
        assert_int_equal(d.reason, fcases[i].reason); /* the ICAP label stays "(no-rules)" */
        if (fcases[i].want != fcases[i].action)
            assert_string_equal(msg, "rules unavailable (fail-open)");
        else
            assert_null(msg);
    }
    assert_null(ps_decide_fail_open(NULL, true));
}

/* Issue 12 item 3: malformed input is found with no rules loaded too (so fail-open cannot splice
 * it), and a bad client IP is found when no rule has sources. */
static void
test_malformed_without_rules(void **state)
{
    static const struct {
        struct ps_query q;
        enum ps_reason reason;
    } mcases[] = {
        {{"zoom..us", NULL, NULL, NULL, NULL, 0, false}, PS_REASON_BAD_NAME},
        {{NULL, "[zoom.us]:443", NULL, NULL, NULL, 0, false}, PS_REASON_BAD_NAME},
        {{"www.zoom.us", NULL, "10.0.0.999", NULL, NULL, 0, false}, PS_REASON_BAD_INPUT},
        {{"www.zoom.us", NULL, "not-an-ip", NULL, NULL, 0, false}, PS_REASON_BAD_INPUT},
        {{"www.zoom.us", NULL, NULL, NULL, "a/", 0, false}, PS_REASON_BAD_INPUT},
        {{"www.zoom.us", NULL, "10.0.0.1", NULL, "zoom.exe", 0, false}, PS_REASON_NO_RULES},
    };
    struct ps_snapshot *s = fx_snapshot(NULL, 0); /* no rule at all: no sources either */
    struct ps_decision d;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
        ps_decide(NULL, &mcases[i].q, &d);
        if (d.reason != mcases[i].reason)
            fail_msg("case %zu: reason %s, want %s", i, ps_reason_str(d.reason),
                     ps_reason_str(mcases[i].reason));
        ps_decide_fail_open(&d, true);
        assert_int_equal(d.action, mcases[i].reason == PS_REASON_NO_RULES ? PS_ACTION_SPLICE
                                                                          : PS_ACTION_BUMP);
        ps_decide(s, &mcases[i].q, &d);
        assert_int_equal(d.action, PS_ACTION_BUMP);
        if (mcases[i].reason != PS_REASON_NO_RULES)
            assert_int_equal(d.reason, mcases[i].reason);
    }
    ps_snapshot_release(s);
}

static void
test_default_splice_not_for_bad_names(void **state)
{
    struct ps_snapshot *s =
        fx_snapshot("UPDATE settings SET value = 'splice' WHERE key = 'default_action';", 0);
    struct ps_query q = {"ok.test", NULL, NULL, NULL, NULL, 0, false};
    struct ps_decision d;

    (void)state;
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_SPLICE);
    assert_int_equal(d.reason, PS_REASON_DEFAULT);
    q.sni = "bad name";
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_BUMP);
    assert_int_equal(d.reason, PS_REASON_BAD_NAME);
    ps_snapshot_release(s);
}

/* settings.no_sni_action and ip_sni_action (issue 15): what a connection without a usable SNI
 * gets, in every combination, decided before any rule. */
static void
test_sni_policies(void **state)
{
    static const struct {
        const char *no_sni, *ip_sni, *sni, *host;
        enum ps_action action;
        enum ps_reason reason;
    } c[] = {
        {"host", "ignore", NULL, "www.zoom.us:443", S, PS_REASON_RULE},
        {"bump", "ignore", NULL, "www.zoom.us:443", B, PS_REASON_POLICY},
        {"terminate", "ignore", NULL, "www.zoom.us:443", T, PS_REASON_POLICY},
        /* an IP-literal SNI names nothing by default: the host does not count either */
        {"host", "ignore", "10.1.2.3", "www.zoom.us:443", B, PS_REASON_DEFAULT},
        {"host", "host", "10.1.2.3", "www.zoom.us:443", S, PS_REASON_RULE},
        {"bump", "host", "10.1.2.3", "www.zoom.us:443", B, PS_REASON_POLICY},
        {"host", "bump", "10.1.2.3", "www.zoom.us:443", B, PS_REASON_POLICY},
        {"host", "terminate", "[2001:db8::1]", "www.zoom.us:443", T, PS_REASON_POLICY},
        /* a name SNI is untouched by both */
        {"terminate", "terminate", "www.zoom.us", "www.zoom.us:443", S, PS_REASON_RULE},
        /* a malformed SNI stays bad-name whatever the policy */
        {"terminate", "terminate", "bad name", NULL, B, PS_REASON_BAD_NAME},
    };
    char sql[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ps_snapshot *s;
        struct ps_query q = {c[i].sni, c[i].host, NULL, NULL, NULL, 0, false};
        struct ps_decision d;

        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO settings(key, value) VALUES ('no_sni_action', '%s'),"
                 " ('ip_sni_action', '%s');",
                 c[i].no_sni, c[i].ip_sni);
        s = fx_snapshot(sql, 1);
        assert_non_null(s);
        ps_decide(s, &q, &d);
        if (d.action != c[i].action || d.reason != c[i].reason)
            fail_msg("case %zu (%s/%s, sni %s): got %s/%s", i, c[i].no_sni, c[i].ip_sni,
                     c[i].sni ? c[i].sni : "-", ps_action_str(d.action), ps_reason_str(d.reason));
        if (c[i].sni == NULL) { /* the ICAP path: no SNI seen is not "no SNI" */
            q.sni_unseen = true;
            ps_decide(s, &q, &d);
            assert_int_equal(d.action, S);
            assert_int_equal(d.reason, PS_REASON_RULE);
        }
        ps_snapshot_release(s);
    }
}

/* Which splices wait for a server check (issue 13): only a name rule's, to an IP literal. */
static void
test_verify_target(void **state)
{
    static const struct {
        const char *sql, *sni, *host;
        int needed;
        const char *addr;
        unsigned port;
    } c[] = {
        {NULL, "www.zoom.us", "203.0.113.9:8443", 1, "203.0.113.9", 8443},
        {NULL, "www.zoom.us", "[2001:db8::5]", 1, "2001:db8::5", 443},
        {NULL, "www.zoom.us", "www.zoom.us:443", 0, NULL, 0}, /* a name CONNECT */
        {NULL, "www.example.com", "203.0.113.9:443", 0, NULL, 0}, /* bumped anyway */
        {NULL, NULL, "203.0.113.9:443", 0, NULL, 0},               /* no name: no splice */
        {"INSERT OR REPLACE INTO settings(key, value) VALUES ('splice_verify', 'off');",
         "www.zoom.us", "203.0.113.9:443", 0, NULL, 0},
        /* always: a name CONNECT is checked too, at the name (resolved on the checking thread) */
        {"INSERT OR REPLACE INTO settings(key, value) VALUES ('splice_verify', 'always');",
         "www.zoom.us", "www.zoom.us:8443", 1, "www.zoom.us", 8443},
        {"INSERT OR REPLACE INTO settings(key, value) VALUES ('splice_verify', 'always');",
         "www.zoom.us", "203.0.113.9:443", 1, "203.0.113.9", 443},
        /* a rule's own mode wins over the global one */
        {"INSERT OR REPLACE INTO settings(key, value) VALUES ('splice_verify', 'always');"
         "UPDATE rules SET verify = 'ip' WHERE name = 'Bypass Zoom - Pre-configured';",
         "www.zoom.us", "www.zoom.us:443", 0, NULL, 0},
        /* the default action splices: no name rule decided, nothing to verify */
        {"UPDATE settings SET value = 'splice' WHERE key = 'default_action';", "other.test",
         "203.0.113.9:443", 0, NULL, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ps_snapshot *s = fx_snapshot(c[i].sql, 1);
        struct ps_query q = {c[i].sni, c[i].host, NULL, NULL, NULL, 0, false};
        struct ps_decision d;
        struct ps_verify_target t;
        bool needed;

        assert_non_null(s);
        ps_decide(s, &q, &d);
        needed = ps_decide_verify_target(s, &q, &d, &t);
        if ((int)needed != c[i].needed)
            fail_msg("case %zu: needed %d", i, needed);
        if (needed) {
            assert_string_equal(t.addr, c[i].addr);
            assert_int_equal(t.port, c[i].port);
            assert_string_equal(t.sni, "www.zoom.us");
            ps_decide_verified(&d, 1 /* PS_VERIFY_FAILED */);
            assert_int_equal(d.action, PS_ACTION_BUMP);
            assert_int_equal(d.reason, PS_REASON_UNVERIFIED);
            assert_string_equal(d.detail, "server not verified: verify-failed");
        }
        ps_snapshot_release(s);
    }
}

/* Monitor mode (issue 14): a monitor rule never changes an answer; the first one that matched is
 * reported beside the decision, with its action. */
static void
test_monitor(void **state)
{
    static const char sql[] =
        "INSERT INTO rules(id, name, action, position, mode) VALUES"
        " (1, 'watch zoom', 'splice', 10, 'monitor'),"
        " (2, 'watch zoom too', 'terminate', 15, 'monitor'),"
        " (3, 'bump admin', 'bump', 20, 'enforce'),"
        " (4, 'watch lab', 'splice', 30, 'monitor');"
        "INSERT INTO rule_domains(rule_id, domain) VALUES (1, 'zoom.us'), (2, 'zoom.us'),"
        " (3, 'admin.zoom.us'), (4, 'lab.test');"
        "INSERT INTO rule_sources(rule_id, source) VALUES (4, '10.0.0.0/8');";
    static const struct {
        const char *sni, *ip;
        enum ps_action action;
        const char *rule, *mon;
        enum ps_action mon_action;
    } c[] = {
        {"www.zoom.us", NULL, B, NULL, "watch zoom", S},     /* default bump, monitor noted */
        {"admin.zoom.us", NULL, B, "bump admin", "watch zoom", S},
        {"lab.test", "10.1.2.3", B, NULL, "watch lab", S},
        {"lab.test", "192.0.2.1", B, NULL, NULL, B},           /* source does not match */
        {"other.test", NULL, B, NULL, NULL, B},
    };
    struct ps_snapshot *s = fx_snapshot(sql, 0);
    size_t i;

    (void)state;
    assert_non_null(s);
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ps_query q = {c[i].sni, NULL, c[i].ip, NULL, NULL, 0, false};
        struct ps_decision d;
        ps_decide(s, &q, &d);
        if (d.action != c[i].action || (c[i].rule == NULL) != (d.rule_name == NULL) ||
            (c[i].rule && strcmp(c[i].rule, d.rule_name) != 0) ||
            (c[i].mon == NULL) != (d.monitor_rule == NULL) ||
            (c[i].mon && (strcmp(c[i].mon, d.monitor_rule) != 0 || d.monitor_action != c[i].mon_action)))
            fail_msg("case %zu (%s): action %s rule %s monitor %s/%s", i, c[i].sni,
                     ps_action_str(d.action), d.rule_name ? d.rule_name : "-",
                     d.monitor_rule ? d.monitor_rule : "-", ps_action_str(d.monitor_action));
    }
    ps_snapshot_release(s);
}

/* Destination ranges (issue 15): ANDed with the rule's other entries, matched against an
 * IP-literal CONNECT host only (never a name CONNECT), IPv4 and IPv6. */
static void
test_destinations(void **state)
{
    static const char sql[] =
        "INSERT INTO rules(id, name, action, position) VALUES"
        " (1, 'anydesk', 'splice', 10), (2, 'zoom media', 'splice', 20),"
        " (3, 'v6 app', 'terminate', 30), (4, 'lab to range', 'splice', 40);"
        "INSERT INTO rule_destinations(rule_id, cidr) VALUES (1, '192.0.2.0/24'),"
        " (2, '198.51.100.0/24'), (3, '2001:db8:5::/48'), (4, '203.0.113.0/24');"
        "INSERT INTO rule_domains(rule_id, domain) VALUES (2, 'zoom.us');"
        "INSERT INTO rule_sources(rule_id, source) VALUES (4, '10.0.0.0/8');";
    static const struct {
        const char *sni, *host, *ip;
        enum ps_action action;
        const char *rule, *dest;
    } c[] = {
        {NULL, "192.0.2.7:443", NULL, S, "anydesk", "192.0.2.0/24"},
        {NULL, "192.0.3.7:443", NULL, B, NULL, NULL},
        {"anything.test", "192.0.2.7:443", NULL, S, "anydesk", "192.0.2.0/24"},
        {NULL, "anydesk.test:443", NULL, B, NULL, NULL},          /* a name CONNECT: never */
        {"zoom.us", "198.51.100.9:443", NULL, S, "zoom media", "198.51.100.0/24"},
        {"zoom.us", "203.0.113.9:443", NULL, B, NULL, NULL},       /* SNI ok, address not */
        {"zoom.us", "zoom.us:443", NULL, B, NULL, NULL},           /* name CONNECT */
        {"other.test", "198.51.100.9:443", NULL, B, NULL, NULL},   /* address ok, SNI not */
        {NULL, "[2001:db8:5::1]:443", NULL, T, "v6 app", "2001:db8:5::/48"},
        {NULL, "[2001:db8:6::1]:443", NULL, B, NULL, NULL},
        {NULL, "203.0.113.5:443", "10.1.1.1", S, "lab to range", "203.0.113.0/24"},
        {NULL, "203.0.113.5:443", "192.168.1.1", B, NULL, NULL},
    };
    struct ps_snapshot *s = fx_snapshot(sql, 0);
    struct ps_snapshot_stats st;
    size_t i;

    (void)state;
    assert_non_null(s);
    ps_snapshot_stats(s, &st);
    assert_int_equal(st.destinations, 4);
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ps_query q = {c[i].sni, c[i].host, c[i].ip, NULL, NULL, 0, false};
        struct ps_decision d;
        ps_decide(s, &q, &d);
        if (d.action != c[i].action || (c[i].rule == NULL) != (d.rule_name == NULL) ||
            (c[i].rule && strcmp(c[i].rule, d.rule_name) != 0) ||
            (c[i].dest == NULL) != (d.m_destination == NULL) ||
            (c[i].dest && strcmp(c[i].dest, d.m_destination) != 0))
            fail_msg("case %zu (%s %s): action %s rule %s destination %s", i,
                     c[i].sni ? c[i].sni : "-", c[i].host, ps_action_str(d.action),
                     d.rule_name ? d.rule_name : "-", d.m_destination ? d.m_destination : "-");
    }
    ps_snapshot_release(s);
}

/* Per-rule verify (issue 13): the rule's mode overrides splice_verify; a destination rule with
 * an SNI is checked too; a rule with pins or its own CA file has its own trust. */
static void
test_rule_verify(void **state)
{
    static const struct {
        const char *sql, *sni, *host;
        int needed;
    } c[] = {
        {"UPDATE rules SET verify = 'off' WHERE name = 'Bypass Zoom - Pre-configured';",
         "www.zoom.us", "203.0.113.9:443", 0},
        {"INSERT OR REPLACE INTO settings(key, value) VALUES ('splice_verify', 'off');"
         "UPDATE rules SET verify = 'ip' WHERE name = 'Bypass Zoom - Pre-configured';",
         "www.zoom.us", "203.0.113.9:443", 1},
        {"UPDATE rules SET verify = 'always' WHERE name = 'Bypass Zoom - Pre-configured';",
         "www.zoom.us", "www.zoom.us:443", 1},
        {"UPDATE rules SET verify = 'ip' WHERE name = 'Bypass Zoom - Pre-configured';",
         "www.zoom.us", "www.zoom.us:443", 0},
        {"INSERT INTO rules(id, name) VALUES (99, 'range');"
         "INSERT INTO rule_destinations(rule_id, cidr) VALUES (99, '203.0.113.0/24');",
         "app.test", "203.0.113.9:443", 1},
        {"INSERT INTO rules(id, name) VALUES (99, 'range');"
         "INSERT INTO rule_destinations(rule_id, cidr) VALUES (99, '203.0.113.0/24');",
         NULL, "203.0.113.9:443", 0}, /* no name to check: the admin's range decides */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ps_snapshot *s = fx_snapshot(c[i].sql, 1);
        struct ps_query q = {c[i].sni, c[i].host, NULL, NULL, NULL, 0, false};
        struct ps_decision d;
        struct ps_verify_target t;
        bool needed;

        assert_non_null(s);
        ps_decide(s, &q, &d);
        assert_int_equal(d.action, PS_ACTION_SPLICE);
        needed = ps_decide_verify_target(s, &q, &d, &t);
        if ((int)needed != c[i].needed)
            fail_msg("case %zu: needed %d", i, needed);
        if (needed)
            assert_non_null(t.trust);
        ps_snapshot_release(s);
    }
    /* own trust: pins (no file needed) */
    {
        struct ps_snapshot *s = fx_snapshot(
            "INSERT INTO rule_pins(rule_id, spki_sha256) SELECT id,"
            " '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' FROM rules"
            " WHERE name = 'Bypass Zoom - Pre-configured';", 1);
        struct ps_query q = {"www.zoom.us", "203.0.113.9:443", NULL, NULL, NULL, 0, false};
        struct ps_decision d;
        struct ps_verify_target t;
        struct ps_verify_trust *global;
        unsigned ms;
        ps_decide(s, &q, &d);
        assert_true(ps_decide_verify_target(s, &q, &d, &t));
        assert_non_null(t.trust);
        ps_snapshot_verify(s, &global, &ms);
        assert_ptr_not_equal(t.trust, global);
        assert_non_null(strstr(ps_verify_trust_key(t.trust), "pins=e3b0"));
        ps_snapshot_release(s);
    }
}

static void
test_vendor_defaults(void **state)
{
    struct ps_snapshot *s = fx_snapshot(NULL, 1);
    struct ps_query q = {"www.zoom.us", NULL, NULL, NULL, NULL, 0, false};
    struct ps_decision d;
    struct ps_snapshot_stats st;

    (void)state;
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_SPLICE);
    assert_string_equal(d.rule_name, "Bypass Zoom - Pre-configured");
    q.sni = "music.apple.com";
    ps_decide(s, &q, &d);
    assert_string_equal(d.rule_name, "Bypass Apple services - Pre-configured");
    q.sni = "www.example.com";
    ps_decide(s, &q, &d);
    assert_int_equal(d.action, PS_ACTION_BUMP);
    assert_null(d.rule_name);
    ps_snapshot_stats(s, &st);
    assert_int_equal(st.rules, 15); /* "Bypass sensitive traffic" is disabled */
    ps_snapshot_release(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_matched_values),
        cmocka_unit_test(test_expiry_uses_now),
        cmocka_unit_test(test_no_rules_fails_closed),
        cmocka_unit_test(test_empty_builder),
        cmocka_unit_test(test_fail_open_policy),
        cmocka_unit_test(test_malformed_without_rules),
        cmocka_unit_test(test_default_splice_not_for_bad_names),
        cmocka_unit_test(test_vendor_defaults),
        cmocka_unit_test(test_sni_policies),
        cmocka_unit_test(test_monitor),
        cmocka_unit_test(test_destinations),
        cmocka_unit_test(test_rule_verify),
        cmocka_unit_test(test_verify_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
