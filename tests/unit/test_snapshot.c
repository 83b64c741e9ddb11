#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "decide.h"
#include "err.h"
#include "snapshot.h"

/*
 * The read side of the rule snapshot (lib/core/snapshot.h, "read side, for decide.c"), on snapshots
 * built directly with ps_builder_*: settings, categories, suffix hashes, sources, destinations,
 * source-only rules, the server-check mode and trust per rule, reference counting.
 */

static struct ps_builder *
builder(void)
{
    struct ps_builder *b = ps_builder_new();

    assert_non_null(b);
    assert_int_equal(ps_builder_setting(b, "splice_verify", "off", NULL), 0);
    return b;
}

static struct ps_snapshot *
finish(struct ps_builder *b)
{
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};

    if (ps_builder_finish(b, &s, &err) != 0)
        fail_msg("finish failed: %s", err.msg);
    assert_non_null(s);
    return s;
}

static void
rule(struct ps_builder *b, int64_t id, const char *name, enum ps_action a, int64_t pos)
{
    struct ps_err err = {0, ""};

    if (ps_builder_rule(b, id, name, a, pos, 0, &err) != 0)
        fail_msg("rule: %s", err.msg);
}

static void
domain(struct ps_builder *b, int64_t id, const char *d, bool exact)
{
    assert_int_equal(ps_builder_domain(b, id, d, exact, NULL), 0);
}

static void
entry(int rc)
{
    assert_int_equal(rc, 0);
}

/* The rule that decides sni at time now (NULL: none). */
static const char *
decided(const struct ps_snapshot *s, const char *sni, time_t now)
{
    struct ps_query q;
    struct ps_decision d;

    memset(&q, 0, sizeof(q));
    q.sni = sni;
    q.now = now;
    ps_decide(s, &q, &d);
    return d.rule_name;
}

/* A posting list as "idx[x] idx ..." (x: exact). */
static const char *
postings(const struct ps_postings *p, char buf[128])
{
    size_t len = 0;
    uint32_t i;

    buf[0] = '\0';
    for (i = 0; i < p->n && len < 100; i++)
        len += (size_t)snprintf(buf + len, 128 - len, "%s%u%s", i ? " " : "", p->v[i] >> 1,
                                p->v[i] & 1 ? "x" : "");
    return buf;
}

static struct ps_addr
addr(const char *s)
{
    struct ps_addr a;

    assert_int_equal(ps_addr_parse(s, strlen(s), &a, NULL), 0);
    return a;
}

/* ---- settings ------------------------------------------------------------------------------- */
static void
test_empty(void **state)
{
    struct ps_snapshot *s = finish(builder());
    struct ps_snapshot_stats st;
    struct ps_verify_trust *trust = (void *)&st;
    unsigned ms = 0;

    (void)state;
    assert_int_equal(ps_snapshot_nrules(s), 0);
    assert_null(ps_snapshot_rule(s, 0));
    assert_int_equal(ps_snapshot_dims(s), 0);
    assert_int_equal(ps_snapshot_default_action(s), PS_ACTION_BUMP);
    assert_int_equal(ps_snapshot_no_sni(s), PS_NO_SNI_HOST);
    assert_int_equal(ps_snapshot_ip_sni(s), PS_IP_SNI_IGNORE);
    assert_int_equal(ps_snapshot_verify(s, &trust, &ms), PS_SPLICE_VERIFY_OFF);
    assert_null(trust);
    assert_int_equal(ms, 3000);
    ps_snapshot_stats(s, &st);
    assert_int_equal(st.rules + st.domains + st.programs + st.categories + st.category_domains +
                         st.sources + st.destinations + st.pins,
                     0);
    assert_true(st.bytes > 0);
    assert_null(decided(s, "zoom.us", 0));
    ps_snapshot_release(s);
    /* A builder that is never finished frees what it holds. */
    ps_builder_free(NULL);
    {
        struct ps_builder *b = builder();
        rule(b, 1, "dropped", PS_ACTION_SPLICE, 1);
        domain(b, 1, "zoom.us", false);
        assert_int_equal(ps_builder_setting(b, "verify_ca_file", "/etc/ssl/x.pem", NULL), 0);
        ps_builder_free(b);
    }
}

