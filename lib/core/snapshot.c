#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "name.h"
#include "proto.h"
#include "snapshot.h"
#include "verify.h"

/*
 * Layout. All strings live in one arena (offsets, not pointers, while building; the arena is handed
 * to the snapshot unchanged). A name table maps a key (a normalised domain, a lower-cased program
 * basename) to a posting list of uint32 values. Its slots are 64-bit (hash tag << 32 | entry + 1) in
 * one array probed linearly, so a miss reads one or two cache lines and never touches the entries.
 */

struct nt_entry {
    uint32_t key_off;
    uint32_t key_len;
    uint32_t post_off;
    uint32_t post_n;
};

struct nametab {
    uint64_t *slots;
    uint32_t mask; /* capacity - 1; capacity is a power of two */
    struct nt_entry *e;
    uint32_t n;
    uint32_t *post;
};

struct src_entry {
    uint32_t text_off;
    bool is_user;
    struct ps_cidr cidr;
};

struct dst_entry {
    uint32_t text_off;
    struct ps_cidr cidr;
};

struct ps_snapshot {
    int refs;
    char *arena;
    size_t arena_len;
    struct ps_rule *rules; /* evaluation order */
    uint32_t nrules;
    uint8_t dims;
    enum ps_action default_action;
    struct nametab domains;     /* domain -> (rule << 1 | exact) */
    struct nametab catdomains;  /* domain -> (category << 1) */
    struct nametab programs;    /* basename -> (rule << 1) */
    char **cat_names;           /* category index -> name (into arena) */
    uint32_t ncats;
    uint32_t *rcat_off, *rcat;  /* rule -> its categories: rcat[rcat_off[r] .. rcat_off[r+1]) */
    uint32_t *crule_off, *crule; /* category -> its rules (rule << 1), ascending */
    uint32_t *srconly, nsrconly; /* rules whose only dimension is the source (rule << 1) */
    uint32_t *rsrc_off;         /* rule -> its sources: src[rsrc_off[r] .. rsrc_off[r+1]) */
    struct src_entry *src;
    uint32_t *rdst_off;         /* rule -> its destinations: dst[rdst_off[r] .. rdst_off[r+1]) */
    struct dst_entry *dst;
    struct ps_cidr *trusted;
    uint32_t ntrusted;
    enum ps_splice_verify verify_mode;
    enum ps_no_sni no_sni;
    enum ps_ip_sni ip_sni;
    unsigned verify_timeout_ms;
    struct ps_verify_trust *verify_trust; /* NULL when verify_mode is OFF */
    size_t counts[8];           /* rules, domains, programs, categories, catdomains, sources,
                                 * destinations, pins */
    size_t bytes;
};

/* ---- builder ------------------------------------------------------------------------------- */

struct b_rule {
    int64_t id, position, expires_at;
    uint32_t name_off;
    uint32_t ca_off; /* verify_ca_file in the arena, or UINT32_MAX */
    enum ps_action action;
    bool monitor;
    enum ps_rule_verify verify;
};

struct b_row {
    int64_t rule_id; /* or category index for category domains */
    uint32_t off;    /* string in arena */
    uint32_t flag;   /* exact for domains; is_user for sources */
    struct ps_cidr cidr;
};

struct vec {
    void *p;
    size_t n, cap, size;
};

struct ps_builder {
    char *arena;
    size_t arena_len, arena_cap;
    struct vec rules, domains, programs, rcats, sources, catdomains, catnames, trusted, dests, pins;
    enum ps_action default_action;
    enum ps_splice_verify verify_mode;
    enum ps_no_sni no_sni;
    enum ps_ip_sni ip_sni;
    unsigned verify_timeout_ms;
    char *verify_ca_file; /* NULL: the system store */
    bool failed;
};

