#include "config.h"

#include <string.h>
#include <time.h>

#include "addr.h"
#include "decide.h"
#include "err.h"
#include "name.h"
#include "snapshot.h"
#include "verify.h"

/* How many posting lists one decision merges before it falls back to trying every rule in order
 * (still correct, just slower; only reached by names with very many matching suffix entries). */
#define MAX_LISTS 512

/* A normalised server name, the hash of each suffix (the name itself first), and each suffix's
 * domain lookup, done once per decision and reused by every rule tried. */
struct sname {
    const char *s;
    size_t len;
    struct ps_suffixes sx;
    bool found[PS_SUFFIX_MAX];
    struct ps_postings dom[PS_SUFFIX_MAX];
};

/* The query after normalisation: everything a rule is checked against. */
struct facts {
    const struct ps_snapshot *snap;
    struct sname name, second; /* second: the CONNECT host when it differs from the SNI */
    bool have_name, have_second;
    struct ps_addr client, dest;
    bool have_client, trusted, have_dest;
    const char *user;
    char program[PS_PROGRAM_MAX + 1];
    bool have_program;
    time_t now;
};

static void
sname_init(struct sname *n, const char *s, const struct ps_snapshot *snap)
{
    size_t i;

    n->s = s;
    n->len = strlen(s);
    ps_snapshot_suffixes(s, n->len, &n->sx);
    if (!(ps_snapshot_dims(snap) & PS_DIM_DOMAIN)) {
        memset(n->found, 0, n->sx.n * sizeof(n->found[0]));
        return;
    }
    /* The probes of one name are independent: start them all, then read them. */
    for (i = 0; i < n->sx.n; i++)
        ps_snapshot_prefetch_domain(snap, n->sx.h[i]);
    for (i = 0; i < n->sx.n; i++)
        n->found[i] = ps_snapshot_domain_h(snap, s + n->sx.off[i], n->len - n->sx.off[i],
                                           n->sx.h[i], &n->dom[i]);
}

