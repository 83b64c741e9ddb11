#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keytab.h"

struct slot {
    const char *key;
    size_t len;
    uint64_t ns;
    uint64_t h; /* hash of (ns, key): rehash without rereading keys, skip most memcmp */
    size_t val;
    bool used;
};

struct ps_keytab {
    struct slot *s;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

struct ps_keytab *
ps_keytab_new(void)
{
    return calloc(1, sizeof(struct ps_keytab));
}

void
ps_keytab_free(struct ps_keytab *t)
{
    if (t == NULL)
        return;
    free(t->s);
    free(t);
}

/* FNV-1a over the bytes, seeded with the namespace. */
static uint64_t
hash(uint64_t ns, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ (ns * 0x9E3779B97F4A7C15ULL);
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static bool
same(const struct slot *sl, uint64_t h, uint64_t ns, const char *key, size_t len)
{
    return sl->h == h && sl->ns == ns && sl->len == len &&
           (len == 0 || memcmp(sl->key, key, len) == 0);
}

/* The slot holding the key, or the free slot where it would go. The table is never full (load
 * factor <= 3/4), so the probe ends. */
static struct slot *
find(const struct ps_keytab *t, uint64_t h, uint64_t ns, const char *key, size_t len)
{
    size_t i, mask = t->cap - 1;

    for (i = h & mask;; i = (i + 1) & mask)
        if (!t->s[i].used || same(&t->s[i], h, ns, key, len))
            return &t->s[i];
}

static int
grow(struct ps_keytab *t)
{
    struct ps_keytab nt = {NULL, t->cap ? t->cap * 2 : 64, t->n};
    size_t i;

    if (nt.cap > SIZE_MAX / sizeof(*nt.s) || (nt.s = calloc(nt.cap, sizeof(*nt.s))) == NULL)
        return PS_ENOMEM;
    for (i = 0; i < t->cap; i++)
        if (t->s[i].used)
            *find(&nt, t->s[i].h, t->s[i].ns, t->s[i].key, t->s[i].len) = t->s[i];
    free(t->s);
    *t = nt;
    return 0;
}

int
ps_keytab_put(struct ps_keytab *t, uint64_t ns, const char *key, size_t len, size_t val,
              size_t *old)
{
    uint64_t h = hash(ns, key, len);
    struct slot *sl;

    if ((t->n + 1) * 4 > t->cap * 3 && grow(t) < 0)
        return PS_ENOMEM;
    sl = find(t, h, ns, key, len);
    if (sl->used) {
        if (old != NULL)
            *old = sl->val;
        return 1;
    }
    *sl = (struct slot){key, len, ns, h, val, true};
    t->n++;
    return 0;
}

bool
ps_keytab_get(const struct ps_keytab *t, uint64_t ns, const char *key, size_t len, size_t *val)
{
    const struct slot *sl;

    if (t == NULL || t->cap == 0)
        return false;
    sl = find(t, hash(ns, key, len), ns, key, len);
    if (!sl->used)
        return false;
    *val = sl->val;
    return true;
}

size_t
ps_keytab_count(const struct ps_keytab *t)
{
    return t != NULL ? t->n : 0;
}
