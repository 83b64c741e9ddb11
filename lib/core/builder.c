#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "builder_int.h"
#include "err.h"
#include "name.h"
#include "proto.h"
#include "snapshot.h"

/* The builder: collects the rows store.c (or a test) feeds it, checking each value, into one
 * arena and a few arrays. builder_finish.c turns them into a snapshot. */

static int
vec_push(struct ps_bvec *v, const void *item)
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
    b->rules.size = sizeof(struct ps_brule);
    b->domains.size = b->programs.size = b->rcats.size = b->sources.size = sizeof(struct ps_brow);
    b->dests.size = b->pins.size = sizeof(struct ps_brow);
    b->catdomains.size = sizeof(struct ps_brow);
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
    struct ps_brule r;

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
    struct ps_brule *r = NULL;
    size_t i;

    for (i = b->rules.n; i > 0 && r == NULL; i--)
        if (((struct ps_brule *)b->rules.p)[i - 1].id == id)
            r = &((struct ps_brule *)b->rules.p)[i - 1];
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
add_row(struct ps_builder *b, struct ps_bvec *v, int64_t rule_id, const char *s, size_t len,
        uint32_t flag, const struct ps_cidr *cidr, struct ps_err *err)
{
    struct ps_brow row;

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