static void
test_settings(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    struct ps_verify_trust *trust = NULL;
    unsigned ms = 0;

    (void)state;
    assert_int_equal(ps_builder_setting(b, "default_action", "terminate", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "no_sni_action", "terminate", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "ip_sni_action", "bump", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "verify_timeout_ms", "30000", NULL), 0);
    /* Keys of the tools, and NULLs, are ignored. */
    assert_int_equal(ps_builder_setting(b, "log_retention_days", "x", NULL), 0);
    assert_int_equal(ps_builder_setting(b, NULL, "splice", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "default_action", NULL, NULL), 0);
    s = finish(b);
    assert_int_equal(ps_snapshot_default_action(s), PS_ACTION_TERMINATE);
    assert_int_equal(ps_snapshot_no_sni(s), PS_NO_SNI_TERMINATE);
    assert_int_equal(ps_snapshot_ip_sni(s), PS_IP_SNI_BUMP);
    assert_int_equal(ps_snapshot_verify(s, &trust, &ms), PS_SPLICE_VERIFY_OFF);
    assert_int_equal(ms, 30000);
    ps_snapshot_release(s);

    b = builder();
    assert_int_equal(ps_builder_setting(b, "no_sni_action", "bump", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "ip_sni_action", "host", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "verify_timeout_ms", "100", NULL), 0);
    assert_int_equal(ps_builder_setting(b, "default_action", "splice", NULL), 0);
    s = finish(b);
    assert_int_equal(ps_snapshot_no_sni(s), PS_NO_SNI_BUMP);
    assert_int_equal(ps_snapshot_ip_sni(s), PS_IP_SNI_HOST);
    assert_int_equal(ps_snapshot_default_action(s), PS_ACTION_SPLICE);
    ps_snapshot_verify(s, &trust, &ms);
    assert_int_equal(ms, 100);
    ps_snapshot_release(s);
}

static void
test_program_trusted_sources(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    struct ps_addr a;
    static const struct {
        const char *ip;
        bool trusted;
    } c[] = {
        {"10.1.2.3", true},     {"11.0.0.1", false}, {"2001:db8::5", true},
        {"2001:db9::5", false}, {"192.0.2.1", true}, {"192.0.2.2", false},
    };
    size_t i;

    (void)state;
    assert_int_equal(ps_builder_setting(b, "program_trusted_sources",
                                        " 10.0.0.0/8,2001:db8::/32\t192.0.2.1 ,", NULL),
                     0);
    s = finish(b);
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_int_equal(ps_addr_parse(c[i].ip, strlen(c[i].ip), &a, NULL), 0);
        assert_int_equal(ps_snapshot_program_trusted(s, &a), c[i].trusted);
    }
    assert_false(ps_snapshot_program_trusted(s, NULL));
    ps_snapshot_release(s);
    /* Empty: nobody. */
    b = builder();
    assert_int_equal(ps_builder_setting(b, "program_trusted_sources", "", NULL), 0);
    s = finish(b);
    assert_false(ps_snapshot_program_trusted(s, &a));
    ps_snapshot_release(s);
}

/* ---- categories ----------------------------------------------------------------------------- */

static void
test_categories(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    struct ps_postings p;
    struct ps_snapshot_stats st;
    char buf[128];

    (void)state;
    rule(b, 1, "finance", PS_ACTION_SPLICE, 1);
    rule(b, 2, "health", PS_ACTION_SPLICE, 2);
    rule(b, 3, "both", PS_ACTION_SPLICE, 3);
    assert_int_equal(ps_builder_category(b, 1, "Finance", NULL), 0);
    assert_int_equal(ps_builder_category(b, 2, "Health", NULL), 0);
    assert_int_equal(ps_builder_category(b, 3, "Health", NULL), 0);
    assert_int_equal(ps_builder_category(b, 3, "Finance", NULL), 0);
    assert_int_equal(ps_builder_category_domain(b, "Finance", "bank.test", NULL), 0);
    assert_int_equal(ps_builder_category_domain(b, "Health", "bank.test", NULL), 0);
    assert_int_equal(ps_builder_category_domain(b, "Health", "clinic.test", NULL), 0);
    assert_int_equal(ps_builder_category_domain(b, "Unused", "other.test", NULL), 0);
    s = finish(b);
    /* Indexed in order of first use by a rule, then by a domain. */
    assert_string_equal(ps_snapshot_category_name(s, 0), "Finance");
    assert_string_equal(ps_snapshot_category_name(s, 1), "Health");
    assert_string_equal(ps_snapshot_category_name(s, 2), "Unused");
    assert_null(ps_snapshot_category_name(s, 3));
    assert_true(ps_snapshot_category_domain(s, "bank.test", 9, &p));
    assert_string_equal(postings(&p, buf), "0 1"); /* category indexes */
    assert_true(ps_snapshot_category_domain(s, "other.test", 10, &p));
    assert_string_equal(postings(&p, buf), "2");
    assert_false(ps_snapshot_category_domain(s, "www.bank.test", 13, &p));
    ps_snapshot_category_rules(s, 1, &p);
    assert_string_equal(p.key, "Health");
    assert_string_equal(postings(&p, buf), "1 2");
    ps_snapshot_category_rules(s, 2, &p);
    assert_int_equal(p.n, 0);
    assert_true(ps_snapshot_rule_has_category(s, 2, 0));
    assert_true(ps_snapshot_rule_has_category(s, 2, 1));
    assert_false(ps_snapshot_rule_has_category(s, 0, 1));
    assert_int_equal(ps_snapshot_rule(s, 2)->dims, PS_DIM_CATEGORY);
    assert_string_equal(decided(s, "www.clinic.test", 0), "health");
    assert_string_equal(decided(s, "bank.test", 0), "finance");
    ps_snapshot_stats(s, &st);
    assert_int_equal(st.categories, 3);
    assert_int_equal(st.category_domains, 4);
    ps_snapshot_release(s);
}

