#ifndef PS_LIB_CATIMPORT_H
#define PS_LIB_CATIMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/name.h"
#include "catmap.h"

struct ps_admin;
struct ps_err;

/*
 * `pinsplice categories import`: read a squidGuard / UT1-style blacklist directory and write its
 * lists into category_domains through lib/admin/admin.h (this file touches no SQLite).
 *
 * Layout: DIR/LIST/domains, one host name per line (DIR/GROUP/LIST/domains, one level deeper, as
 * shallalist has it, gives the list "GROUP/LIST"). `urls` files are skipped and counted, every
 * other file is ignored. A list is imported into the category the map gives it; a list the map
 * does not name is skipped and reported.
 */

/* ---- one line of a domains file ---------------------------------------------------------------
 */

/*
 * Parse one line (without or with its "\n" / "\r\n"): '#' starts a comment, surrounding blanks are
 * dropped, one leading '.' is allowed (".example.com" means the same subtree as "example.com").
 * The name is normalised as the matcher does (ps_name_normalize: lower case, one trailing dot
 * dropped, IDN to punycode) and must be a host name of at least two labels that is not an ICANN
 * public suffix ("com", "co.uk": a category entry covers the whole subtree).
 * Returns 1 and the name in out, 0 for a blank or comment line, or PS_EINVAL / PS_ETOOLONG with
 * err saying why (an IP address, a space inside, a single label, ...).
 */
int ps_catimport_line(const char *line, size_t len, char out[PS_NAME_MAX + 1], struct ps_err *err);

/* ---- the import -------------------------------------------------------------------------------
 */

struct ps_catimport_progress {
    const char *list;
    long long names;                   /* names written so far, all lists */
    long long bytes_done, bytes_total; /* read so far / to read, of the mapped domains files */
};

/* One list, when it is done (or skipped). Strings valid during the callback only. */
struct ps_catimport_list {
    const char *list;
    const char *category; /* NULL: the map does not name the list; it was skipped */
    const char *path;     /* its domains file */
    long long removed;    /* rows of the previous import of this list, replaced */
    long long added, duplicates, invalid;
    bool created; /* the category did not exist and was created */
};

struct ps_catimport_cb {
    /* every 65536 lines and after each list; may be NULL */
    void (*progress)(const struct ps_catimport_progress *p, void *ud);
    /* every invalid line: path, line number (from 1; 0 for a name the schema refused when it
     * was written, after sorting), the line as read (at most 200 bytes), why */
    void (*invalid)(const char *path, long long line, const char *text, const char *why, void *ud);
    void (*list)(const struct ps_catimport_list *l, void *ud);
    void *ud;
};

struct ps_catimport_stats {
    size_t lists;      /* imported */
    size_t unmapped;   /* skipped: not in the map */
    size_t urls_files; /* skipped: urls files */
    long long names, duplicates, invalid, removed;
};

/*
 * Import every mapped list of dir through a (one open transaction: the caller commits, or frees to
 * roll everything back). Each list is read whole, sorted (the B-trees then take appends) and
 * replaces that list's previous rows; names twice in a list count as duplicates. Invalid lines are
 * counted and passed to cb->invalid, never fatal. At most 4096 lists. Returns 0 (also when no list
 * was mapped: see st->lists), PS_ENOENT / PS_EIO (dir, a domains file), PS_EDB / PS_EBUSY (the
 * database: the transaction is then unusable), PS_ENOMEM. Not thread-safe: one import at a time
 * per process.
 */
int ps_catimport_run(struct ps_admin *a, const char *dir, const struct ps_catmap *map,
                     const struct ps_catimport_cb *cb, struct ps_catimport_stats *st,
                     struct ps_err *err);

/*
 * The whole `categories import` on the DB at path: ps_admin_open (as who, waiting at most busy_ms
 * for another writer), ps_catimport_run, then commit, or roll back when no list was mapped
 * (st->lists == 0: nothing is written, and 0 is returned). Returns what those return; on error
 * nothing is written.
 */
int ps_catimport_db(const char *path, int busy_ms, const char *who, const char *dir,
                    const struct ps_catmap *map, const struct ps_catimport_cb *cb,
                    struct ps_catimport_stats *st, struct ps_err *err);

#endif /* PS_LIB_CATIMPORT_H */