static bool
postings_has(const struct ps_postings *p, uint32_t idx, bool *exact)
{
    uint32_t lo = 0, hi = p->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2, v = p->v[mid] >> 1;
        if (v == idx) {
            *exact = (p->v[mid] & 1) != 0;
            return true;
        }
        if (v < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Does rule idx have a domain entry covering name? An exact entry covers the name only. */
static const char *
domain_match(const struct facts *f, uint32_t idx, const struct sname *n)
{
    size_t i;

    for (i = 0; i < n->sx.n; i++) {
        bool exact;
        if (n->found[i] && postings_has(&n->dom[i], idx, &exact) && (!exact || i == 0))
            return n->dom[i].key;
    }
    return NULL;
}

static const char *
category_match(const struct facts *f, uint32_t idx, const struct sname *n)
{
    size_t i;
    uint32_t j;

    for (i = 0; i < n->sx.n; i++) {
        struct ps_postings p;
        if (!ps_snapshot_category_domain_h(f->snap, n->s + n->sx.off[i], n->len - n->sx.off[i],
                                           n->sx.h[i], &p))
            continue;
        for (j = 0; j < p.n; j++)
            if (ps_snapshot_rule_has_category(f->snap, idx, p.v[j] >> 1))
                return ps_snapshot_category_name(f->snap, p.v[j] >> 1);
    }
    return NULL;
}

/* Check every dimension rule idx has; fill the matched values on success. */
static bool
rule_matches(const struct facts *f, uint32_t idx, struct ps_decision *out)
{
    const struct ps_rule *r = ps_snapshot_rule(f->snap, idx);
    const char *d = NULL, *p = NULL, *c = NULL, *s = NULL, *t = NULL;

    if (r->dims == 0 || (r->expires_at != 0 && f->now >= r->expires_at))
        return false;
    if (r->dims & PS_DIM_DOMAIN) {
        if (!f->have_name || (d = domain_match(f, idx, &f->name)) == NULL)
            return false;
        if (f->have_second && domain_match(f, idx, &f->second) == NULL)
            return false;
    }
    if (r->dims & PS_DIM_CATEGORY) {
        if (!f->have_name || (c = category_match(f, idx, &f->name)) == NULL)
            return false;
        if (f->have_second && category_match(f, idx, &f->second) == NULL)
            return false;
    }
    if (r->dims & PS_DIM_PROGRAM) {
        struct ps_postings pp;
        bool exact;
        if (!f->trusted || !f->have_program ||
            !ps_snapshot_program(f->snap, f->program, strlen(f->program), &pp) ||
            !postings_has(&pp, idx, &exact))
            return false;
        p = pp.key;
    }
    if (r->dims & PS_DIM_SOURCE) {
        s = ps_snapshot_source_match(f->snap, idx, f->have_client ? &f->client : NULL, f->user);
        if (s == NULL)
            return false;
    }
    /* Destinations: only a CONNECT to an IP literal has one (never a name: Squid resolves it). */
    if (r->dims & PS_DIM_DEST) {
        if (!f->have_dest || (t = ps_snapshot_destination_match(f->snap, idx, &f->dest)) == NULL)
            return false;
    }
    out->m_domain = d;
    out->m_program = p;
    out->m_category = c;
    out->m_source = s;
    out->m_destination = t;
    return true;
}

/* Rule idx matched: true when it decides; a monitor rule is noted (the first one only) and
 * evaluation goes on. */
static bool
take(const struct facts *f, uint32_t idx, struct ps_decision *out)
{
    const struct ps_rule *r = ps_snapshot_rule(f->snap, idx);

    if (r->monitor) {
        if (out->monitor_rule == NULL) {
            out->monitor_rule = r->name;
            out->monitor_rule_id = r->id;
            out->monitor_action = r->action;
        }
        return false;
    }
    out->rule_id = r->id;
    out->rule_name = r->name;
    out->action = r->action;
    out->rule = r;
    out->expires_at = r->expires_at;
    return true;
}

struct lists {
    struct ps_postings l[MAX_LISTS];
    uint32_t pos[MAX_LISTS];
    size_t n;
    bool overflow;
};

static void
lists_add(struct lists *ls, const uint32_t *v, uint32_t n)
{
    if (n == 0)
        return;
    if (ls->n == MAX_LISTS) {
        ls->overflow = true;
        return;
    }
    ls->l[ls->n].v = v;
    ls->l[ls->n].n = n;
    ls->pos[ls->n] = 0;
    ls->n++;
}

/* Every rule that could match is in at least one of these lists: a rule with a domain dimension
 * is in the list of a suffix of the name; one with categories but no domain in the list of one of
 * the name's categories; one with a program in the program's list; one with only sources in the
 * source-only list. So only they are tried, in rule order. */
static void
gather(const struct facts *f, struct lists *ls)
{
    uint8_t dims = ps_snapshot_dims(f->snap);
    struct ps_postings p, cr;
    size_t i;
    uint32_t j;

    if (f->have_name && (dims & PS_DIM_DOMAIN))
        for (i = 0; i < f->name.sx.n; i++)
            if (f->name.found[i])
                lists_add(ls, f->name.dom[i].v, f->name.dom[i].n);
    if (f->have_name && (dims & PS_DIM_CATEGORY))
        for (i = 0; i < f->name.sx.n; i++)
            if (ps_snapshot_category_domain_h(f->snap, f->name.s + f->name.sx.off[i],
                                              f->name.len - f->name.sx.off[i], f->name.sx.h[i],
                                              &p))
                for (j = 0; j < p.n; j++) {
                    ps_snapshot_category_rules(f->snap, p.v[j] >> 1, &cr);
                    lists_add(ls, cr.v, cr.n);
                }
    if (f->trusted && f->have_program && (dims & PS_DIM_PROGRAM) &&
        ps_snapshot_program(f->snap, f->program, strlen(f->program), &p))
        lists_add(ls, p.v, p.n);
    if (dims & (PS_DIM_SOURCE | PS_DIM_DEST)) {
        ps_snapshot_source_only_rules(f->snap, &p);
        lists_add(ls, p.v, p.n);
    }
}

static bool
first_match(const struct facts *f, struct ps_decision *out)
{
    struct lists ls;
    size_t nrules = ps_snapshot_nrules(f->snap), i;

    ls.n = 0;
    ls.overflow = false;
    gather(f, &ls);
    if (ls.overflow) {
        for (i = 0; i < nrules; i++)
            if (rule_matches(f, (uint32_t)i, out) && take(f, (uint32_t)i, out))
                return true;
        return false;
    }
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (i = 0; i < ls.n; i++)
            if (ls.pos[i] < ls.l[i].n && (ls.l[i].v[ls.pos[i]] >> 1) < best)
                best = ls.l[i].v[ls.pos[i]] >> 1;
        if (best == UINT32_MAX)
            return false;
        if (rule_matches(f, best, out) && take(f, best, out))
            return true;
        for (i = 0; i < ls.n; i++)
            while (ls.pos[i] < ls.l[i].n && (ls.l[i].v[ls.pos[i]] >> 1) <= best)
                ls.pos[i]++;
    }
}

static int
normalize_field(const char *in, char *buf, enum ps_name_kind *kind, bool is_host)
{
    const char *h = in;
    size_t hlen = strlen(in);
    unsigned port;

    if (is_host && ps_name_split_hostport(in, hlen, &h, &hlen, &port, NULL) < 0)
        return -1;
    /* The Squid paths: an SNI or CONNECT host is ASCII or it is a bad name (issue 12). */
    return ps_name_normalize_ascii(h, hlen, buf, kind, NULL);
}

/* Check and normalise every field of q, whether or not a rule will look at it (a bad client IP
 * used to pass unseen unless a rule had sources). Returns false with out's reason and detail
 * set when a field is malformed. */
static bool
check_input(const struct ps_query *q, char sni[PS_NAME_MAX + 1], enum ps_name_kind *sk,
            char host[PS_NAME_MAX + 1], enum ps_name_kind *hk, struct facts *f,
            struct ps_decision *out)
{
    if (q->sni != NULL && normalize_field(q->sni, sni, sk, false) < 0) {
        out->reason = PS_REASON_BAD_NAME;
        out->detail = "bad SNI";
        return false;
    }
    if (q->host != NULL && normalize_field(q->host, host, hk, true) < 0) {
        out->reason = PS_REASON_BAD_NAME;
        out->detail = "bad CONNECT host";
        return false;
    }
    if (q->client_ip != NULL) {
        if (ps_addr_parse(q->client_ip, strlen(q->client_ip), &f->client, NULL) < 0) {
            out->reason = PS_REASON_BAD_INPUT;
            out->detail = "bad client IP";
            return false;
        }
        f->have_client = true;
    }
    if (q->program != NULL) {
        if (ps_name_program(q->program, strlen(q->program), f->program, NULL) < 0) {
            out->reason = PS_REASON_BAD_INPUT;
            out->detail = "bad program name";
            return false;
        }
        f->have_program = true;
    }
    return true;
}

const char *
ps_decide_fail_open(struct ps_decision *d, bool fail_open)
{
    if (d == NULL || !fail_open || d->reason != PS_REASON_NO_RULES || d->action == PS_ACTION_SPLICE)
        return NULL;
    d->action = PS_ACTION_SPLICE;
    return PS_FAIL_OPEN_MSG;
}

/* The settings' values as sql/schema.sql spells them, indexed by snapshot.h's enums. */
static const char *const no_sni_str[] = {"host", "bump", "terminate"};
static const char *const ip_sni_str[] = {"ignore", "host", "bump", "terminate"};
static const char *const splice_verify_str[] = {"ip", "off", "always"};

static void
settings_fill(const struct ps_snapshot *snap, struct ps_decision *out)
{
    struct ps_verify_trust *trust;
    unsigned ms;

    if (snap == NULL) {
        out->settings.no_sni_action = out->settings.ip_sni_action = NULL;
        out->settings.splice_verify = NULL;
        return;
    }
    out->settings.no_sni_action = no_sni_str[ps_snapshot_no_sni(snap)];
    out->settings.ip_sni_action = ip_sni_str[ps_snapshot_ip_sni(snap)];
    out->settings.splice_verify = splice_verify_str[ps_snapshot_verify(snap, &trust, &ms)];
}

void
ps_decide(const struct ps_snapshot *snap, const struct ps_query *q, struct ps_decision *out)
{
    char sni[PS_NAME_MAX + 1], host[PS_NAME_MAX + 1];
    enum ps_name_kind sk = 0, hk = 0;
    struct facts f;

    /* Field by field: clearing the whole struct (server_name is 254 bytes) cost more than the
     * rest of a small decision. */
    out->action = PS_ACTION_BUMP;
    out->reason = PS_REASON_DEFAULT;
    out->rule_id = 0;
    out->rule_name = NULL;
    out->m_domain = out->m_program = out->m_category = out->m_source = NULL;
    out->m_destination = NULL;
    out->detail = NULL;
    out->rule = NULL;
    out->monitor_rule = NULL;
    out->monitor_rule_id = 0;
    out->monitor_action = PS_ACTION_BUMP;
    out->server_name[0] = '\0';
    out->verified = NULL;
    out->expires_at = 0;
    settings_fill(snap, out);
    /* facts is large (per-suffix caches); set its fields, do not clear it all. */
    f.snap = snap;
    f.have_name = f.have_second = f.have_client = f.trusted = f.have_program = false;
    f.have_dest = false;
    f.user = NULL;
    /* Malformed input is bumped whatever the rules say, and before "no rules": fail-open
     * (ps_decide_fail_open) must never splice it. */
    if (!check_input(q, sni, &sk, host, &hk, &f, out))
        return;
    if (snap == NULL) {
        out->reason = PS_REASON_NO_RULES;
        out->detail = "rules unavailable";
        return;
    }
    f.now = q->now ? q->now : time(NULL);
    /* No SNI, or an IP-literal SNI (not allowed by RFC 6066): what the settings say. */
    if (q->sni == NULL && !q->sni_unseen && ps_snapshot_no_sni(snap) != PS_NO_SNI_HOST) {
        out->action = ps_snapshot_no_sni(snap) == PS_NO_SNI_BUMP ? PS_ACTION_BUMP
                                                                 : PS_ACTION_TERMINATE;
        out->reason = PS_REASON_POLICY;
        out->detail = "no SNI (settings.no_sni_action)";
        return;
    }
    if (q->sni != NULL && sk != PS_NAME_DOMAIN) {
        switch (ps_snapshot_ip_sni(snap)) {
        case PS_IP_SNI_BUMP:
        case PS_IP_SNI_TERMINATE:
            out->action = ps_snapshot_ip_sni(snap) == PS_IP_SNI_BUMP ? PS_ACTION_BUMP
                                                                     : PS_ACTION_TERMINATE;
            out->reason = PS_REASON_POLICY;
            out->detail = "IP-literal SNI (settings.ip_sni_action)";
            return;
        case PS_IP_SNI_HOST:
            if (ps_snapshot_no_sni(snap) != PS_NO_SNI_HOST) { /* as if there were no SNI */
                out->action = ps_snapshot_no_sni(snap) == PS_NO_SNI_BUMP ? PS_ACTION_BUMP
                                                                         : PS_ACTION_TERMINATE;
                out->reason = PS_REASON_POLICY;
                out->detail = "no SNI (settings.no_sni_action)";
                return;
            }
            break;
        case PS_IP_SNI_IGNORE:
            break;
        }
    }
    /* The server name is the SNI; without one (or with an IP-literal one that ip_sni_action
     * sends to the host), the CONNECT host if it is a name. An IP-literal SNI otherwise gives
     * no name at all. */
    if (q->sni != NULL && (sk == PS_NAME_DOMAIN || ps_snapshot_ip_sni(snap) != PS_IP_SNI_HOST)) {
        if (sk == PS_NAME_DOMAIN) {
            sname_init(&f.name, sni, snap);
            f.have_name = true;
            if (q->host != NULL && hk == PS_NAME_DOMAIN && strcmp(sni, host) != 0) {
                sname_init(&f.second, host, snap);
                f.have_second = true;
            }
        }
    } else if (q->host != NULL && hk == PS_NAME_DOMAIN) {
        sname_init(&f.name, host, snap);
        f.have_name = true;
    }
    if (f.have_name)
        memcpy(out->server_name, f.name.s, f.name.len + 1);
    /* The destination address: the CONNECT host when it is an IP literal. */
    if (q->host != NULL && (hk == PS_NAME_IPV4 || hk == PS_NAME_IPV6) &&
        (ps_snapshot_dims(snap) & PS_DIM_DEST))
        f.have_dest = ps_addr_parse(host, strlen(host), &f.dest, NULL) == 0;
    /* The client address matters only to source entries and trusted program sources. */
    if (f.have_client && (ps_snapshot_dims(snap) & (PS_DIM_SOURCE | PS_DIM_PROGRAM)))
        f.trusted = ps_snapshot_program_trusted(snap, &f.client);
    f.user = q->user;
    if (first_match(&f, out)) {
        out->reason = PS_REASON_RULE;
        return;
    }
    out->m_domain = out->m_program = out->m_category = out->m_source = NULL;
    out->m_destination = NULL;
    out->action = ps_snapshot_default_action(snap);
    out->reason = PS_REASON_DEFAULT;
    /* Say why when two names were in play: a rule for one of them does not count alone. */
    if (f.have_second)
        out->detail = "SNI and CONNECT host differ, and no rule covers both";
}

bool
ps_decide_verify_target(const struct ps_snapshot *snap, const struct ps_query *q,
                        const struct ps_decision *d, struct ps_verify_target *t)
{
    const char *h;
    size_t hlen;
    unsigned port = 0;
    char buf[PS_NAME_MAX + 1];
    enum ps_name_kind kind;
    enum ps_rule_verify mode;

    /* Only a splice that a name justified: a source-only or program rule, or the default
     * action, did not take the client's name for it. A destination rule did take the address
     * from the admin, but a connection that also names a server (an SNI) is checked against
     * that name too when the mode asks for it: the address range may be wider than the app. */
    if (snap == NULL || d->action != PS_ACTION_SPLICE || d->reason != PS_REASON_RULE ||
        (d->m_domain == NULL && d->m_category == NULL && d->m_destination == NULL) ||
        d->server_name[0] == '\0' || q->host == NULL)
        return false;
    mode = ps_snapshot_rule_verify(snap, d->rule, &t->trust, &t->timeout_ms);
    if (mode == PS_RULE_VERIFY_OFF)
        return false;
    if (ps_name_split_hostport(q->host, strlen(q->host), &h, &hlen, &port, NULL) < 0 ||
        ps_name_normalize_ascii(h, hlen, buf, &kind, NULL) < 0 || strlen(buf) >= sizeof(t->addr))
        return false;
    /* A name CONNECT: Squid resolves it itself; only 'always' checks what the name resolves to. */
    if (kind == PS_NAME_DOMAIN && mode != PS_RULE_VERIFY_ALWAYS)
        return false;
    memcpy(t->addr, buf, strlen(buf) + 1);
    t->port = port ? port : 443;
    t->sni = d->server_name;
    return true;
}

/* The reply's message for each failed check (static: d->detail must outlive the call). */
static const char *const unverified[PS_VERIFY_NVERDICTS] = {
    [PS_VERIFY_OK] = "server not verified: verify-error", /* not used */
    [PS_VERIFY_FAILED] = "server not verified: verify-failed",
    [PS_VERIFY_NAME] = "server not verified: verify-name",
    [PS_VERIFY_PIN] = "server not verified: verify-pin",
    [PS_VERIFY_TIMEOUT] = "server not verified: verify-timeout",
    [PS_VERIFY_CONNECT] = "server not verified: verify-connect",
    [PS_VERIFY_HANDSHAKE] = "server not verified: verify-handshake",
    [PS_VERIFY_BUSY] = "server not verified: verify-busy",
    [PS_VERIFY_ERROR] = "server not verified: verify-error",
};

void
ps_decide_verified(struct ps_decision *d, int verdict)
{
    d->verified = ps_verify_reason(
        (unsigned)verdict < PS_VERIFY_NVERDICTS ? (enum ps_verify_verdict)verdict : PS_VERIFY_ERROR);
    if (verdict == PS_VERIFY_OK)
        return;
    d->action = PS_ACTION_BUMP;
    d->reason = PS_REASON_UNVERIFIED;
    d->detail = unverified[(unsigned)verdict < PS_VERIFY_NVERDICTS ? verdict : PS_VERIFY_ERROR];
}