/* ---- server checks --------------------------------------------------------------------------- */

static void
capture(int level, const char *msg, void *ud)
{
    char *buf = ud;
    size_t len = strlen(buf);

    (void)level;
    snprintf(buf + len, 512 - len, "%s\n", msg);
}

/* A rule's own CA file that cannot be read does not stop the load: its checks fail, and the
 * log says which rule. */
static void
test_rule_ca_file_unreadable(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    const struct ps_rule *r;
    struct ps_verify_trust *t = (void *)&b;
    unsigned ms;
    static char logged[512];

    (void)state;
    rule(b, 1, "own bundle", PS_ACTION_SPLICE, 1);
    domain(b, 1, "bank.test", false);
    assert_int_equal(ps_builder_rule_opts(b, 1, false, "ip", "/nonexistent/ca.pem", NULL), 0);
    rule(b, 2, "own bundle, off", PS_ACTION_SPLICE, 2);
    assert_int_equal(ps_builder_rule_opts(b, 2, false, "inherit", "/nonexistent/ca.pem", NULL), 0);
    logged[0] = '\0';
    ps_log_set(capture, logged, PS_LOG_ERROR);
    s = finish(b);
    ps_log_set(NULL, NULL, PS_LOG_INFO);
    r = ps_snapshot_rule(s, 0);
    assert_true(r->own_trust);
    assert_null(r->trust);
    assert_int_equal(ps_snapshot_rule_verify(s, r, &t, &ms), PS_RULE_VERIFY_IP);
    assert_null(t);
    /* Its checks are off (inherit, setting off): no trust was needed, nothing logged for it. */
    r = ps_snapshot_rule(s, 1);
    assert_true(r->own_trust);
    assert_int_equal(ps_snapshot_rule_verify(s, r, &t, &ms), PS_RULE_VERIFY_OFF);
    assert_non_null(strstr(logged, "rule 'own bundle': verify_ca_file: "));
    assert_non_null(strstr(logged, "/nonexistent/ca.pem"));
    assert_non_null(strstr(logged, ": splices that need a server check are bumped\n"));
    assert_null(strstr(logged, "own bundle, off"));
    ps_snapshot_release(s);
}

/* A CA certificate (self-signed, EC P-256, valid to 2126) for a bundle that loads. */
static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBjjCCATWgAwIBAgIUTDJzatt+I8sNr/NV4moleuEy5YwwCgYIKoZIzj0EAwIw\n"
                             "HDEaMBgGA1UEAwwRcGluc3BsaWNlLXVuaXQtY2EwIBcNMjYxMjAyMTgxOTIwWhgP\n"
                             "MjEyNjExMDgxODE5MjBaMBwxGjAYBgNVBAMMEXBpbnNwbGljZS11bml0LWNhMFkw\n"
                             "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZY9klljoDGgOSvo02L4g+Wd1OGA2bswC\n"
                             "anTzIy19jkH3cTBzUOQiY/NLCrD9qexQgJE2yT1FJBoi70CY/z2/XKNTMFEwHQYD\n"
                             "VR0OBBYEFGCuy0caDbohpF8XCOQj2v2L2ATnMB8GA1UdIwQYMBaAFGCuy0caDboh\n"
                             "pF8XCOQj2v2L2ATnMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIg\n"
                             "d3gqz6O08gmeYhbRymLiiljX9aSCUk0LxT6RzRMhxHYCIFfAcktIOgBG12QPVsIz\n"
                             "1OcDNASogja2rjCk9TGtZKNJ\n"
                             "-----END CERTIFICATE-----\n";