static int
vec_push(struct vec *v, const void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        void *p = realloc(v->p, cap * v->size);
        if (p == NULL)
            return PS_ENOMEM;
        v->p = p;
        v->cap = cap;
    }
    memcpy((char *)v->p + v->n * v->size, item, v->size);
    v->n++;
    return 0;
}

static int
arena_add(struct ps_builder *b, const char *s, size_t len, uint32_t *off)
{
    if (b->arena_len + len + 1 > UINT32_MAX)
        return PS_ENOMEM;
    if (b->arena_len + len + 1 > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap : 4096;
        char *p;
        while (cap < b->arena_len + len + 1)
            cap *= 2;
        p = realloc(b->arena, cap);
        if (p == NULL)
            return PS_ENOMEM;
        b->arena = p;
        b->arena_cap = cap;
    }
    memcpy(b->arena + b->arena_len, s, len);
    b->arena[b->arena_len + len] = '\0';
    *off = (uint32_t)b->arena_len;
    b->arena_len += len + 1;
    return 0;
}

struct ps_builder *
ps_builder_new(void)
{
    struct ps_builder *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->rules.size = sizeof(struct b_rule);
    b->domains.size = b->programs.size = b->rcats.size = b->sources.size = sizeof(struct b_row);
    b->dests.size = b->pins.size = sizeof(struct b_row);
    b->catdomains.size = sizeof(struct b_row);
    b->catnames.size = sizeof(uint32_t);
    b->trusted.size = sizeof(struct ps_cidr);
    b->default_action = PS_ACTION_BUMP;
    b->verify_mode = PS_SPLICE_VERIFY_IP;
    b->verify_timeout_ms = 3000;
    return b;
}

void
ps_builder_free(struct ps_builder *b)
{
    if (b == NULL)
        return;
    free(b->arena);
    free(b->rules.p);
    free(b->domains.p);
    free(b->programs.p);
    free(b->rcats.p);
    free(b->sources.p);
    free(b->catdomains.p);
    free(b->catnames.p);
    free(b->trusted.p);
    free(b->dests.p);
    free(b->pins.p);
    free(b->verify_ca_file);
    free(b);
}

static int
oom(struct ps_builder *b, struct ps_err *err)
{
    b->failed = true;
    return ps_err_set(err, PS_ENOMEM, "out of memory while building the rule snapshot");
}

int
ps_builder_setting(struct ps_builder *b, const char *key, const char *value, struct ps_err *err)
{
    if (key == NULL || value == NULL)
        return 0;
    if (strcmp(key, "default_action") == 0) {
        if (ps_action_parse(value, &b->default_action) < 0)
            return ps_err_set(err, PS_EINVAL, "setting default_action: bad action '%.40s'", value);
    } else if (strcmp(key, "splice_verify") == 0) {
        if (strcmp(value, "ip") == 0)
            b->verify_mode = PS_SPLICE_VERIFY_IP;
        else if (strcmp(value, "off") == 0)
            b->verify_mode = PS_SPLICE_VERIFY_OFF;
        else if (strcmp(value, "always") == 0)
            b->verify_mode = PS_SPLICE_VERIFY_ALWAYS;
        else
            return ps_err_set(err, PS_EINVAL,
                              "setting splice_verify: bad value '%.40s' (ip, always or off)", value);
    } else if (strcmp(key, "no_sni_action") == 0) {
        static const char *const v[] = {"host", "bump", "terminate"};
        size_t i;
        for (i = 0; i < 3 && strcmp(value, v[i]) != 0; i++)
            ;
        if (i == 3)
            return ps_err_set(err, PS_EINVAL,
                              "setting no_sni_action: bad value '%.40s' (host, bump or terminate)",
                              value);
        b->no_sni = (enum ps_no_sni)i;
    } else if (strcmp(key, "ip_sni_action") == 0) {
        static const char *const v[] = {"ignore", "host", "bump", "terminate"};
        size_t i;
        for (i = 0; i < 4 && strcmp(value, v[i]) != 0; i++)
            ;
        if (i == 4)
            return ps_err_set(err, PS_EINVAL,
                              "setting ip_sni_action: bad value '%.40s' (ignore, host, bump or "
                              "terminate)", value);
        b->ip_sni = (enum ps_ip_sni)i;
    } else if (strcmp(key, "verify_ca_file") == 0) {
        free(b->verify_ca_file);
        b->verify_ca_file = NULL;
        if (*value != '\0' && *value != '/')
            return ps_err_set(err, PS_EINVAL,
                              "setting verify_ca_file: '%.80s' is not an absolute path", value);
        if (*value != '\0' && (b->verify_ca_file = strdup(value)) == NULL)
            return oom(b, err);
    } else if (strcmp(key, "verify_timeout_ms") == 0) {
        unsigned long ms;
        if (ps_proto_parse_ulong("setting verify_timeout_ms", value, 100, 30000, &ms, err) < 0)
            return PS_EINVAL;
        b->verify_timeout_ms = (unsigned)ms;
    } else if (strcmp(key, "program_trusted_sources") == 0) {
        const char *p = value;
        while (*p != '\0') {
            size_t len;
            struct ps_cidr c;
            int rc;
            while (*p == ' ' || *p == ',' || *p == '\t')
                p++;
            len = strcspn(p, " ,\t");
            if (len == 0)
                break;
            rc = ps_cidr_parse(p, len, &c, err);
            if (rc < 0)
                return ps_err_prefix(err, "setting program_trusted_sources");
            if (vec_push(&b->trusted, &c) < 0)
                return oom(b, err);
            p += len;
        }
    }
    return 0;
}

