#ifndef PS_LIB_LOGTAB_H
#define PS_LIB_LOGTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A hash table from a byte-string key to a fixed-size value, for the log scanner's counters
 * (one entry per distinct name, client, rule or open connection). The table owns a copy of every
 * key; a value stays at the same address until its entry is removed or the table is freed, so
 * callers may keep pointers to values (and link them into lists). Open addressing with linear
 * probing, grows by doubling at 3/4 load, removal by backward shift. Not thread-safe.
 */
struct ps_logtab;

/* A new empty table whose values are value_size bytes (zeroed on insert), or NULL (ENOMEM). */
struct ps_logtab *ps_logtab_new(size_t value_size);
/* Free the table, its keys and values. NULL is a no-op. */
void ps_logtab_free(struct ps_logtab *t);

/*
 * The value of key[0..len), inserting a zeroed one when absent (*created true). Returns the
 * value, or NULL when out of memory (the table is unchanged). key may hold any bytes.
 */
void *ps_logtab_get(struct ps_logtab *t, const void *key, size_t len, bool *created);
/* The value of key[0..len), or NULL when absent. */
void *ps_logtab_find(const struct ps_logtab *t, const void *key, size_t len);
/* Remove key[0..len) and free its value; false when absent. Pointers to it become invalid. */
bool ps_logtab_remove(struct ps_logtab *t, const void *key, size_t len);

/* The key of a value returned by this table (NUL-terminated copy; *len without the NUL). */
const char *ps_logtab_key(const struct ps_logtab *t, const void *value, size_t *len);

size_t ps_logtab_count(const struct ps_logtab *t);
/* Heap bytes held (slots, keys, values, allocator headers estimated): for memory figures. */
size_t ps_logtab_bytes(const struct ps_logtab *t);

/*
 * Iterate: start with *pos = 0; each call returns the next value (in no particular order) or NULL
 * at the end. The table must not change during the walk.
 */
void *ps_logtab_next(const struct ps_logtab *t, size_t *pos);

/* The hash the table uses (64-bit, seeded by nothing: deterministic across runs). */
uint64_t ps_logtab_hash(const void *key, size_t len);

#endif /* PS_LIB_LOGTAB_H */
