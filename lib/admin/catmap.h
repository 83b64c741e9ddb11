/*
 * catmap.h: the map from the list names of a blacklist directory to the categories they are
 * imported into (`pinsplice categories import`, catimport.h).
 */
#ifndef PS_LIB_CATMAP_H
#define PS_LIB_CATMAP_H

#include <stddef.h>

struct ps_err;

/* ---- list name -> category --------------------------------------------------------------------
 */

struct ps_catmap;

/* The built-in map: bank, financial, finance, finance/banking, finance/insurance,
 * finance/moneylending -> Financial Services; government -> Government; health, medical,
 * hospitals -> Health and Medicine; legal -> Legal (the categories of the vendor's default rule
 * "Bypass sensitive traffic"). Returns 0 or PS_ENOMEM. */
int ps_catmap_builtin(struct ps_catmap **out, struct ps_err *err);

/*
 * Load a map file instead: lines "LIST = Category", blank lines and '#' comments allowed. LIST:
 * [A-Za-z0-9._-] and '/', at most 255 bytes; Category: 1..100 bytes, surrounding spaces dropped.
 * At most 10000 lines of at most 1023 bytes. Returns 0 and *out, PS_ENOENT / PS_EIO (the file),
 * PS_EINVAL or PS_ETOOLONG naming FILE:LINE (bad line, list named twice), PS_ENOMEM.
 */
int ps_catmap_load(const char *path, struct ps_catmap **out, struct ps_err *err);

/* The category of list, or NULL when the map does not name it. */
const char *ps_catmap_lookup(const struct ps_catmap *m, const char *list);

/* Entries in map order, for help texts: *list and *category stay valid until ps_catmap_free. */
size_t ps_catmap_size(const struct ps_catmap *m);
void ps_catmap_entry(const struct ps_catmap *m, size_t i, const char **list, const char **category);

/* NULL is a no-op. */
void ps_catmap_free(struct ps_catmap *m);

#endif /* PS_LIB_CATMAP_H */
