/*
 * index.h: the hash index of a rule snapshot (internal to lib/core): a table from a key (a
 * normalised domain, a lower-cased program basename, a category name) to a posting list of
 * uint32 values. All keys live in the snapshot's arena (offsets, not pointers); the slots are
 * 64-bit (hash tag << 32 | entry + 1) in one array probed linearly, so a miss reads one or two
 * cache lines and never touches the entries.
 *
 * Why it is not lib/core/keytab.c: this table is on the decision path. It is built once per
 * snapshot, sized exactly for its keys (load <= 0.75), immutable once published and read by
 * every answering thread without a lock; its hash runs from the last byte to the first, so the
 * hashes of every suffix of a name come out of one pass (ps_snapshot_suffixes), and a probe
 * compares a 32-bit tag before it touches an entry. keytab is a general growable table that
 * owns copies of its keys. The probe is inline here so the lookups in snapshot.c compile to
 * the same code as one file would give.
 */
#ifndef PS_LIB_INDEX_H
#define PS_LIB_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ps_index_entry {
    uint32_t key_off;
    uint32_t key_len;
    uint32_t post_off;
    uint32_t post_n;
};

struct ps_index {
    uint64_t *slots;
    uint32_t mask; /* capacity - 1; capacity is a power of two */
    struct ps_index_entry *e;
    uint32_t n;
    uint32_t *post;
};

/* An (entry, value) pair: the input of ps_index_postings. */
struct ps_index_pair {
    uint32_t entry, value;
};

/* FNV-1a over the bytes from the LAST to the first, then a final mix: walking a name from its end
 * passes every suffix boundary, so the hashes of all suffixes cost one pass (ps_snapshot_suffixes). */
#define PS_INDEX_FNV_BASIS 0xcbf29ce484222325ULL
#define PS_INDEX_FNV_PRIME 0x100000001b3ULL

static inline uint64_t
ps_index_mix(uint64_t h)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

static inline uint64_t
ps_index_hash(const char *s, size_t len)
{
    uint64_t h = PS_INDEX_FNV_BASIS;

    while (len > 0)
        h = (h ^ (unsigned char)s[--len]) * PS_INDEX_FNV_PRIME;
    return ps_index_mix(h);
}

/* Room for nkeys keys (load factor <= 0.75). Returns 0 or PS_ENOMEM. */
int ps_index_init(struct ps_index *t, size_t nkeys);
/* Free the table's arrays (not t itself). */
void ps_index_free(struct ps_index *t);
/* Turn (entry, value) pairs into each entry's sorted, de-duplicated posting list (t->post).
 * Returns 0 or PS_ENOMEM. */
int ps_index_postings(struct ps_index *t, struct ps_index_pair *pairs, size_t n);
/* Heap bytes held by the table with nposts postings. */
size_t ps_index_bytes(const struct ps_index *t, size_t nposts);

/* Find key; with insert, add it when absent. Returns the entry index or -1 (absent). */
static inline int64_t
ps_index_find_h(const struct ps_index *t, const char *arena, const char *key, size_t len,
                uint64_t h, bool insert, uint32_t key_off)
{
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & t->mask;
    struct ps_index *mt = (struct ps_index *)t;

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
            const struct ps_index_entry *e = &t->e[(uint32_t)s - 1];
            if (e->key_len == len && memcmp(arena + e->key_off, key, len) == 0)
                return (uint32_t)s - 1;
        }
        i = (i + 1) & t->mask;
    }
}

static inline int64_t
ps_index_find(const struct ps_index *t, const char *arena, const char *key, size_t len,
              bool insert, uint32_t key_off)
{
    return ps_index_find_h(t, arena, key, len, ps_index_hash(key, len), insert, key_off);
}

#endif /* PS_LIB_INDEX_H */