#define PIN "sha256//YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="

/* Mode per (setting, rule verify): the rule's own unless inherit. Trust: the rule's own (its CA
 * file or pins) when it has one, else the global. */
static void
test_rule_verify(void **state)
{
    static const char *const settings[] = {"off", "ip", "always"};
    static const char *const modes[] = {"inherit", "off", "ip", "always"};
    static const enum ps_rule_verify inherit[] = {PS_RULE_VERIFY_OFF, PS_RULE_VERIFY_IP,
                                                  PS_RULE_VERIFY_ALWAYS};
    char path[] = "/tmp/pinsplice-unit-ca-XXXXXX";
    int fd = mkstemp(path);
    size_t i, j;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ca_pem, sizeof(ca_pem) - 1), (ssize_t)(sizeof(ca_pem) - 1));
    close(fd);
    for (i = 0; i < 3; i++) {
        struct ps_builder *b = ps_builder_new();
        struct ps_snapshot *s;
        struct ps_verify_trust *global, *t;
        struct ps_snapshot_stats st;
        const struct ps_rule *r;
        unsigned ms;

        assert_int_equal(ps_builder_setting(b, "splice_verify", settings[i], NULL), 0);
        assert_int_equal(ps_builder_setting(b, "verify_ca_file", path, NULL), 0);
        assert_int_equal(ps_builder_setting(b, "verify_timeout_ms", "250", NULL), 0);
        for (j = 0; j < 4; j++) {
            rule(b, (int64_t)j + 1, modes[j], PS_ACTION_SPLICE, (int64_t)j);
            entry(ps_builder_rule_opts(b, (int64_t)j + 1, false, modes[j], NULL, NULL));
        }
        rule(b, 10, "pinned", PS_ACTION_SPLICE, 10);
        entry(ps_builder_rule_opts(b, 10, false, "ip", NULL, NULL));
        entry(ps_builder_pin(b, 10, PIN, NULL));
        entry(ps_builder_pin(b, 10, PIN + 8, NULL)); /* the same without "sha256//" */
        rule(b, 11, "own bundle", PS_ACTION_SPLICE, 11);
        entry(ps_builder_rule_opts(b, 11, false, "always", path, NULL));
        s = finish(b);
        assert_int_equal(ps_snapshot_verify(s, &global, &ms),
                         (enum ps_splice_verify)(i == 0   ? PS_SPLICE_VERIFY_OFF
                                                 : i == 1 ? PS_SPLICE_VERIFY_IP
                                                          : PS_SPLICE_VERIFY_ALWAYS));
        assert_int_equal(ms, 250);
        /* The global bundle is read when something inherits a check: here rules 3 and 4 ask
         * for one even with the setting off. */
        assert_non_null(global);
        assert_int_equal(ps_snapshot_rule_verify(s, NULL, &t, &ms), inherit[i]);
        assert_ptr_equal(t, global);
        for (j = 0; j < 4; j++) {
            r = ps_snapshot_rule(s, j);
            assert_int_equal(ps_snapshot_rule_verify(s, r, &t, &ms),
                             j == 0 ? inherit[i] : (enum ps_rule_verify)j);
            assert_ptr_equal(t, global);
        }
        r = ps_snapshot_rule(s, 4);
        assert_string_equal(r->name, "pinned");
        assert_true(r->own_trust);
        assert_non_null(r->trust);
        assert_true(r->trust != global);
        assert_int_equal(ps_snapshot_rule_verify(s, r, &t, &ms), PS_RULE_VERIFY_IP);
        assert_ptr_equal(t, r->trust);
        r = ps_snapshot_rule(s, 5);
        assert_true(r->own_trust);
        assert_non_null(r->trust);
        assert_int_equal(ps_snapshot_rule_verify(s, r, &t, &ms), PS_RULE_VERIFY_ALWAYS);
        assert_ptr_equal(t, r->trust);
        ps_snapshot_stats(s, &st);
        assert_int_equal(st.pins, 2);
        ps_snapshot_release(s);
    }
    unlink(path);
}

/* ---- domains and suffixes ------------------------------------------------------------------- */

