#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpsl.h>

#include "addr.h"
#include "decide.h"
#include "err.h"
#include "keytab.h"
#include "lint.h"
#include "name.h"
#include "snapshot.h"
#include "store.h"
#include "text.h"

/* Kinds of entries, also the namespace of the duplicate table. */
enum kind { K_DOMAIN = 1, K_PROGRAM = 2, K_CATEGORY = 3, K_SOURCE = 4, K_DEST = 5 };
static const char *const kind_names[] = {NULL,     "domain", "program",
                                         "category", "source", "destination"};

struct lrule {
    long long id;
    char *name;
    bool enabled;
    size_t seq; /* order of appearance (ps_store_foreach: evaluation order) */
    size_t n_entries;
    uint64_t bits[3]; /* prefix lengths (0..128) of its networks, for the containment check */
};

struct lentry {
    enum kind kind;
    size_t rule;        /* index into rules */
    char *value;        /* as stored */
    char *key;          /* what the matcher compares (NULL: the entry is broken, see findings) */
    char *os;           /* programs */
    bool exact;         /* domains */
    struct ps_cidr net; /* sources that are networks */
    bool is_net;
};

struct rec {
    struct ps_lint_finding f;
    size_t rule_seq, entry_seq, seq; /* sort key */
};

struct ps_lint {
    struct lrule *rules;
    size_t nrules, caprules;
    struct lentry *entries;
    size_t nentries, capentries;
    struct rec *recs;
    size_t nrecs, caprecs;
    struct ps_keytab *ruleids; /* rule id -> index into rules */
    struct ps_keytab *keys;    /* (rule * 8 + kind, key) -> entry index */
    struct ps_keytab *cats;    /* known categories */
    char **strs;               /* messages, owned */
    size_t nstrs, capstrs;
    bool cats_known, finished;
    struct ps_err add_err; /* first error of ps_lint_add_cb */
};

/* ---- small helpers --------------------------------------------------------------------------- */

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size)
        return PS_ENOMEM;
    p = realloc(*v, ncap * size);
    if (p == NULL)
        return PS_ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* ---- findings -------------------------------------------------------------------------------- */

/* Record a finding about rule r (SIZE_MAX: none) and entry e (SIZE_MAX: the rule itself). */
static int add_finding(struct ps_lint *l, enum ps_lint_severity sev, const char *check, size_t r,
                       size_t e, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
add_finding(struct ps_lint *l, enum ps_lint_severity sev, const char *check, size_t r, size_t e,
            const char *fmt, ...)
{
    struct rec *rec;
    va_list ap;
    char *msg;
    int n;

    if (grow((void **)&l->recs, &l->caprecs, l->nrecs, sizeof(*l->recs)) < 0 ||
        grow((void **)&l->strs, &l->capstrs, l->nstrs, sizeof(*l->strs)) < 0)
        return PS_ENOMEM;
    /* Messages carry names of up to 253 characters: size them rather than truncate. */
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
        return PS_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l->strs[l->nstrs] = msg;
    rec = &l->recs[l->nrecs];
    memset(rec, 0, sizeof(*rec));
    rec->f.severity = sev;
    rec->f.check = check;
    rec->f.message = l->strs[l->nstrs++];
    rec->seq = l->nrecs++;
    if (r != SIZE_MAX) {
        rec->f.rule_id = l->rules[r].id;
        rec->f.rule = l->rules[r].name;
        rec->rule_seq = l->rules[r].seq + 1;
    }
    if (e != SIZE_MAX) {
        rec->f.kind = kind_names[l->entries[e].kind];
        rec->f.value = l->entries[e].value;
        rec->entry_seq = e + 1;
    }
    return 0;
}

/* Warnings are not reported for disabled rules (see lint.h). */
static bool
wants(const struct ps_lint *l, size_t r, enum ps_lint_severity sev)
{
    return sev == PS_LINT_ERROR || l->rules[r].enabled;
}

static int
cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;

    if (x->rule_seq != y->rule_seq)
        return x->rule_seq < y->rule_seq ? -1 : 1;
    if (x->entry_seq != y->entry_seq)
        return x->entry_seq < y->entry_seq ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- collecting ------------------------------------------------------------------------------ */

struct ps_lint *
ps_lint_new(void)
{
    struct ps_lint *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->ruleids = ps_keytab_new();
    l->keys = ps_keytab_new();
    l->cats = ps_keytab_new();
    if (l->ruleids == NULL || l->keys == NULL || l->cats == NULL) {
        ps_lint_free(l);
        return NULL;
    }
    return l;
}

void
ps_lint_free(struct ps_lint *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nrules; i++)
        free(l->rules[i].name);
    for (i = 0; i < l->nentries; i++) {
        free(l->entries[i].value);
        free(l->entries[i].key);
        free(l->entries[i].os);
    }
    for (i = 0; i < l->nstrs; i++)
        free(l->strs[i]);
    free(l->rules);
    free(l->entries);
    free(l->recs);
    free(l->strs);
    ps_keytab_free(l->ruleids);
    ps_keytab_free(l->keys);
    ps_keytab_free(l->cats);
    free(l);
}

