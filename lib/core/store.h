#ifndef PS_LIB_STORE_H
#define PS_LIB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_err;
struct ps_snapshot;

/*
 * The rules DB as the decision core reads it: store.c and store_open.c are the only lib/core
 * files that touch SQLite (the admin tool's writers, lib/admin/admin*.c, open the DB
 * themselves). ps_store_load opens path read-only, reads every enabled rule, its entries,
 * the categories and the settings inside one read transaction (so an edit is seen whole or not
 * at all), and builds a snapshot. Waits at most busy_ms for a writer's lock.
 * Returns 0 and *out (one reference, caller releases), or PS_ENOENT (no such file), PS_EBUSY
 * (locked past busy_ms), PS_EDB (not a pinsplice DB, wrong user_version, corrupt), PS_EINVAL
 * (an entry the matcher cannot use; the message names the rule and value), PS_ENOMEM.
 * On error *out is unchanged. Never keeps a connection open after returning.
 */
int ps_store_load(const char *path, int busy_ms, struct ps_snapshot **out, struct ps_err *err);

/*
 * Create a new rules DB at path by running the SQL files in order inside one transaction, in a
 * temporary file beside path that is renamed over path only when everything succeeded. Refuses an
 * existing path (PS_EINVAL naming it) unless force. Errors name the SQL file and SQLite's message.
 */
int ps_store_create(const char *path, const char *const *sql_files, size_t n_files, bool force,
                    struct ps_err *err);

/* One raw entry of the rule tables, for `pinsplice db check` (lib/admin/lint.c), as stored: nothing is
 * validated or normalised. Strings are valid during the callback only. */
struct ps_store_entry {
    const char *kind;      /* "rule" (value NULL), "domain", "program", "category", "source",
                            * "known-category" (a row of categories: value = its name) */
    long long rule_id;
    const char *rule_name;
    bool enabled;
    const char *value;     /* the entry; NULL for kind "rule" */
    bool exact;            /* domains */
    const char *os;        /* programs */
    long long position;
};
/* Called once per rule (kind "rule") and once per entry; return non-zero to stop (returned). */
typedef int ps_store_entry_fn(const struct ps_store_entry *e, void *ud);
/* Walk every rule (enabled or not) then every entry, in evaluation order of the rules. Returns 0,
 * the callback's non-zero value, or a PS_E* code. */
int ps_store_foreach(const char *path, ps_store_entry_fn *fn, void *ud, struct ps_err *err);

/*
 * For each of names[0..n) (valid lower-case host names): the catalogue app (apps, app_domains)
 * whose domain covers the name at a label boundary, the longest such domain first, then the lower
 * app id. Its name is copied into apps + i * size ("" when none, cut to size - 1 bytes). One
 * read-only transaction. Returns 0 or a PS_E* code (apps is then all "").
 */
int ps_store_catalogue_apps(const char *path, const char *const *names, size_t n, char *apps,
                            size_t size, struct ps_err *err);

/* What identifies one state of the DB files, for reload.c: the main file and its WAL (stat), the
 * main header's change counter (moves on every commit in rollback-journal mode) and the WAL
 * header's checkpoint sequence and salt (change when a writer restarts the WAL from its start,
 * which can leave its size unchanged). Equal fingerprints: nothing was committed in between. */
struct ps_store_fp {
    struct {
        bool exists;
        unsigned long long dev, ino;
        long long size, mtime_ns;
    } f[2];
    uint32_t change_counter;
    unsigned char wal_header[8];
};
/* Fill *out for path (a missing file is a valid state). Returns 0 or PS_ETOOLONG. */
int ps_store_fingerprint(const char *path, struct ps_store_fp *out);

/* The schema version this build reads (PRAGMA user_version). */
#define PS_SCHEMA_VERSION 3

#endif /* PS_LIB_STORE_H */