static void
test_suffixes(void **state)
{
    struct ps_suffixes sx, one;
    char name[260];
    size_t i;

    (void)state;
    ps_snapshot_suffixes("a.b.zoom.us", 11, &sx);
    assert_int_equal(sx.n, 4);
    assert_int_equal(sx.off[0], 0);
    assert_int_equal(sx.off[1], 2);
    assert_int_equal(sx.off[2], 4);
    assert_int_equal(sx.off[3], 9);
    /* Each hash is the hash of that suffix on its own. */
    for (i = 0; i < sx.n; i++) {
        const char *suf = "a.b.zoom.us" + sx.off[i];
        ps_snapshot_suffixes(suf, strlen(suf), &one);
        assert_int_equal(one.off[0], 0);
        assert_true(one.h[0] == sx.h[i]);
        assert_int_equal(one.n, sx.n - i);
    }
    assert_true(sx.h[0] != sx.h[1]);
    ps_snapshot_suffixes("localhost", 9, &sx);
    assert_int_equal(sx.n, 1);
    assert_int_equal(sx.off[0], 0);
    ps_snapshot_suffixes("", 0, &sx);
    assert_int_equal(sx.n, 0);
    /* The most labels a name can have (127 in 253 characters): every one is there. */
    for (i = 0; i < 253; i++)
        name[i] = i % 2 ? '.' : 'a';
    ps_snapshot_suffixes(name, 253, &sx);
    assert_int_equal(sx.n, 127);
    assert_int_equal(sx.off[0], 0);
    assert_int_equal(sx.off[126], 252);
}

/* The suffix walk decide.c does: one hash per suffix, looked up in both tables. */
static void
test_domain_h(void **state)
{
    static const char name[] = "a.b.zoom.us";
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    struct ps_suffixes sx;
    struct ps_postings p;
    char buf[128];
    const char *seen[4];
    size_t i;

    (void)state;
    rule(b, 1, "zoom", PS_ACTION_SPLICE, 1);
    rule(b, 2, "b.zoom", PS_ACTION_BUMP, 2);
    domain(b, 1, "zoom.us", false);
    domain(b, 2, "b.zoom.us", true);
    entry(ps_builder_category(b, 1, "Video", NULL));
    entry(ps_builder_category_domain(b, "Video", "zoom.us", NULL));
    s = finish(b);
    ps_snapshot_suffixes(name, strlen(name), &sx);
    for (i = 0; i < sx.n; i++) {
        const char *suf = name + sx.off[i];
        ps_snapshot_prefetch_domain(s, sx.h[i]);
        seen[i] = ps_snapshot_domain_h(s, suf, strlen(suf), sx.h[i], &p) ? postings(&p, buf) : "-";
        seen[i] = strdup(seen[i]);
    }
    assert_string_equal(seen[0], "-");
    assert_string_equal(seen[1], "1x");
    assert_string_equal(seen[2], "0");
    assert_string_equal(seen[3], "-");
    for (i = 0; i < sx.n; i++)
        free((char *)seen[i]);
    assert_true(ps_snapshot_category_domain_h(s, name + sx.off[2], 7, sx.h[2], &p));
    assert_string_equal(p.key, "zoom.us");
    assert_string_equal(postings(&p, buf), "0");
    assert_false(ps_snapshot_category_domain_h(s, name + sx.off[1], 9, sx.h[1], &p));
    ps_snapshot_release(s);
    /* Empty tables: every lookup misses, and a prefetch is harmless. */
    s = finish(builder());
    assert_false(ps_snapshot_domain_h(s, name, strlen(name), sx.h[0], &p));
    assert_false(ps_snapshot_domain(s, "zoom.us", 7, &p));
    assert_false(ps_snapshot_category_domain_h(s, "zoom.us", 7, sx.h[2], &p));
    assert_false(ps_snapshot_category_domain(s, "zoom.us", 7, &p));
    assert_false(ps_snapshot_program(s, "zoom", 4, &p));
    ps_snapshot_prefetch_domain(s, sx.h[0]);
    ps_snapshot_source_only_rules(s, &p);
    assert_int_equal(p.n, 0);
    ps_snapshot_release(s);
}

/* ---- sources and destinations --------------------------------------------------------------- */