/* The index of rule id, created from e when it is new. */
static int
rule_index(struct ps_lint *l, const struct ps_store_entry *e, bool is_rule_row, size_t *out,
           struct ps_err *err)
{
    struct lrule *r;
    size_t idx;

    if (ps_keytab_get(l->ruleids, (uint64_t)e->rule_id, "", 0, &idx)) {
        if (is_rule_row) { /* the rule's own row is authoritative */
            char *name = dup_str(e->rule_name != NULL ? e->rule_name : "");
            if (name == NULL)
                return ps_err_set(err, PS_ENOMEM, "out of memory");
            free(l->rules[idx].name);
            l->rules[idx].name = name;
            l->rules[idx].enabled = e->enabled;
        }
        *out = idx;
        return 0;
    }
    if (grow((void **)&l->rules, &l->caprules, l->nrules, sizeof(*l->rules)) < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    r = &l->rules[l->nrules];
    memset(r, 0, sizeof(*r));
    r->id = e->rule_id;
    r->enabled = e->enabled;
    r->seq = l->nrules;
    r->name = dup_str(e->rule_name != NULL ? e->rule_name : "");
    if (r->name == NULL || ps_keytab_put(l->ruleids, (uint64_t)r->id, "", 0, l->nrules, NULL) < 0) {
        free(r->name);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    *out = l->nrules++;
    return 0;
}

int
ps_lint_add(struct ps_lint *l, const struct ps_store_entry *e, struct ps_err *err)
{
    struct lentry *en;
    enum kind k;
    size_t r;
    int rc;

    if (l == NULL || e == NULL || e->kind == NULL || l->finished)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    if (strcmp(e->kind, "rule") == 0)
        return rule_index(l, e, true, &r, err);
    if (strcmp(e->kind, "known-category") == 0)
        return e->value != NULL ? ps_lint_known_category(l, e->value, err)
                                : ps_err_set(err, PS_EINVAL, "known-category without a value");
    for (k = K_DOMAIN; k <= K_DEST; k++)
        if (strcmp(e->kind, kind_names[k]) == 0)
            break;
    if (k > K_DEST)
        return ps_err_set(err, PS_EINVAL, "lint: unknown entry kind '%.40s'", e->kind);
    if (e->value == NULL)
        return ps_err_set(err, PS_EINVAL, "rule id %lld: %s without a value", e->rule_id, e->kind);
    if ((rc = rule_index(l, e, false, &r, err)) < 0)
        return rc;
    if (grow((void **)&l->entries, &l->capentries, l->nentries, sizeof(*l->entries)) < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    en = &l->entries[l->nentries];
    memset(en, 0, sizeof(*en));
    en->kind = k;
    en->rule = r;
    en->exact = e->exact;
    en->value = dup_str(e->value);
    en->os = dup_str(e->os != NULL ? e->os : "any");
    if (en->value == NULL || en->os == NULL) {
        free(en->value);
        free(en->os);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    l->nentries++;
    l->rules[r].n_entries++;
    return 0;
}

int
ps_lint_add_cb(const struct ps_store_entry *e, void *ud)
{
    struct ps_lint *l = ud;
    struct ps_err err = {0, ""};
    int rc = ps_lint_add(l, e, &err);

    if (rc < 0 && l != NULL && l->add_err.code == 0)
        l->add_err = err;
    return rc;
}

int
ps_lint_known_category(struct ps_lint *l, const char *name, struct ps_err *err)
{
    char *copy;
    int rc;

    if (l == NULL || name == NULL)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    if (grow((void **)&l->strs, &l->capstrs, l->nstrs, sizeof(*l->strs)) < 0 ||
        (copy = dup_str(name)) == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    l->strs[l->nstrs++] = copy;
    rc = ps_keytab_put(l->cats, 0, copy, strlen(copy), 0, NULL);
    if (rc < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    l->cats_known = true;
    return 0;
}

/* ---- per-entry checks ------------------------------------------------------------------------ */

static int
check_domain(struct ps_lint *l, size_t i, const psl_ctx_t *psl)
{
    struct lentry *en = &l->entries[i];
    struct ps_err e = {0, ""};
    struct ps_addr a;

    if (ps_addr_parse(en->value, strlen(en->value), &a, NULL) == 0)
        return add_finding(l, PS_LINT_ERROR, "bad-name", en->rule, i,
                           "domain '%s' is an IP address: an IP never matches a domain entry",
                           en->value);
    if (ps_name_check_stored(en->value, &e) < 0)
        return add_finding(l, PS_LINT_ERROR, "bad-name", en->rule, i, "%s", e.msg);
    if ((en->key = dup_str(en->value)) == NULL)
        return PS_ENOMEM;
    if (!en->exact && psl != NULL && psl_is_public_suffix2(psl, en->value, PSL_TYPE_ANY))
        return add_finding(l, PS_LINT_ERROR, "public-suffix", en->rule, i,
                           "domain '%s' is a public suffix: the rule covers every site "
                           "registered under it (exact = 1 would match the name alone)",
                           en->value);
    return 0;
}

static int
check_program(struct ps_lint *l, size_t i)
{
    struct lentry *en = &l->entries[i];
    char base[PS_PROGRAM_MAX + 1];
    struct ps_err e = {0, ""};
    size_t n;

    if (ps_name_program(en->value, strlen(en->value), base, &e) < 0)
        return add_finding(l, PS_LINT_ERROR, "bad-program", en->rule, i, "bad program '%s': %s",
                           en->value, e.msg);
    if (strcspn(en->value, "/\\") != strlen(en->value))
        return add_finding(l, PS_LINT_ERROR, "bad-program", en->rule, i,
                           "program '%s' has a directory: only the basename is compared "
                           "(store '%s')",
                           en->value, base);
    n = strlen(en->os) + 1 + strlen(base) + 1;
    if ((en->key = malloc(n)) == NULL)
        return PS_ENOMEM;
    snprintf(en->key, n, "%s\n%s", en->os, base);
    return 0;
}

static void
mask_net(const struct ps_addr *in, unsigned bits, struct ps_addr *out)
{
    unsigned i;

    *out = *in;
    for (i = 0; i < 16; i++) {
        if (bits >= 8 * (i + 1))
            continue;
        out->b[i] &= bits > 8 * i ? (uint8_t)(0xff << (8 - (bits - 8 * i))) : 0;
    }
}

/* The table key of a network: its 16 bytes in hex, '/', the prefix length. */
static char *
net_key(const struct ps_addr *a, unsigned bits)
{
    char *k = malloc(33 + 1 + 4);
    size_t i;

    if (k == NULL)
        return NULL;
    for (i = 0; i < 16; i++)
        snprintf(k + 2 * i, 3, "%02x", a->b[i]);
    snprintf(k + 32, 6, "/%u", bits);
    return k;
}

static int
check_source(struct ps_lint *l, size_t i)
{
    struct lentry *en = &l->entries[i];
    struct ps_err e = {0, ""};

    if (strncmp(en->value, "user:", 5) == 0) {
        if (en->value[5] == '\0')
            return add_finding(l, PS_LINT_ERROR, "bad-source", en->rule, i,
                               "bad source 'user:': empty user name");
        en->key = dup_str(en->value);
        return en->key == NULL ? PS_ENOMEM : 0;
    }
    if (ps_cidr_parse(en->value, strlen(en->value), &en->net, &e) < 0)
        return add_finding(l, PS_LINT_ERROR, "bad-source", en->rule, i, "bad source: %s", e.msg);
    en->is_net = true;
    l->rules[en->rule].bits[en->net.bits / 64] |= 1ULL << (en->net.bits % 64);
    en->key = net_key(&en->net.net, en->net.bits);
    return en->key == NULL ? PS_ENOMEM : 0;
}

/* A destination range wider than an admin probably means: shorter than /16 (IPv4) or /32 (IPv6)
 * hands a splice to a big part of the Internet (every address a CONNECT by IP can name). */
#define WIDE_V4 16
#define WIDE_V6 32

static int
check_destination(struct ps_lint *l, size_t i)
{
    struct lentry *en = &l->entries[i];
    struct ps_err e = {0, ""};
    unsigned bits;

    if (ps_cidr_parse(en->value, strlen(en->value), &en->net, &e) < 0)
        return add_finding(l, PS_LINT_ERROR, "bad-destination", en->rule, i,
                           "bad destination: %s", e.msg);
    en->is_net = true;
    en->key = net_key(&en->net.net, en->net.bits);
    if (en->key == NULL)
        return PS_ENOMEM;
    bits = en->net.net.v4 ? en->net.bits - 96 : en->net.bits;
    if (en->net.net.v4 ? bits < WIDE_V4 : bits < WIDE_V6)
        return add_finding(l, PS_LINT_WARNING, "wide-destination", en->rule, i,
                           "destination '%s' is a /%u: wider than /%d for %s, it covers %s "
                           "addresses that any client can CONNECT to by IP; narrow it to the "
                           "app's own ranges",
                           en->value, bits, en->net.net.v4 ? WIDE_V4 : WIDE_V6,
                           en->net.net.v4 ? "IPv4" : "IPv6",
                           en->net.net.v4 ? "over 65536" : "more than a /32's");
    return 0;
}

static int
check_category(struct ps_lint *l, size_t i)
{
    struct lentry *en = &l->entries[i];
    size_t v;

    if (l->cats_known && !ps_keytab_get(l->cats, 0, en->value, strlen(en->value), &v))
        return add_finding(l, PS_LINT_ERROR, "unknown-category", en->rule, i,
                           "category '%s' is not in the categories table: it matches nothing",
                           en->value);
    en->key = dup_str(en->value);
    return en->key == NULL ? PS_ENOMEM : 0;
}

bool
ps_lint_public_suffix(const char *domain)
{
    const psl_ctx_t *psl = psl_latest(NULL);
    bool own = psl != NULL, r;

    if (psl == NULL)
        psl = psl_builtin();
    r = domain != NULL && psl != NULL && psl_is_public_suffix2(psl, domain, PSL_TYPE_ANY);
    if (own)
        psl_free((psl_ctx_t *)psl);
    return r;
}

static int
check_entries(struct ps_lint *l)
{
    const psl_ctx_t *psl = psl_latest(NULL);
    bool own = psl != NULL;
    size_t i;
    int rc = 0;

    if (psl == NULL)
        psl = psl_builtin();
    for (i = 0; i < l->nentries && rc == 0; i++) {
        switch (l->entries[i].kind) {
        case K_DOMAIN:
            rc = check_domain(l, i, psl);
            break;
        case K_PROGRAM:
            rc = check_program(l, i);
            break;
        case K_SOURCE:
            rc = check_source(l, i);
            break;
        case K_CATEGORY:
            rc = check_category(l, i);
            break;
        case K_DEST:
            rc = check_destination(l, i);
            break;
        }
    }
    if (own)
        psl_free((psl_ctx_t *)psl);
    return rc;
}

/* ---- duplicates inside one rule ------------------------------------------------------------- */

static uint64_t
key_ns(const struct lentry *en)
{
    return (uint64_t)en->rule * 8 + en->kind;
}

static int
index_keys(struct ps_lint *l)
{
    struct lentry *en;
    size_t i, old;
    int rc;

    for (i = 0; i < l->nentries; i++) {
        en = &l->entries[i];
        if (en->key == NULL)
            continue;
        rc = ps_keytab_put(l->keys, key_ns(en), en->key, strlen(en->key), i, &old);
        if (rc < 0)
            return rc;
        if (rc == 1 && wants(l, en->rule, PS_LINT_WARNING) &&
            (rc = add_finding(l, PS_LINT_WARNING, "duplicate", en->rule, i,
                              "%s '%s' is the same as '%s' in the same rule", kind_names[en->kind],
                              en->value, l->entries[old].value)) < 0)
            return rc;
    }
    return 0;
}

/* A domain below a non-exact domain of its own rule. */
static int
dup_domain(struct ps_lint *l, size_t i)
{
    const struct lentry *en = &l->entries[i];
    const char *p = en->key;
    size_t n, j;

    for (n = 0; n < PS_LABELS_MAX && (p = strchr(p, '.')) != NULL; n++) {
        p++;
        if (ps_keytab_get(l->keys, key_ns(en), p, strlen(p), &j) && !l->entries[j].exact)
            return add_finding(l, PS_LINT_WARNING, "duplicate", en->rule, i,
                               "domain '%s' is already covered by '%s' in the same rule", en->value,
                               l->entries[j].value);
    }
    return 0;
}

/* A network inside a wider network of its own rule. */
static int
dup_source(struct ps_lint *l, size_t i)
{
    const struct lentry *en = &l->entries[i];
    const struct lrule *r = &l->rules[en->rule];
    struct ps_addr m;
    unsigned b;
    size_t j;
    char *k;
    bool found;

    for (b = 0; b < en->net.bits; b++) {
        if (!(r->bits[b / 64] & (1ULL << (b % 64))))
            continue;
        mask_net(&en->net.net, b, &m);
        if ((k = net_key(&m, b)) == NULL)
            return PS_ENOMEM;
        found = ps_keytab_get(l->keys, key_ns(en), k, strlen(k), &j);
        free(k);
        if (found)
            return add_finding(l, PS_LINT_WARNING, "duplicate", en->rule, i,
                               "source '%s' is inside '%s' of the same rule", en->value,
                               l->entries[j].value);
    }
    return 0;
}

static int
check_duplicates(struct ps_lint *l)
{
    const struct lentry *en;
    size_t i;
    int rc = index_keys(l);

    for (i = 0; i < l->nentries && rc == 0; i++) {
        en = &l->entries[i];
        if (en->key == NULL || !wants(l, en->rule, PS_LINT_WARNING))
            continue;
        if (en->kind == K_DOMAIN)
            rc = dup_domain(l, i);
        else if (en->kind == K_SOURCE && en->is_net)
            rc = dup_source(l, i);
    }
    return rc;
}

static int
check_empty(struct ps_lint *l)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < l->nrules && rc == 0; i++)
        if (l->rules[i].n_entries == 0 && wants(l, i, PS_LINT_WARNING))
            rc = add_finding(l, PS_LINT_WARNING, "empty-rule", i, SIZE_MAX,
                             "rule has no entries: it matches nothing");
    return rc;
}

/* ---- checks on the loaded snapshot ----------------------------------------------------------- */

static void
fmt_time(int64_t t, char out[32])
{
    if (!ps_utc_format(t, "%Y-%m-%d %H:%M:%S UTC", out, 32))
        snprintf(out, 32, "%lld", (long long)t);
}

/* Evaluation order of every enabled rule: rule id -> snapshot index. */
static int
snap_order(const struct ps_snapshot *snap, struct ps_keytab *order)
{
    size_t i, n = ps_snapshot_nrules(snap);

    for (i = 0; i < n; i++)
        if (ps_keytab_put(order, (uint64_t)ps_snapshot_rule(snap, i)->id, "", 0, i, NULL) < 0)
            return PS_ENOMEM;
    return 0;
}

static int
check_expired(struct ps_lint *l, const struct ps_snapshot *snap, time_t now)
{
    const struct ps_rule *sr;
    char when[32];
    size_t i, r;
    int rc = 0;

    for (i = 0; i < ps_snapshot_nrules(snap) && rc == 0; i++) {
        sr = ps_snapshot_rule(snap, i);
        if (sr->expires_at == 0 || sr->expires_at > (int64_t)now ||
            !ps_keytab_get(l->ruleids, (uint64_t)sr->id, "", 0, &r))
            continue;
        fmt_time(sr->expires_at, when);
        rc = add_finding(l, PS_LINT_WARNING, "expired", r, SIZE_MAX,
                         "rule expired at %s: it matches nothing", when);
    }
    return rc;
}

/* Does the deciding rule s cover the whole subtree of the name (see lint.h)? */
static bool
covers_subtree(const struct ps_lint *l, size_t s, const struct ps_decision *d)
{
    struct lentry probe = {.kind = K_DOMAIN, .rule = s};
    size_t j;

    if (d->m_domain == NULL)
        return d->m_category != NULL;
    if (!ps_keytab_get(l->keys, key_ns(&probe), d->m_domain, strlen(d->m_domain), &j))
        return false;
    return !l->entries[j].exact;
}

static int
shadow_one(struct ps_lint *l, const struct ps_snapshot *snap, const struct ps_keytab *order,
           size_t i, time_t now)
{
    const struct lentry *en = &l->entries[i];
    const struct ps_rule *mine, *by;
    struct ps_query q = {.sni = en->value, .now = now};
    struct ps_decision d;
    char via[600], until[64] = "", when[32];
    size_t oi, od, s;
    bool same;

    if (!ps_keytab_get(order, (uint64_t)l->rules[en->rule].id, "", 0, &oi))
        return 0;
    ps_decide(snap, &q, &d);
    if (d.reason != PS_REASON_RULE || d.rule_id == l->rules[en->rule].id ||
        !ps_keytab_get(order, (uint64_t)d.rule_id, "", 0, &od) || od > oi ||
        !ps_keytab_get(l->ruleids, (uint64_t)d.rule_id, "", 0, &s))
        return 0;
    if (!en->exact && !covers_subtree(l, s, &d))
        return 0;
    mine = ps_snapshot_rule(snap, oi);
    by = ps_snapshot_rule(snap, od);
    snprintf(via, sizeof(via), "%s%s%s%s%s%s", d.m_domain ? "domain '" : "",
             d.m_domain ? d.m_domain : "", d.m_domain ? "'" : "",
             d.m_domain && d.m_category ? " and " : "", d.m_category ? "category " : "",
             d.m_category ? d.m_category : "");
    if (by->expires_at != 0) {
        fmt_time(by->expires_at, when);
        snprintf(until, sizeof(until), " until it expires at %s", when);
    }
    same = by->action == mine->action;
    if (same)
        return add_finding(l, PS_LINT_WARNING, "shadowed", en->rule, i,
                           "domain '%s' never decides: rule '%s' (id %lld), evaluated earlier, "
                           "already %ss it (via %s)%s",
                           en->value, by->name, (long long)by->id, ps_action_str(by->action), via,
                           until);
    return add_finding(l, PS_LINT_ERROR, "shadowed", en->rule, i,
                       "domain '%s' never decides: rule '%s' (id %lld), evaluated earlier, %ss "
                       "it (via %s)%s, not %s as this rule says; move this rule above it",
                       en->value, by->name, (long long)by->id, ps_action_str(by->action), via,
                       until, ps_action_str(mine->action));
}

static int
check_shadowed(struct ps_lint *l, const struct ps_snapshot *snap, time_t now)
{
    struct ps_keytab *order = ps_keytab_new();
    const struct lentry *en;
    size_t i;
    int rc = order == NULL ? PS_ENOMEM : snap_order(snap, order);

    for (i = 0; i < l->nentries && rc == 0; i++) {
        en = &l->entries[i];
        if (en->kind == K_DOMAIN && en->key != NULL && l->rules[en->rule].enabled)
            rc = shadow_one(l, snap, order, i, now);
    }
    ps_keytab_free(order);
    return rc;
}

/* ---- running --------------------------------------------------------------------------------- */

int
ps_lint_finish(struct ps_lint *l, const struct ps_snapshot *snap, const char *load_error,
               time_t now, struct ps_err *err)
{
    int rc;

    if (l == NULL || l->finished)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    l->finished = true;
    if (now == 0)
        now = time(NULL);
    rc = 0;
    if (load_error != NULL)
        rc = add_finding(l, PS_LINT_ERROR, "load", SIZE_MAX, SIZE_MAX,
                         "the rules do not load (the helper would refuse this database): %s; "
                         "shadowing not checked",
                         load_error);
    if (rc == 0)
        rc = check_entries(l);
    if (rc == 0)
        rc = check_duplicates(l);
    if (rc == 0)
        rc = check_empty(l);
    if (rc == 0 && snap != NULL)
        rc = check_expired(l, snap, now);
    if (rc == 0 && snap != NULL)
        rc = check_shadowed(l, snap, now);
    if (rc < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    if (l->nrecs > 1)
        qsort(l->recs, l->nrecs, sizeof(*l->recs), cmp_rec);
    return 0;
}

size_t
ps_lint_count(const struct ps_lint *l)
{
    return l != NULL && l->finished ? l->nrecs : 0;
}

const struct ps_lint_finding *
ps_lint_get(const struct ps_lint *l, size_t i)
{
    return i < ps_lint_count(l) ? &l->recs[i].f : NULL;
}

size_t
ps_lint_count_severity(const struct ps_lint *l, enum ps_lint_severity sev)
{
    size_t i, n = 0;

    for (i = 0; i < ps_lint_count(l); i++)
        n += l->recs[i].f.severity == sev;
    return n;
}

const char *
ps_lint_severity_str(enum ps_lint_severity sev)
{
    return sev == PS_LINT_ERROR ? "error" : "warning";
}

/* store.c prefixes its messages with the file's path; the finding is printed after the path
 * already. */
static const char *
strip_path(const char *msg, const char *path)
{
    size_t n = strlen(path);

    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        return msg + n + 2;
    return msg;
}

int
ps_lint_db(const char *path, int busy_ms, struct ps_lint **out, struct ps_err *err)
{
    struct ps_snapshot *snap = NULL;
    struct ps_lint *l = NULL;
    struct ps_err lerr = {0, ""};
    int rc;

    rc = ps_store_load(path, busy_ms, &snap, &lerr);
    if (rc < 0 && rc != PS_EINVAL) {
        if (err != NULL)
            *err = lerr;
        goto done;
    }
    if ((l = ps_lint_new()) == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "out of memory");
        goto done;
    }
    rc = ps_store_foreach(path, ps_lint_add_cb, l, err);
    if (rc != 0) {
        if (l->add_err.code != 0 && err != NULL)
            *err = l->add_err;
        rc = rc < 0 ? rc : PS_EDB;
        goto done;
    }
    rc = ps_lint_finish(l, snap, snap == NULL ? strip_path(lerr.msg, path) : NULL, 0, err);
    if (rc == 0) {
        *out = l;
        l = NULL;
    }
done:
    ps_lint_free(l);
    ps_snapshot_release(snap);
    return rc;
}
