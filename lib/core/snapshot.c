#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "index.h"
#include "snapshot.h"
#include "snapshot_int.h"
#include "verify.h"

/* The rule snapshot once built (builder.c, builder_finish.c): reference counting and the reads
 * decide.c makes. Nothing here allocates, locks or logs. */

void
ps_snapshot_destroy(struct ps_snapshot *s)
{
    size_t i;

    if (s == NULL)
        return;
    ps_index_free(&s->domains);
    ps_index_free(&s->catdomains);
    ps_index_free(&s->programs);
    for (i = 0; s->rules != NULL && i < s->nrules; i++)
        ps_verify_trust_unref(s->rules[i].trust);
    free(s->rules);
    free(s->cat_names);
    free(s->rcat_off);
    free(s->rcat);
    free(s->rsrc_off);
    free(s->src);
    free(s->rdst_off);
    free(s->dst);
    free(s->crule_off);
    free(s->crule);
    free(s->srconly);
    free(s->trusted);
    ps_verify_trust_unref(s->verify_trust);
    free(s->arena);
    free(s);
}


struct ps_snapshot *
ps_snapshot_ref(struct ps_snapshot *s)
{
    if (s != NULL)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void
ps_snapshot_release(struct ps_snapshot *s)
{
    if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        ps_snapshot_destroy(s);
}

void
ps_snapshot_stats(const struct ps_snapshot *s, struct ps_snapshot_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return;
    out->rules = s->counts[0];
    out->domains = s->counts[1];
    out->programs = s->counts[2];
    out->categories = s->counts[3];
    out->category_domains = s->counts[4];
    out->sources = s->counts[5];
    out->destinations = s->counts[6];
    out->pins = s->counts[7];
    out->bytes = s->bytes;
}

size_t
ps_snapshot_nrules(const struct ps_snapshot *s)
{
    return s->nrules;
}

const struct ps_rule *
ps_snapshot_rule(const struct ps_snapshot *s, size_t idx)
{
    return idx < s->nrules ? &s->rules[idx] : NULL;
}

enum ps_action
ps_snapshot_default_action(const struct ps_snapshot *s)
{
    return s->default_action;
}

enum ps_no_sni
ps_snapshot_no_sni(const struct ps_snapshot *s)
{
    return s->no_sni;
}

enum ps_ip_sni
ps_snapshot_ip_sni(const struct ps_snapshot *s)
{
    return s->ip_sni;
}

enum ps_splice_verify
ps_snapshot_verify(const struct ps_snapshot *s, struct ps_verify_trust **trust,
                   unsigned *timeout_ms)
{
    *trust = s->verify_trust;
    *timeout_ms = s->verify_timeout_ms;
    return s->verify_mode;
}

uint8_t
ps_snapshot_dims(const struct ps_snapshot *s)
{
    return s->dims;
}

const char *
ps_snapshot_category_name(const struct ps_snapshot *s, uint32_t cat)
{
    return cat < s->ncats ? s->cat_names[cat] : NULL;
}

bool
ps_snapshot_rule_has_category(const struct ps_snapshot *s, uint32_t rule, uint32_t cat)
{
    uint32_t i;

    if (rule >= s->nrules)
        return false;
    for (i = s->rcat_off[rule]; i < s->rcat_off[rule + 1]; i++)
        if (s->rcat[i] == cat)
            return true;
    return false;
}

/* Inlined into each lookup below, so a lookup is one call from decide.c. */
static inline __attribute__((always_inline)) bool
nt_lookup_h(const struct ps_snapshot *s, const struct ps_index *t, const char *key, size_t len,
            uint64_t h, struct ps_postings *out)
{
    int64_t e;

    if (t->n == 0)
        return false;
    e = ps_index_find_h(t, s->arena, key, len, h, false, 0);
    if (e < 0)
        return false;
    out->v = t->post + t->e[e].post_off;
    out->n = t->e[e].post_n;
    out->key = s->arena + t->e[e].key_off;
    return true;
}

static bool
nt_lookup(const struct ps_snapshot *s, const struct ps_index *t, const char *key, size_t len,
          struct ps_postings *out)
{
    return t->n != 0 && nt_lookup_h(s, t, key, len, ps_index_hash(key, len), out);
}

bool
ps_snapshot_domain(const struct ps_snapshot *s, const char *name, size_t len,
                   struct ps_postings *out)
{
    return nt_lookup(s, &s->domains, name, len, out);
}

bool
ps_snapshot_domain_h(const struct ps_snapshot *s, const char *name, size_t len, uint64_t h,
                     struct ps_postings *out)
{
    return nt_lookup_h(s, &s->domains, name, len, h, out);
}

bool
ps_snapshot_category_domain_h(const struct ps_snapshot *s, const char *name, size_t len,
                              uint64_t h, struct ps_postings *out)
{
    return nt_lookup_h(s, &s->catdomains, name, len, h, out);
}

void
ps_snapshot_prefetch_domain(const struct ps_snapshot *s, uint64_t h)
{
    if (s->domains.n != 0)
        __builtin_prefetch(&s->domains.slots[(uint32_t)h & s->domains.mask]);
}

bool
ps_snapshot_category_domain(const struct ps_snapshot *s, const char *name, size_t len,
                            struct ps_postings *out)
{
    return nt_lookup(s, &s->catdomains, name, len, out);
}

bool
ps_snapshot_program(const struct ps_snapshot *s, const char *basename, size_t len,
                    struct ps_postings *out)
{
    return nt_lookup(s, &s->programs, basename, len, out);
}

bool
ps_snapshot_program_trusted(const struct ps_snapshot *s, const struct ps_addr *client)
{
    uint32_t i;

    if (client == NULL)
        return false;
    for (i = 0; i < s->ntrusted; i++)
        if (ps_cidr_contains(&s->trusted[i], client))
            return true;
    return false;
}

const char *
ps_snapshot_source_match(const struct ps_snapshot *s, uint32_t rule, const struct ps_addr *client,
                         const char *user)
{
    uint32_t i;

    if (rule >= s->nrules)
        return NULL;
    for (i = s->rsrc_off[rule]; i < s->rsrc_off[rule + 1]; i++) {
        const struct src_entry *e = &s->src[i];
        if (e->is_user) {
            if (user != NULL && strcmp(s->arena + e->text_off + 5, user) == 0)
                return s->arena + e->text_off;
        } else if (client != NULL && ps_cidr_contains(&e->cidr, client)) {
            return s->arena + e->text_off;
        }
    }
    return NULL;
}

void
ps_snapshot_category_rules(const struct ps_snapshot *s, uint32_t cat, struct ps_postings *out)
{
    out->key = ps_snapshot_category_name(s, cat);
    if (cat >= s->ncats || s->crule_off == NULL) {
        out->v = NULL;
        out->n = 0;
        return;
    }
    out->v = s->crule + s->crule_off[cat];
    out->n = s->crule_off[cat + 1] - s->crule_off[cat];
}

void
ps_snapshot_source_only_rules(const struct ps_snapshot *s, struct ps_postings *out)
{
    out->v = s->srconly;
    out->n = s->nsrconly;
    out->key = NULL;
}

const char *
ps_snapshot_destination_match(const struct ps_snapshot *s, uint32_t rule,
                              const struct ps_addr *dest)
{
    uint32_t i;

    if (rule >= s->nrules || dest == NULL)
        return NULL;
    for (i = s->rdst_off[rule]; i < s->rdst_off[rule + 1]; i++)
        if (ps_cidr_contains(&s->dst[i].cidr, dest))
            return s->arena + s->dst[i].text_off;
    return NULL;
}

enum ps_rule_verify
ps_snapshot_rule_verify(const struct ps_snapshot *s, const struct ps_rule *r,
                        struct ps_verify_trust **trust, unsigned *timeout_ms)
{
    enum ps_rule_verify mode = r != NULL && r->verify != PS_RULE_VERIFY_INHERIT ? r->verify
                               : s->verify_mode == PS_SPLICE_VERIFY_OFF    ? PS_RULE_VERIFY_OFF
                               : s->verify_mode == PS_SPLICE_VERIFY_ALWAYS ? PS_RULE_VERIFY_ALWAYS
                                                                           : PS_RULE_VERIFY_IP;

    *trust = r != NULL && r->own_trust ? r->trust : s->verify_trust;
    *timeout_ms = s->verify_timeout_ms;
    return mode;
}

/* The suffix hashes decide.c looks up, hashed as ps_index_hash hashes (index.h). */
void
ps_snapshot_suffixes(const char *name, size_t len, struct ps_suffixes *out)
{
    uint64_t h = PS_INDEX_FNV_BASIS;
    size_t i = len, n = 0;
    size_t off[PS_SUFFIX_MAX];
    uint64_t hs[PS_SUFFIX_MAX];

    /* Collected from the shortest suffix (the TLD) to the name itself, then reversed so that
     * index 0 is the whole name. */
    while (i > 0) {
        h = (h ^ (unsigned char)name[--i]) * PS_INDEX_FNV_PRIME;
        if ((i == 0 || name[i - 1] == '.') && n < PS_SUFFIX_MAX) {
            off[n] = i;
            hs[n] = ps_index_mix(h);
            n++;
        }
    }
    out->n = n;
    for (i = 0; i < n; i++) {
        out->off[i] = (uint8_t)off[n - 1 - i];
        out->h[i] = hs[n - 1 - i];
    }
}