int
ps_builder_rule(struct ps_builder *b, int64_t id, const char *name, enum ps_action action,
                int64_t position, int64_t expires_at, struct ps_err *err)
{
    struct b_rule r;

    if (name == NULL || name[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "rule %lld: empty name", (long long)id);
    memset(&r, 0, sizeof(r));
    r.id = id;
    r.position = position;
    r.expires_at = expires_at;
    r.action = action;
    r.ca_off = UINT32_MAX;
    if (arena_add(b, name, strlen(name), &r.name_off) < 0 || vec_push(&b->rules, &r) < 0)
        return oom(b, err);
    return 0;
}

int
ps_builder_rule_opts(struct ps_builder *b, int64_t id, bool monitor, const char *verify,
                     const char *verify_ca_file, struct ps_err *err)
{
    static const char *const modes[] = {"inherit", "off", "ip", "always"};
    struct b_rule *r = NULL;
    size_t i;

    for (i = b->rules.n; i > 0 && r == NULL; i--)
        if (((struct b_rule *)b->rules.p)[i - 1].id == id)
            r = &((struct b_rule *)b->rules.p)[i - 1];
    if (r == NULL)
        return ps_err_set(err, PS_EINVAL, "rule id %lld: options for an unknown rule",
                          (long long)id);
    for (i = 0; i < 4 && (verify == NULL || strcmp(verify, modes[i]) != 0); i++)
        ;
    if (i == 4)
        return ps_err_set(err, PS_EINVAL,
                          "rule '%.80s': bad verify '%.20s' (inherit, off, ip or always)",
                          b->arena + r->name_off, verify ? verify : "");
    r->verify = (enum ps_rule_verify)i;
    r->monitor = monitor;
    if (verify_ca_file != NULL && *verify_ca_file != '\0') {
        uint32_t off;
        if (*verify_ca_file != '/')
            return ps_err_set(err, PS_EINVAL,
                              "rule '%.80s': verify_ca_file '%.80s' is not an absolute path",
                              b->arena + r->name_off, verify_ca_file);
        if (arena_add(b, verify_ca_file, strlen(verify_ca_file), &off) < 0)
            return oom(b, err);
        r->ca_off = off;
    }
    return 0;
}

static int
add_row(struct ps_builder *b, struct vec *v, int64_t rule_id, const char *s, size_t len,
        uint32_t flag, const struct ps_cidr *cidr, struct ps_err *err)
{
    struct b_row row;

    memset(&row, 0, sizeof(row));
    row.rule_id = rule_id;
    row.flag = flag;
    if (cidr != NULL)
        row.cidr = *cidr;
    if (arena_add(b, s, len, &row.off) < 0 || vec_push(v, &row) < 0)
        return oom(b, err);
    return 0;
}

int
ps_builder_domain(struct ps_builder *b, int64_t rule_id, const char *domain, bool exact,
                  struct ps_err *err)
{
    int rc = ps_name_check_stored(domain, err);

    if (rc < 0)
        return ps_err_prefix(err, "rule id %lld", (long long)rule_id);
    return add_row(b, &b->domains, rule_id, domain, strlen(domain), exact, NULL, err);
}

int
ps_builder_program(struct ps_builder *b, int64_t rule_id, const char *program, struct ps_err *err)
{
    char base[PS_PROGRAM_MAX + 1];
    int rc = ps_name_program(program, program ? strlen(program) : 0, base, err);

    if (rc < 0)
        return ps_err_prefix(err, "rule id %lld: program '%.60s'", (long long)rule_id,
                             program ? program : "");
    return add_row(b, &b->programs, rule_id, base, strlen(base), 0, NULL, err);
}

int
ps_builder_category(struct ps_builder *b, int64_t rule_id, const char *category,
                    struct ps_err *err)
{
    if (category == NULL || category[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "rule id %lld: empty category", (long long)rule_id);
    return add_row(b, &b->rcats, rule_id, category, strlen(category), 0, NULL, err);
}

int
ps_builder_source(struct ps_builder *b, int64_t rule_id, const char *source, struct ps_err *err)
{
    struct ps_cidr c;
    size_t len = source ? strlen(source) : 0;

    if (len > 5 && memcmp(source, "user:", 5) == 0)
        return add_row(b, &b->sources, rule_id, source, len, 1, NULL, err);
    if (ps_cidr_parse(source, len, &c, err) < 0)
        return ps_err_prefix(err, "rule id %lld: source", (long long)rule_id);
    return add_row(b, &b->sources, rule_id, source, len, 0, &c, err);
}

int
ps_builder_destination(struct ps_builder *b, int64_t rule_id, const char *cidr, struct ps_err *err)
{
    struct ps_cidr c;
    size_t len = cidr ? strlen(cidr) : 0;

    if (ps_cidr_parse(cidr ? cidr : "", len, &c, err) < 0)
        return ps_err_prefix(err, "rule id %lld: destination", (long long)rule_id);
    return add_row(b, &b->dests, rule_id, cidr, len, 0, &c, err);
}

int
ps_builder_pin(struct ps_builder *b, int64_t rule_id, const char *pin, struct ps_err *err)
{
    size_t len, i;

    if (pin != NULL && strncmp(pin, "sha256//", 8) == 0)
        pin += 8;
    len = pin ? strlen(pin) : 0;
    /* base64 of 32 bytes: 43 characters and one '=' (lib/core/verify.c decodes it) */
    for (i = 0; i < len && i < 43 && (strchr("+/", pin[i]) != NULL ||
                                      (pin[i] >= 'A' && pin[i] <= 'Z') ||
                                      (pin[i] >= 'a' && pin[i] <= 'z') ||
                                      (pin[i] >= '0' && pin[i] <= '9'));
         i++)
        ;
    if (len != 44 || i != 43 || pin[43] != '=')
        return ps_err_set(err, PS_EINVAL,
                          "rule id %lld: pin '%.60s': not the base64 of a SHA-256 (44 characters)",
                          (long long)rule_id, pin ? pin : "");
    return add_row(b, &b->pins, rule_id, pin, len, 0, NULL, err);
}

int
ps_builder_category_domain(struct ps_builder *b, const char *category, const char *domain,
                           struct ps_err *err)
{
    uint32_t off;
    int rc;

    if (category == NULL || category[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "category domain '%.80s': empty category",
                          domain ? domain : "");
    rc = ps_name_check_stored(domain, err);
    if (rc < 0)
        return ps_err_prefix(err, "category '%.60s'", category);
    /* The category name is resolved to an index in finish(); keep its text beside the row. */
    if (arena_add(b, category, strlen(category), &off) < 0 || vec_push(&b->catnames, &off) < 0)
        return oom(b, err);
    return add_row(b, &b->catdomains, 0, domain, strlen(domain), 0, NULL, err);
}

/* ---- name tables --------------------------------------------------------------------------- */

/* FNV-1a over the bytes from the LAST to the first, then a final mix: walking a name from its end
 * passes every suffix boundary, so the hashes of all suffixes cost one pass (ps_snapshot_suffixes). */
#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
mix(uint64_t h)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

static uint64_t
hash_bytes(const char *s, size_t len)
{
    uint64_t h = FNV_BASIS;

    while (len > 0)
        h = (h ^ (unsigned char)s[--len]) * FNV_PRIME;
    return mix(h);
}

void
ps_snapshot_suffixes(const char *name, size_t len, struct ps_suffixes *out)
{
    uint64_t h = FNV_BASIS;
    size_t i = len, n = 0;
    size_t off[PS_SUFFIX_MAX];
    uint64_t hs[PS_SUFFIX_MAX];

    /* Collected from the shortest suffix (the TLD) to the name itself, then reversed so that
     * index 0 is the whole name. */
    while (i > 0) {
        h = (h ^ (unsigned char)name[--i]) * FNV_PRIME;
        if ((i == 0 || name[i - 1] == '.') && n < PS_SUFFIX_MAX) {
            off[n] = i;
            hs[n] = mix(h);
            n++;
        }
    }
    out->n = n;
    for (i = 0; i < n; i++) {
        out->off[i] = (uint8_t)off[n - 1 - i];
        out->h[i] = hs[n - 1 - i];
    }
}

static int
nt_init(struct nametab *t, size_t nkeys)
{
    size_t cap = 16;

    while (cap * 3 < nkeys * 4 + 4) /* load factor <= 0.75 */
        cap *= 2;
    t->slots = calloc(cap, sizeof(*t->slots));
    t->e = calloc(nkeys ? nkeys : 1, sizeof(*t->e));
    if (t->slots == NULL || t->e == NULL)
        return PS_ENOMEM;
    t->mask = (uint32_t)(cap - 1);
    t->n = 0;
    return 0;
}

static void
nt_free(struct nametab *t)
{
    free(t->slots);
    free(t->e);
    free(t->post);
}

/* Find key; with insert, add it when absent. Returns the entry index or -1 (absent). */
static int64_t
nt_find_h(const struct nametab *t, const char *arena, const char *key, size_t len, uint64_t h,
          bool insert, uint32_t key_off)
{
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & t->mask;
    struct nametab *mt = (struct nametab *)t;

    for (;;) {
        uint64_t s = t->slots[i];
        if (s == 0) {
            if (!insert)
                return -1;
            mt->e[t->n].key_off = key_off;
            mt->e[t->n].key_len = (uint32_t)len;
            mt->slots[i] = ((uint64_t)tag << 32) | (t->n + 1);
            return mt->n++;
        }
        if ((uint32_t)(s >> 32) == tag) {
            const struct nt_entry *e = &t->e[(uint32_t)s - 1];
            if (e->key_len == len && memcmp(arena + e->key_off, key, len) == 0)
                return (uint32_t)s - 1;
        }
        i = (i + 1) & t->mask;
    }
}

static int64_t
nt_find(const struct nametab *t, const char *arena, const char *key, size_t len, bool insert,
        uint32_t key_off)
{
    return nt_find_h(t, arena, key, len, hash_bytes(key, len), insert, key_off);
}

struct pair {
    uint32_t entry, value;
};

/* Turn (entry, value) pairs into per-entry sorted, de-duplicated posting lists: a counting sort
 * by entry (linear; a qsort of 1M pairs was a tenth of the load), then each list, nearly always
 * one or two values, sorted in place. */
static int
nt_postings(struct nametab *t, struct pair *pairs, size_t n)
{
    uint32_t *fill = calloc((size_t)t->n + 1, sizeof(uint32_t));
    size_t i;
    uint32_t e, off = 0;

    t->post = malloc((n ? n : 1) * sizeof(*t->post));
    if (t->post == NULL || fill == NULL) {
        free(fill);
        return PS_ENOMEM;
    }
    for (i = 0; i < n; i++)
        t->e[pairs[i].entry].post_n++;
    for (e = 0; e < t->n; e++) {
        t->e[e].post_off = off;
        off += t->e[e].post_n;
    }
    for (i = 0; i < n; i++) {
        struct nt_entry *en = &t->e[pairs[i].entry];
        t->post[en->post_off + fill[pairs[i].entry]++] = pairs[i].value;
    }
    free(fill);
    for (e = 0; e < t->n; e++) {
        struct nt_entry *en = &t->e[e];
        uint32_t *v = t->post + en->post_off, j, k, out = 0;
        for (j = 1; j < en->post_n; j++) /* insertion sort */
            for (k = j; k > 0 && v[k - 1] > v[k]; k--) {
                uint32_t tmp = v[k];
                v[k] = v[k - 1];
                v[k - 1] = tmp;
            }
        for (j = 0; j < en->post_n; j++) /* drop exact duplicates (same rule, same flag) */
            if (out == 0 || v[out - 1] != v[j])
                v[out++] = v[j];
        en->post_n = out;
    }
    return 0;
}

/* ---- finish -------------------------------------------------------------------------------- */

static int
cmp_rule(const void *a, const void *b)
{
    const struct b_rule *x = a, *y = b;

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
build_rule_table(struct ps_snapshot *s, struct nametab *t, const struct vec *rows,
                 const struct idmap *map, size_t nmap, uint8_t dim, size_t *count)
{
    const struct b_row *r = rows->p;
    struct pair *pairs = malloc((rows->n ? rows->n : 1) * sizeof(*pairs));
    size_t i, np = 0;
    int rc = PS_ENOMEM;

    if (pairs == NULL || nt_init(t, rows->n) < 0)
        goto done;
    /* Inserting 1M keys is bound by cache misses on the slot array: hash every key first (one
     * sequential pass, kept in pairs[].value for now), then insert with the slot of the key a few
     * rows ahead already on its way. */
    for (i = 0; i < rows->n; i++) {
        const char *key = s->arena + r[i].off;
        uint64_t h = hash_bytes(key, strlen(key));
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
        pairs[np].entry = (uint32_t)nt_find_h(t, s->arena, key, strlen(key), h, true, r[i].off);
        pairs[np].value = ((uint32_t)idx << 1) | (r[i].flag ? 1u : 0u);
        np++;
        s->rules[idx].dims |= dim;
    }
    *count = np;
    rc = nt_postings(t, pairs, np);
done:
    free(pairs);
    return rc;
}

static int
build_categories(struct ps_snapshot *s, struct ps_builder *b, const struct idmap *map, size_t nmap)
{
    const struct b_row *rc_rows = b->rcats.p, *cd = b->catdomains.p;
    const uint32_t *cdn = b->catnames.p;
    struct nametab names; /* category name -> index */
    struct pair *pairs = NULL;
    size_t i, np = 0;
    uint32_t *cnt = NULL;
    int rc = PS_ENOMEM;

    memset(&names, 0, sizeof(names));
    if (nt_init(&names, b->rcats.n + b->catdomains.n) < 0)
        goto done;
    /* Categories are indexed in order of first use by a rule, then by a domain. */
    for (i = 0; i < b->rcats.n; i++) {
        const char *k = s->arena + rc_rows[i].off;
        nt_find(&names, s->arena, k, strlen(k), true, rc_rows[i].off);
    }
    for (i = 0; i < b->catdomains.n; i++) {
        const char *k = s->arena + cdn[i];
        nt_find(&names, s->arena, k, strlen(k), true, cdn[i]);
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
            (uint32_t)nt_find(&names, s->arena, k, strlen(k), false, 0);
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
    if (nt_init(&s->catdomains, b->catdomains.n) < 0)
        goto done;
    for (i = 0; i < b->catdomains.n; i++) {
        const char *k = s->arena + cd[i].off, *c = s->arena + cdn[i];
        pairs[np].entry = (uint32_t)nt_find(&s->catdomains, s->arena, k, strlen(k), true, cd[i].off);
        pairs[np].value = (uint32_t)nt_find(&names, s->arena, c, strlen(c), false, 0) << 1;
        np++;
    }
    s->counts[3] = s->ncats;
    s->counts[4] = np;
    rc = nt_postings(&s->catdomains, pairs, np);
done:
    nt_free(&names);
    free(pairs);
    free(cnt);
    return rc;
}

static int
build_sources(struct ps_snapshot *s, struct ps_builder *b, const struct idmap *map, size_t nmap)
{
    const struct b_row *r = b->sources.p;
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
    const struct b_row *r = b->dests.p;
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
build_trusts(struct ps_snapshot *s, struct ps_builder *b, const struct b_rule *br,
             const struct idmap *map, size_t nmap)
{
    const struct b_row *p = b->pins.p;
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

static void
snapshot_free(struct ps_snapshot *s)
{
    size_t i;

    if (s == NULL)
        return;
    nt_free(&s->domains);
    nt_free(&s->catdomains);
    nt_free(&s->programs);
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

static size_t
nt_bytes(const struct nametab *t, size_t nposts)
{
    return (t->mask + 1) * sizeof(*t->slots) + t->n * sizeof(*t->e) + nposts * sizeof(uint32_t);
}

int
ps_builder_finish(struct ps_builder *b, struct ps_snapshot **out, struct ps_err *err)
{
    struct ps_snapshot *s = NULL;
    struct idmap *map = NULL;
    struct b_rule *br = b->rules.p;
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
               nt_bytes(&s->domains, s->counts[1]) + nt_bytes(&s->programs, s->counts[2]) +
               nt_bytes(&s->catdomains, s->counts[4]) + (s->nrules + 1) * 8 +
               b->rcats.n * 4 + s->counts[5] * sizeof(*s->src) + s->ntrusted * sizeof(*s->trusted) +
               (s->nrules + 1) * 4 + s->counts[6] * sizeof(*s->dst);
    *out = s;
    s = NULL;
    rc = 0;
    goto done;
oom:
    rc = ps_err_set(err, PS_ENOMEM, "out of memory while building the rule snapshot");
done:
    snapshot_free(s);
    free(map);
    ps_builder_free(b);
    return rc;
}

/* ---- reference counting and reads ---------------------------------------------------------- */

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
        snapshot_free(s);
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

static bool
nt_lookup_h(const struct ps_snapshot *s, const struct nametab *t, const char *key, size_t len,
            uint64_t h, struct ps_postings *out)
{
    int64_t e;

    if (t->n == 0)
        return false;
    e = nt_find_h(t, s->arena, key, len, h, false, 0);
    if (e < 0)
        return false;
    out->v = t->post + t->e[e].post_off;
    out->n = t->e[e].post_n;
    out->key = s->arena + t->e[e].key_off;
    return true;
}

static bool
nt_lookup(const struct ps_snapshot *s, const struct nametab *t, const char *key, size_t len,
          struct ps_postings *out)
{
    return t->n != 0 && nt_lookup_h(s, t, key, len, hash_bytes(key, len), out);
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
