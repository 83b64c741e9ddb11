/*
 * index.c: the snapshot's hash index (index.h): building a table and its posting lists, and
 * the suffix hashes of a name. It stays apart from lib/core/keytab.c, the general table the
 * other code shares, on purpose: it is on the decision path, immutable once built, built once
 * per snapshot and sized exactly for its keys, read lock-free by every answering thread, keyed
 * by offsets into the snapshot's arena (keytab copies its keys), and hashed from a name's end
 * so one pass gives every suffix's hash. index.h says more.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "index.h"

int
ps_index_init(struct ps_index *t, size_t nkeys)
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

void
ps_index_free(struct ps_index *t)
{
    free(t->slots);
    free(t->e);
    free(t->post);
}

/* Turn (entry, value) pairs into per-entry sorted, de-duplicated posting lists: a counting sort
 * by entry (linear), then each list, nearly always one or two values, sorted in place. */
int
ps_index_postings(struct ps_index *t, struct ps_index_pair *pairs, size_t n)
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
        struct ps_index_entry *en = &t->e[pairs[i].entry];
        t->post[en->post_off + fill[pairs[i].entry]++] = pairs[i].value;
    }
    free(fill);
    for (e = 0; e < t->n; e++) {
        struct ps_index_entry *en = &t->e[e];
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

size_t
ps_index_bytes(const struct ps_index *t, size_t nposts)
{
    return (t->mask + 1) * sizeof(*t->slots) + t->n * sizeof(*t->e) + nposts * sizeof(uint32_t);
}