static void
test_sources_destinations(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s;
    struct ps_postings p;
    struct ps_addr a;
    char buf[128];

    (void)state;
    rule(b, 1, "people", PS_ACTION_SPLICE, 1);
    entry(ps_builder_source(b, 1, "user:alice", NULL));
    entry(ps_builder_source(b, 1, "192.0.2.0/24", NULL));
    entry(ps_builder_source(b, 1, "2001:db8::/32", NULL));
    rule(b, 2, "servers", PS_ACTION_TERMINATE, 2);
    entry(ps_builder_destination(b, 2, "198.51.100.0/24", NULL));
    entry(ps_builder_destination(b, 2, "203.0.113.7", NULL));
    entry(ps_builder_destination(b, 2, "2001:db8:1::/48", NULL));
    rule(b, 3, "named, from the lab", PS_ACTION_BUMP, 3);
    domain(b, 3, "lab.test", false);
    entry(ps_builder_source(b, 3, "10.0.0.0/8", NULL));
    rule(b, 4, "no entries", PS_ACTION_SPLICE, 4);
    s = finish(b);
    a = addr("192.0.2.9");
    assert_string_equal(ps_snapshot_source_match(s, 0, &a, NULL), "192.0.2.0/24");
    assert_string_equal(ps_snapshot_source_match(s, 0, NULL, "alice"), "user:alice");
    assert_string_equal(ps_snapshot_source_match(s, 0, &a, "alice"), "user:alice"); /* first */
    assert_null(ps_snapshot_source_match(s, 0, NULL, "Alice"));
    assert_null(ps_snapshot_source_match(s, 0, NULL, NULL));
    a = addr("2001:db8:ffff::1");
    assert_string_equal(ps_snapshot_source_match(s, 0, &a, "bob"), "2001:db8::/32");
    a = addr("192.0.3.1");
    assert_null(ps_snapshot_source_match(s, 0, &a, "bob"));
    assert_null(ps_snapshot_source_match(s, 1, &a, "alice")); /* no sources */
    assert_null(ps_snapshot_source_match(s, 9, &a, "alice")); /* no such rule */
    a = addr("198.51.100.200");
    assert_string_equal(ps_snapshot_destination_match(s, 1, &a), "198.51.100.0/24");
    a = addr("203.0.113.7");
    assert_string_equal(ps_snapshot_destination_match(s, 1, &a), "203.0.113.7");
    a = addr("203.0.113.8");
    assert_null(ps_snapshot_destination_match(s, 1, &a));
    a = addr("2001:db8:1:2::3");
    assert_string_equal(ps_snapshot_destination_match(s, 1, &a), "2001:db8:1::/48");
    assert_null(ps_snapshot_destination_match(s, 0, &a));
    assert_null(ps_snapshot_destination_match(s, 1, NULL));
    assert_null(ps_snapshot_destination_match(s, 4, &a));
    /* Dimensions, and the rules no name reaches. */
    assert_int_equal(ps_snapshot_rule(s, 0)->dims, PS_DIM_SOURCE);
    assert_int_equal(ps_snapshot_rule(s, 1)->dims, PS_DIM_DEST);
    assert_int_equal(ps_snapshot_rule(s, 2)->dims, PS_DIM_DOMAIN | PS_DIM_SOURCE);
    assert_int_equal(ps_snapshot_rule(s, 3)->dims, 0);
    assert_int_equal(ps_snapshot_dims(s), PS_DIM_DOMAIN | PS_DIM_SOURCE | PS_DIM_DEST);
    ps_snapshot_source_only_rules(s, &p);
    assert_null(p.key);
    assert_string_equal(postings(&p, buf), "0 1");
    ps_snapshot_release(s);
}

/* ---- reference counting --------------------------------------------------------------------- */

static void
test_refs(void **state)
{
    struct ps_builder *b = builder();
    struct ps_snapshot *s, *s2;
    struct ps_snapshot_stats st;

    (void)state;
    rule(b, 1, "r", PS_ACTION_SPLICE, 1);
    domain(b, 1, "zoom.us", false);
    s = finish(b);
    s2 = ps_snapshot_ref(s);
    assert_ptr_equal(s2, s);
    ps_snapshot_release(s);
    /* Still held by the second reference. */
    assert_string_equal(ps_snapshot_rule(s2, 0)->name, "r");
    assert_string_equal(decided(s2, "zoom.us", 0), "r");
    ps_snapshot_release(s2); /* freed: valgrind checks it */
    assert_null(ps_snapshot_ref(NULL));
    ps_snapshot_release(NULL);
    memset(&st, 0xff, sizeof(st));
    ps_snapshot_stats(NULL, &st);
    assert_int_equal(st.rules + st.domains + st.pins + st.bytes, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_program_trusted_sources),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_rule_ca_file_unreadable),
        cmocka_unit_test(test_rule_verify),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_domain_h),
        cmocka_unit_test(test_sources_destinations),
        cmocka_unit_test(test_refs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
