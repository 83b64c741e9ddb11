#ifndef PS_LIB_KEYTAB_H
#define PS_LIB_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A hash table from (namespace number, byte string) to a size_t, for tools that index many
 * strings once (lib/admin/lint.c: rule ids, entries per rule). Keys are BORROWED: the bytes must stay
 * valid and unchanged while the table lives. Open addressing, grows by doubling; no removal.
 * Not for the decision path (snapshot.c has its own immutable tables).
 */
struct ps_keytab;

/* A new empty table, or NULL when out of memory. */
struct ps_keytab *ps_keytab_new(void);
/* Free the table (not the keys). NULL is a no-op. */
void ps_keytab_free(struct ps_keytab *t);

/*
 * Insert (ns, key[0..len)) -> val. Returns 0 when inserted; 1 when the key was already there
 * (the table is unchanged and *old, if not NULL, receives the value stored); PS_ENOMEM (the table
 * is unchanged). key may be NULL when len is 0.
 */
int ps_keytab_put(struct ps_keytab *t, uint64_t ns, const char *key, size_t len, size_t val,
                  size_t *old);

/* Look (ns, key[0..len)) up: true and *val, or false (*val unchanged). t may be NULL (empty). */
bool ps_keytab_get(const struct ps_keytab *t, uint64_t ns, const char *key, size_t len,
                   size_t *val);

/* Number of keys. */
size_t ps_keytab_count(const struct ps_keytab *t);

#endif /* PS_LIB_KEYTAB_H */
