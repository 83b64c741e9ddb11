#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "builder_int.h"
#include "err.h"
#include "index.h"
#include "snapshot.h"
#include "snapshot_int.h"
#include "verify.h"

/* ps_builder_finish: the rows a builder collected become a snapshot's rules in evaluation
 * order, its hash indexes (index.h), the category and source/destination arrays, and the
 * server-check trusts. */

static int
cmp_rule(const void *a, const void *b)
{
    const struct ps_brule *x = a, *y = b;

    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

struct idmap {
    int64_t id;
    uint32_t idx;
};

static int
cmp_idmap(const void *a, const void *b)
{
    const struct idmap *x = a, *y = b;

    return x->id < y->id ? -1 : (x->id > y->id);
}

static int64_t
rule_index(const struct idmap *map, size_t n, int64_t id)
{
    struct idmap key = {id, 0};
    const struct idmap *m = bsearch(&key, map, n, sizeof(*map), cmp_idmap);

    return m ? (int64_t)m->idx : -1;
}

/* Build a name table from rows whose rule ids map to rule indexes (unknown ids are skipped). */
static int
build_rule_table(struct ps_snapshot *s, struct ps_index *t, const struct ps_bvec *rows,
                 const struct idmap *map, size_t nmap, uint8_t dim, size_t *count)
{
    const struct ps_brow *r = rows->p;
    struct ps_index_pair *pairs = malloc((rows->n ? rows->n : 1) * sizeof(*pairs));
    size_t i, np = 0;
    int rc = PS_ENOMEM;

    if (pairs == NULL || ps_index_init(t, rows->n) < 0)
        goto done;
    /* Inserting 1M keys is bound by cache misses on the slot array: hash every key first (one
     * sequential pass, kept in pairs[].value for now), then insert with the slot of the key a few
     * rows ahead already on its way. */
    for (i = 0; i < rows->n; i++) {
        const char *key = s->arena + r[i].off;
        uint64_t h = ps_index_hash(key, strlen(key));
        pairs[i].value = (uint32_t)h;
        pairs[i].entry = (uint32_t)(h >> 32);
    }
    for (i = 0; i < rows->n; i++) {
        int64_t idx = rule_index(map, nmap, r[i].rule_id);
        const char *key = s->arena + r[i].off;
        uint64_t h = (uint64_t)pairs[i].entry << 32 | pairs[i].value;
        if (i + 16 < rows->n)
            __builtin_prefetch(&t->slots[pairs[i + 16].value & t->mask], 1);
        if (idx < 0)
            continue;
        pairs[np].entry = (uint32_t)ps_index_find_h(t, s->arena, key, strlen(key), h, true, r[i].off);
        pairs[np].value = ((uint32_t)idx << 1) | (r[i].flag ? 1u : 0u);
        np++;
        s->rules[idx].dims |= dim;
    }
    *count = np;
    rc = ps_index_postings(t, pairs, np);
done:
    free(pairs);
    return rc;
}

static int
build_categories(struct ps_snapshot *s, struct ps_builder *b, const struct idmap *map, size_t nmap)
{
    const struct ps_brow *rc_rows = b->rcats.p, *cd = b->catdomains.p;
    const uint32_t *cdn = b->catnames.p;
    struct ps_index names; /* category name -> index */
    struct ps_index_pair *pairs = NULL;
    size_t i, np = 0;
    uint32_t *cnt = NULL;
    int rc = PS_ENOMEM;

    memset(&names, 0, sizeof(names));
    if (ps_index_init(&names, b->rcats.n + b->catdomains.n) < 0)
        goto done;
    /* Categories are indexed in order of first use by a rule, then by a domain. */
    for (i = 0; i < b->rcats.n; i++) {
        const char *k = s->arena + rc_rows[i].off;
        ps_index_find(&names, s->arena, k, strlen(k), true, rc_rows[i].off);
    }
    for (i = 0; i < b->catdomains.n; i++) {
        const char *k = s->arena + cdn[i];
        ps_index_find(&names, s->arena, k, strlen(k), true, cdn[i]);
    }
    s->ncats = names.n;
    s->cat_names = calloc(names.n ? names.n : 1, sizeof(char *));
    s->rcat_off = calloc(s->nrules + 1, sizeof(uint32_t));
    s->rcat = malloc((b->rcats.n ? b->rcats.n : 1) * sizeof(uint32_t));
    cnt = calloc(s->nrules + 1, sizeof(uint32_t));
    pairs = malloc((b->catdomains.n ? b->catdomains.n : 1) * sizeof(*pairs));
    if (!s->cat_names || !s->rcat_off || !s->rcat || !cnt || !pairs)
        goto done;
    for (i = 0; i < names.n; i++)
        s->cat_names[i] = s->arena + names.e[i].key_off;
    /* rule -> categories, as a CSR array */
    for (i = 0; i < b->rcats.n; i++) {
        int64_t idx = rule_index(map, nmap, rc_rows[i].rule_id);
        if (idx >= 0)
            cnt[idx + 1]++;
    }
    for (i = 0; i < s->nrules; i++)
        s->rcat_off[i + 1] = s->rcat_off[i] + cnt[i + 1];
    memset(cnt, 0, (s->nrules + 1) * sizeof(uint32_t));
    for (i = 0; i < b->rcats.n; i++) {
        const char *k = s->arena + rc_rows[i].off;
        int64_t idx = rule_index(map, nmap, rc_rows[i].rule_id);
        if (idx < 0)
            continue;
        s->rcat[s->rcat_off[idx] + cnt[idx]++] =
            (uint32_t)ps_index_find(&names, s->arena, k, strlen(k), false, 0);
        s->rules[idx].dims |= PS_DIM_CATEGORY;
    }
    /* category -> rules (rules are visited in order, so each list comes out ascending) */
    s->crule_off = calloc(s->ncats + 1, sizeof(uint32_t));
    s->crule = malloc((b->rcats.n ? b->rcats.n : 1) * sizeof(uint32_t));
    if (s->crule_off == NULL || s->crule == NULL)
        goto done;
    for (i = 0; i < s->rcat_off[s->nrules]; i++)
        s->crule_off[s->rcat[i] + 1]++;
    for (i = 0; i < s->ncats; i++)
        s->crule_off[i + 1] += s->crule_off[i];
    {
        uint32_t r, j, *fill = calloc(s->ncats + 1, sizeof(uint32_t));
        if (fill == NULL)
            goto done;
        for (r = 0; r < s->nrules; r++)
            for (j = s->rcat_off[r]; j < s->rcat_off[r + 1]; j++) {
                uint32_t c = s->rcat[j];
                s->crule[s->crule_off[c] + fill[c]++] = r << 1;
            }
        free(fill);
    }
    /* domain -> categories */
    if (ps_index_init(&s->catdomains, b->catdomains.n) < 0)
        goto done;
    for (i = 0; i < b->catdomains.n; i++) {
        const char *k = s->arena + cd[i].off, *c = s->arena + cdn[i];
        pairs[np].entry = (uint32_t)ps_index_find(&s->catdomains, s->arena, k, strlen(k), true, cd[i].off);
        pairs[np].value = (uint32_t)ps_index_find(&names, s->arena, c, strlen(c), false, 0) << 1;
        np++;
    }
    s->counts[3] = s->ncats;
    s->counts[4] = np;
    rc = ps_index_postings(&s->catdomains, pairs, np);
done:
    ps_index_free(&names);
    free(pairs);
    free(cnt);
    return rc;
}

static int
build_sources(struct ps_snapshot *s, struct ps_builder *b, const struct idmap *map, size_t nmap)
{
    const struct ps_brow *r = b->sources.p;
    uint32_t *cnt = calloc(s->nrules + 1, sizeof(uint32_t));
    size_t i;
    int rc = PS_ENOMEM;

    s->rsrc_off = calloc(s->nrules + 1, sizeof(uint32_t));
    s->src = calloc(b->sources.n ? b->sources.n : 1, sizeof(*s->src));
    if (cnt == NULL || s->rsrc_off == NULL || s->src == NULL)
        goto done;
    for (i = 0; i < b->sources.n; i++) {
        int64_t idx = rule_index(map, nmap, r[i].rule_id);
        if (idx >= 0)
            cnt[idx + 1]++;
    }
    for (i = 0; i < s->nrules; i++)
        s->rsrc_off[i + 1] = s->rsrc_off[i] + cnt[i + 1];
    memset(cnt, 0, (s->nrules + 1) * sizeof(uint32_t));
    for (i = 0; i < b->sources.n; i++) {
        int64_t idx = rule_index(map, nmap, r[i].rule_id);
        struct src_entry *e;
        if (idx < 0)
            continue;
        e = &s->src[s->rsrc_off[idx] + cnt[idx]++];
        e->text_off = r[i].off;
        e->is_user = r[i].flag != 0;
        e->cidr = r[i].cidr;
        s->rules[idx].dims |= PS_DIM_SOURCE;
        s->counts[5]++;
    }
    rc = 0;
done:
    free(cnt);
    return rc;
}

static int
build_dests(struct ps_snapshot *s, struct ps_builder *b, const struct idmap *map, size_t nmap)
{
    const struct ps_brow *r = b->dests.p;
    uint32_t *cnt = calloc(s->nrules + 1, sizeof(uint32_t));
    size_t i;
    int rc = PS_ENOMEM;

    s->rdst_off = calloc(s->nrules + 1, sizeof(uint32_t));
    s->dst = calloc(b->dests.n ? b->dests.n : 1, sizeof(*s->dst));
    if (cnt == NULL || s->rdst_off == NULL || s->dst == NULL)
        goto done;
    for (i = 0; i < b->dests.n; i++) {
        int64_t idx = rule_index(map, nmap, r[i].rule_id);
        if (idx >= 0)
            cnt[idx + 1]++;
    }
    for (i = 0; i < s->nrules; i++)
        s->rdst_off[i + 1] = s->rdst_off[i] + cnt[i + 1];
    memset(cnt, 0, (s->nrules + 1) * sizeof(uint32_t));
    for (i = 0; i < b->dests.n; i++) {
        int64_t idx = rule_index(map, nmap, r[i].rule_id);
        struct dst_entry *e;
        if (idx < 0)
            continue;
        e = &s->dst[s->rdst_off[idx] + cnt[idx]++];
        e->text_off = r[i].off;
        e->cidr = r[i].cidr;
        s->rules[idx].dims |= PS_DIM_DEST;
        s->counts[6]++;
    }
    rc = 0;
done:
    free(cnt);
    return rc;
}

/* The trusts of rules with their own CA file or pins (read now, at load time). A trust that
 * cannot be built does not stop the load: that rule's checks fail (verify-error), as for the
 * global bundle. Returns 0 or PS_ENOMEM. */
static int
build_trusts(struct ps_snapshot *s, struct ps_builder *b, const struct ps_brule *br,
             const struct idmap *map, size_t nmap)
{
    const struct ps_brow *p = b->pins.p;
    size_t i, j;
    char **pins = calloc(s->nrules ? s->nrules : 1, sizeof(char *));

    if (pins == NULL)
        return PS_ENOMEM;
    for (i = 0; i < b->pins.n; i++) {
        int64_t idx = rule_index(map, nmap, p[i].rule_id);
        const char *pin = s->arena + p[i].off;
        size_t old, need;
        char *np;
        if (idx < 0)
            continue;
        old = pins[idx] ? strlen(pins[idx]) : 0;
        need = old + 1 + 8 + strlen(pin) + 1;
        if ((np = realloc(pins[idx], need)) == NULL)
            goto oom;
        snprintf(np + old, need - old, "%ssha256//%s", old ? "," : "", pin);
        pins[idx] = np;
        s->counts[7]++;
    }
    for (i = 0; i < s->nrules; i++) {
        struct ps_rule *r = &s->rules[i];
        const char *ca = br[i].ca_off != UINT32_MAX ? s->arena + br[i].ca_off : NULL;
        enum ps_rule_verify mode = r->verify != PS_RULE_VERIFY_INHERIT ? r->verify
                                   : s->verify_mode == PS_SPLICE_VERIFY_OFF ? PS_RULE_VERIFY_OFF
                                                                            : PS_RULE_VERIFY_IP;
        struct ps_err terr = {0, ""};
        if (ca == NULL && pins[i] == NULL)
            continue;
        r->own_trust = true;
        if (mode == PS_RULE_VERIFY_OFF)
            continue;
        r->trust = ps_verify_trust_get(ca != NULL ? ca : b->verify_ca_file, pins[i], &terr);
        if (r->trust == NULL)
            ps_log(PS_LOG_ERROR, "rule '%.80s': %s%s: splices that need a server check are bumped",
                   r->name, ca != NULL ? "verify_ca_file: " : "pins: ", terr.msg);
    }
    for (j = 0; j < s->nrules; j++)
        free(pins[j]);
    free(pins);
    return 0;
oom:
    for (j = 0; j < s->nrules; j++)
        free(pins[j]);
    free(pins);
    return PS_ENOMEM;
}

int
ps_builder_finish(struct ps_builder *b, struct ps_snapshot **out, struct ps_err *err)
{
    struct ps_snapshot *s = NULL;
    struct idmap *map = NULL;
    struct ps_brule *br = b->rules.p;
    size_t i, n = b->rules.n;
    int rc = PS_ENOMEM;

    if (b->failed) {
        rc = ps_err_set(err, PS_ENOMEM, "rule snapshot builder failed earlier");
        goto done;
    }
    s = calloc(1, sizeof(*s));
    map = malloc((n ? n : 1) * sizeof(*map));
    if (s == NULL || map == NULL)
        goto oom;
    s->refs = 1;
    s->arena = b->arena; /* handed over: every offset stays valid */
    s->arena_len = b->arena_len;
    b->arena = NULL;
    s->default_action = b->default_action;
    s->verify_mode = b->verify_mode;
    s->no_sni = b->no_sni;
    s->ip_sni = b->ip_sni;
    s->verify_timeout_ms = b->verify_timeout_ms;
    /* The global trust serves the rules that inherit it: needed when the setting checks, or
     * when a rule without a trust of its own turns checks on. */
    for (i = 0; i < n && s->verify_mode == PS_SPLICE_VERIFY_OFF; i++)
        if ((br[i].verify == PS_RULE_VERIFY_IP || br[i].verify == PS_RULE_VERIFY_ALWAYS) &&
            br[i].ca_off == UINT32_MAX)
            break;
    if (s->verify_mode != PS_SPLICE_VERIFY_OFF || i < n) {
        /* Reads the bundle now, at load time: never on an answering thread. */
        /* A bundle that cannot be read is not a reason to keep old rules: the snapshot loads,
         * and every splice that needs a check is bumped (verify-error) until the bundle is
         * fixed and the DB changes. */
        struct ps_err terr = {0, ""};
        s->verify_trust = ps_verify_trust_get(b->verify_ca_file, NULL, &terr);
        if (s->verify_trust == NULL)
            ps_log(PS_LOG_ERROR, "setting verify_ca_file: %s: splices that need a server check "
                   "are bumped", terr.msg);
    }
    /* qsort(NULL, 0, ...) is undefined (an empty builder has no array): sort only real work. */
    if (n > 1)
        qsort(br, n, sizeof(*br), cmp_rule);
    s->rules = calloc(n ? n : 1, sizeof(*s->rules));
    if (s->rules == NULL)
        goto oom;
    s->nrules = (uint32_t)n;
    for (i = 0; i < n; i++) {
        s->rules[i].id = br[i].id;
        s->rules[i].name = s->arena + br[i].name_off;
        s->rules[i].expires_at = br[i].expires_at;
        s->rules[i].action = br[i].action;
        s->rules[i].monitor = br[i].monitor;
        s->rules[i].verify = br[i].verify;
        map[i].id = br[i].id;
        map[i].idx = (uint32_t)i;
    }
    if (n > 1)
        qsort(map, n, sizeof(*map), cmp_idmap);
    for (i = 1; i < n; i++)
        if (map[i].id == map[i - 1].id) {
            rc = ps_err_set(err, PS_EINVAL, "rule id %lld appears twice", (long long)map[i].id);
            goto done;
        }
    if (build_rule_table(s, &s->domains, &b->domains, map, n, PS_DIM_DOMAIN, &s->counts[1]) < 0 ||
        build_rule_table(s, &s->programs, &b->programs, map, n, PS_DIM_PROGRAM, &s->counts[2]) < 0 ||
        build_categories(s, b, map, n) < 0 || build_sources(s, b, map, n) < 0 ||
        build_dests(s, b, map, n) < 0 || build_trusts(s, b, br, map, n) < 0)
        goto oom;
    if (b->trusted.n > 0) {
        s->trusted = b->trusted.p;
        s->ntrusted = (uint32_t)b->trusted.n;
        b->trusted.p = NULL;
    }
    s->srconly = malloc((n ? n : 1) * sizeof(uint32_t));
    if (s->srconly == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        s->dims |= s->rules[i].dims;
        if (s->rules[i].dims != 0 && (s->rules[i].dims & ~(PS_DIM_SOURCE | PS_DIM_DEST)) == 0)
            s->srconly[s->nsrconly++] = (uint32_t)i << 1;
    }
    s->counts[0] = n;
    s->bytes = sizeof(*s) + s->arena_len + n * sizeof(*s->rules) +
               ps_index_bytes(&s->domains, s->counts[1]) + ps_index_bytes(&s->programs, s->counts[2]) +
               ps_index_bytes(&s->catdomains, s->counts[4]) + (s->nrules + 1) * 8 +
               b->rcats.n * 4 + s->counts[5] * sizeof(*s->src) + s->ntrusted * sizeof(*s->trusted) +
               (s->nrules + 1) * 4 + s->counts[6] * sizeof(*s->dst);
    *out = s;
    s = NULL;
    rc = 0;
    goto done;
oom:
    rc = ps_err_set(err, PS_ENOMEM, "out of memory while building the rule snapshot");
done:
    ps_snapshot_destroy(s);
    free(map);
    ps_builder_free(b);
    return rc;
}

