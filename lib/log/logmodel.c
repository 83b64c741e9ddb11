/* logmodel.c: the report model every renderer reads (logmodel.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logmodel.h"
#include "logscan.h"
#include "logtab.h"
#include "text.h"

uint64_t
ps_logmodel_sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    size_t i;

    for (i = 0; i < n; i++)
        s += v[i];
    return s;
}

const char *
ps_logmodel_time(int64_t ms, bool iso, char buf[32])
{
    if (ms == 0 ||
        !ps_utc_format(ms / 1000, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", buf, 32)) {
        strcpy(buf, "-");
        return buf;
    }
    if (iso)
        snprintf(buf + strlen(buf), 32 - strlen(buf), ".%03uZ", (unsigned)(ms % 1000) % 1000u);
    return buf;
}

void
ps_logmodel_text(FILE *out, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            fputs("\\\\", out);
        else if (c < 0x20 || c >= 0x7F)
            fprintf(out, "\\x%02X", c);
        else
            putc(c, out);
    }
}

const char *
ps_logmodel_key(const char *key, size_t *len)
{
    static const struct {
        const char *key, *label;
    } special[] = {
        {"\001noname", "(no name)"},
        {"\001toolong", "(name over 255 bytes)"},
        {PS_LS_RULE_DEFAULT, "(default)"}, /* as the ICAP path's X-Pinsplice-Rule says it */
        {PS_LS_RULE_NONE, "(no pinsplice decision)"},
    };
    size_t i;

    if (*len == 0 || key[0] != '\001')
        return key;
    for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (strcmp(key, special[i].key) == 0) {
            *len = strlen(special[i].label);
            return special[i].label;
        }
    }
    return key;
}

struct sortrow {
    struct ps_logmodel_row r;
    uint64_t v1, v2;
};

static int
cmp_rows(const void *a, const void *b)
{
    const struct sortrow *x = a, *y = b;

    if (x->v1 != y->v1)
        return x->v1 > y->v1 ? -1 : 1;
    if (x->v2 != y->v2)
        return x->v2 > y->v2 ? -1 : 1;
    return strcmp(x->r.key, y->r.key);
}

static void
sort_values(enum ps_logmodel_order order, const void *v, uint64_t *v1, uint64_t *v2)
{
    const struct ps_ls_counts *c = v; /* names and clients start with their counts */
    const struct ps_ls_rule *r = v;

    switch (order) {
    case PS_ORDER_SPLICED:
        *v1 = c->conns[PS_LS_SPLICE];
        *v2 = c->bytes_out[PS_LS_SPLICE];
        break;
    case PS_ORDER_BUMPED:
        *v1 = c->conns[PS_LS_BUMP];
        *v2 = c->requests[PS_LS_BUMP];
        break;
    case PS_ORDER_CONNS:
        *v1 = ps_logmodel_sum(c->conns, PS_LS_NACTIONS);
        *v2 = ps_logmodel_sum(c->requests, PS_LS_NACTIONS);
        break;
    case PS_ORDER_RULE:
        *v1 = ps_logmodel_sum(r->conns, PS_LS_NACTIONS);
        *v2 = 0;
        break;
    case PS_ORDER_MONITOR:
        *v1 = ps_logmodel_sum(((const struct ps_ls_monitor *)v)->would, PS_LS_NACTIONS);
        *v2 = ((const struct ps_ls_monitor *)v)->abandoned;
        break;
    }
}

int
ps_logmodel_rows(const struct ps_logtab *t, enum ps_logmodel_order order,
                 struct ps_logmodel_row **rows, size_t *n)
{
    size_t count = ps_logtab_count(t), pos = 0, i = 0, k;
    struct sortrow *s;
    struct ps_logmodel_row *out;
    const void *v;

    *rows = NULL;
    *n = 0;
    if (count == 0)
        return 0;
    if ((s = calloc(count, sizeof(*s))) == NULL)
        return PS_ENOMEM;
    while ((v = ps_logtab_next(t, &pos)) != NULL && i < count) {
        s[i].r.value = v;
        s[i].r.key = ps_logtab_key(t, v, &s[i].r.len);
        sort_values(order, v, &s[i].v1, &s[i].v2);
        if (s[i].v1 > 0 || order == PS_ORDER_CONNS)
            i++;
    }
    if (i > 1)
        qsort(s, i, sizeof(*s), cmp_rows);
    /* Reuse the block: rows are smaller than sortrows and written in ascending order. A row and
     * the sortrow it comes from can overlap (row k ends past sortrow k's start for k >= 1), so
     * the copy is a memmove: an assignment is a memcpy of overlapping memory. */
    out = (struct ps_logmodel_row *)s;
    for (k = 0; k < i; k++)
        memmove(&out[k], &s[k].r, sizeof(out[k]));
    if (i == 0) {
        free(s);
        return 0;
    }
    *rows = out;
    *n = i;
    return 0;
}
