/* lint_entry.c: the linter's checks of each entry and of the duplicates inside one rule. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "addr.h"
#include "err.h"
#include "keytab.h"
#include "lint.h"
#include "lint_int.h"
#include "name.h"

/* ---- per-entry checks ------------------------------------------------------------------------ */

static int
check_domain(struct ps_lint *l, size_t i, const psl_ctx_t *psl)
{
    struct lentry *en = &l->entries[i];
    struct ps_err e = {0, ""};
    struct ps_addr a;

    if (ps_addr_parse(en->value, strlen(en->value), &a, NULL) == 0)
        return ps_lint_note(l, PS_LINT_ERROR, "bad-name", en->rule, i,
                            "domain '%s' is an IP address: an IP never matches a domain entry",
                            en->value);
    if (ps_name_check_stored(en->value, &e) < 0)
        return ps_lint_note(l, PS_LINT_ERROR, "bad-name", en->rule, i, "%s", e.msg);
    if ((en->key = ps_lint_dup(en->value)) == NULL)
        return PS_ENOMEM;
    if (!en->exact && psl != NULL && psl_is_public_suffix2(psl, en->value, PSL_TYPE_ANY))
        return ps_lint_note(l, PS_LINT_ERROR, "public-suffix", en->rule, i,
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
        return ps_lint_note(l, PS_LINT_ERROR, "bad-program", en->rule, i, "bad program '%s': %s",
                            en->value, e.msg);
    if (strcspn(en->value, "/\\") != strlen(en->value))
        return ps_lint_note(l, PS_LINT_ERROR, "bad-program", en->rule, i,
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
            return ps_lint_note(l, PS_LINT_ERROR, "bad-source", en->rule, i,
                                "bad source 'user:': empty user name");
        en->key = ps_lint_dup(en->value);
        return en->key == NULL ? PS_ENOMEM : 0;
    }
    if (ps_cidr_parse(en->value, strlen(en->value), &en->net, &e) < 0)
        return ps_lint_note(l, PS_LINT_ERROR, "bad-source", en->rule, i, "bad source: %s", e.msg);
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
        return ps_lint_note(l, PS_LINT_ERROR, "bad-destination", en->rule, i, "bad destination: %s",
                            e.msg);
    en->is_net = true;
    en->key = net_key(&en->net.net, en->net.bits);
    if (en->key == NULL)
        return PS_ENOMEM;
    bits = en->net.net.v4 ? en->net.bits - 96 : en->net.bits;
    if (en->net.net.v4 ? bits < WIDE_V4 : bits < WIDE_V6)
        return ps_lint_note(l, PS_LINT_WARNING, "wide-destination", en->rule, i,
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
        return ps_lint_note(l, PS_LINT_ERROR, "unknown-category", en->rule, i,
                            "category '%s' is not in the categories table: it matches nothing",
                            en->value);
    en->key = ps_lint_dup(en->value);
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
        rc = ps_keytab_put(l->keys, ps_lint_key_ns(en), en->key, strlen(en->key), i, &old);
        if (rc < 0)
            return rc;
        if (rc == 1 && ps_lint_wants(l, en->rule, PS_LINT_WARNING) &&
            (rc = ps_lint_note(l, PS_LINT_WARNING, "duplicate", en->rule, i,
                               "%s '%s' is the same as '%s' in the same rule",
                               ps_lint_kind_names[en->kind], en->value, l->entries[old].value)) < 0)
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
        if (ps_keytab_get(l->keys, ps_lint_key_ns(en), p, strlen(p), &j) && !l->entries[j].exact)
            return ps_lint_note(l, PS_LINT_WARNING, "duplicate", en->rule, i,
                                "domain '%s' is already covered by '%s' in the same rule",
                                en->value, l->entries[j].value);
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
        found = ps_keytab_get(l->keys, ps_lint_key_ns(en), k, strlen(k), &j);
        free(k);
        if (found)
            return ps_lint_note(l, PS_LINT_WARNING, "duplicate", en->rule, i,
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
        if (en->key == NULL || !ps_lint_wants(l, en->rule, PS_LINT_WARNING))
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
        if (l->rules[i].n_entries == 0 && ps_lint_wants(l, i, PS_LINT_WARNING))
            rc = ps_lint_note(l, PS_LINT_WARNING, "empty-rule", i, SIZE_MAX,
                              "rule has no entries: it matches nothing");
    return rc;
}

int
ps_lint_check_entries(struct ps_lint *l)
{
    int rc = check_entries(l);

    if (rc == 0)
        rc = check_duplicates(l);
    if (rc == 0)
        rc = check_empty(l);
    return rc;
}
