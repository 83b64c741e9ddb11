/*
 * logtab.c: the log scanner's hash table (logtab.h).
 *
 * Why it is not lib/core/keytab.h: keytab maps (namespace, key) to a size_t, with the key
 * BORROWED, insert and look-up only. The scanner needs four things keytab does not do:
 *   - owned keys: a key is a field of the current line (server name, client address,
 *     ip:port), and the read buffer holds the next lines over it; with keytab every caller
 *     would keep its own copy of every key;
 *   - removal: a bumped connection waiting for its first request (logcount.c's pending table)
 *     and a splice waiting for its tunnel record leave the table when they are judged, so the
 *     table stays bounded by --max-pending; keytab never removes;
 *   - values in place at stable addresses: counters are updated through the pointer
 *     ps_logtab_get returns and waiting connections are linked into a FIFO through theirs;
 *     keytab stores one size_t;
 *   - iteration and the key of a value: the reports walk every name, client and rule and
 *     print its key (logmodel.c); keytab has neither.
 * Built on keytab, those would be a second structure around it (key arena, value array,
 * tombstones) and one more indirection in the two look-ups every record makes (its name and
 * its client), the scanner's hottest path. The rule snapshot's tables (lib/core/snapshot.c)
 * are built once and immutable: a third job again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "logtab.h"

#define MIN_SLOTS 64
#define ALIGN 16

/* An entry is one block: [value, padded to ALIGN][struct hdr][key bytes + NUL]. Keeping the value
 * first gives callers an aligned pointer and lets ps_logtab_key find the header from it. */
struct hdr {
    uint64_t hash;
    size_t len;
};

struct slot {
    uint64_t hash; /* 0 = empty (a real hash of 0 is stored as 1) */
    void *entry;
};

struct ps_logtab {
    struct slot *slots;
    size_t mask; /* slots - 1 */
    size_t count;
    size_t vsize;  /* value size padded to ALIGN */
    size_t kbytes; /* key bytes held */
};

uint64_t
ps_logtab_hash(const void *key, size_t len)
{
    /* 8 bytes per step with a multiply-rotate mix, then murmur3's finaliser: good enough spread
     * for power-of-two tables and fast on the short keys (names, addresses) we hash. */
    const unsigned char *p = key;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (len * 0xFF51AFD7ED558CCDULL), w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ (w * 0x87C37B91114253D5ULL)) * 0x4CF5AD432745937FULL;
        h = (h << 31) | (h >> 33);
    }
    if (i < len) {
        w = 0;
        memcpy(&w, p + i, len - i);
        h = (h ^ (w * 0x87C37B91114253D5ULL)) * 0x4CF5AD432745937FULL;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h != 0 ? h : 1;
}

static struct hdr *
hdr_of(const struct ps_logtab *t, const void *entry)
{
    return (struct hdr *)((char *)entry + t->vsize);
}

static const char *
key_of(const struct ps_logtab *t, const void *entry)
{
    return (const char *)(hdr_of(t, entry) + 1);
}

struct ps_logtab *
ps_logtab_new(size_t value_size)
{
    struct ps_logtab *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->slots = calloc(MIN_SLOTS, sizeof(*t->slots));
    if (t->slots == NULL) {
        free(t);
        return NULL;
    }
    t->mask = MIN_SLOTS - 1;
    t->vsize = (value_size + ALIGN - 1) / ALIGN * ALIGN;
    return t;
}

void
ps_logtab_free(struct ps_logtab *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i <= t->mask; i++)
        free(t->slots[i].entry);
    free(t->slots);
    free(t);
}

static size_t
probe(const struct ps_logtab *t, uint64_t h, const void *key, size_t len)
{
    size_t i = (size_t)h & t->mask;

    /* The load factor stays under 3/4, so an empty slot always ends the walk. */
    for (;;) {
        const struct slot *s = &t->slots[i];
        if (s->hash == 0)
            return i;
        if (s->hash == h && hdr_of(t, s->entry)->len == len &&
            memcmp(key_of(t, s->entry), key, len) == 0)
            return i;
        i = (i + 1) & t->mask;
    }
}

static bool
grow(struct ps_logtab *t)
{
    size_t n = (t->mask + 1) * 2, i, j;
    struct slot *ns = calloc(n, sizeof(*ns));

    if (ns == NULL)
        return false;
    for (i = 0; i <= t->mask; i++) {
        if (t->slots[i].hash == 0)
            continue;
        for (j = (size_t)t->slots[i].hash & (n - 1); ns[j].hash != 0; j = (j + 1) & (n - 1))
            ;
        ns[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->mask = n - 1;
    return true;
}

void *
ps_logtab_find(const struct ps_logtab *t, const void *key, size_t len)
{
    size_t i = probe(t, ps_logtab_hash(key, len), key, len);

    return t->slots[i].entry;
}

void *
ps_logtab_get(struct ps_logtab *t, const void *key, size_t len, bool *created)
{
    uint64_t h = ps_logtab_hash(key, len);
    size_t i = probe(t, h, key, len);
    struct hdr *hd;
    void *e;

    *created = false;
    if (t->slots[i].entry != NULL)
        return t->slots[i].entry;
    if ((t->count + 1) * 4 > (t->mask + 1) * 3) {
        if (!grow(t))
            return NULL;
        i = probe(t, h, key, len);
    }
    e = calloc(1, t->vsize + sizeof(struct hdr) + len + 1);
    if (e == NULL)
        return NULL;
    hd = hdr_of(t, e);
    hd->hash = h;
    hd->len = len;
    memcpy(hd + 1, key, len);
    t->slots[i].hash = h;
    t->slots[i].entry = e;
    t->count++;
    t->kbytes += len + 1;
    *created = true;
    return e;
}

bool
ps_logtab_remove(struct ps_logtab *t, const void *key, size_t len)
{
    size_t i = probe(t, ps_logtab_hash(key, len), key, len), j, home;

    if (t->slots[i].entry == NULL)
        return false;
    t->kbytes -= hdr_of(t, t->slots[i].entry)->len + 1;
    free(t->slots[i].entry);
    t->count--;
    /* Backward shift: move later entries of the run into the hole when their home slot allows. */
    for (j = (i + 1) & t->mask; t->slots[j].hash != 0; j = (j + 1) & t->mask) {
        home = (size_t)t->slots[j].hash & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].hash = 0;
    t->slots[i].entry = NULL;
    return true;
}

const char *
ps_logtab_key(const struct ps_logtab *t, const void *value, size_t *len)
{
    if (len != NULL)
        *len = hdr_of(t, value)->len;
    return key_of(t, value);
}

size_t
ps_logtab_count(const struct ps_logtab *t)
{
    return t->count;
}

size_t
ps_logtab_bytes(const struct ps_logtab *t)
{
    /* 16 bytes of allocator header per block is glibc's figure on 64-bit. */
    return sizeof(*t) + (t->mask + 1) * sizeof(struct slot) +
           t->count * (t->vsize + sizeof(struct hdr) + 16) + t->kbytes;
}

void *
ps_logtab_next(const struct ps_logtab *t, size_t *pos)
{
    while (*pos <= t->mask) {
        void *e = t->slots[(*pos)++].entry;
        if (e != NULL)
            return e;
    }
    return NULL;
}
