/*
 * store_int.h: opening the rules DB read-only (store_open.c) for the readers in store.c.
 * Internal to lib/core.
 */
#ifndef PS_LIB_STORE_INT_H
#define PS_LIB_STORE_INT_H

#include <stdbool.h>
#include <sys/stat.h>

#include <sqlite3.h>

struct ps_err;

/* One read-only connection. frozen: see ps_store_open_ro; before: the main file when it was opened. */
struct ps_store_ro {
    sqlite3 *db;
    bool frozen;
    struct stat before;
};

/* SQLite's last error on db as a PS_EBUSY (locked) or PS_EDB error naming path and what. */
int ps_store_db_err(sqlite3 *db, const char *path, const char *what, struct ps_err *err);

/* Open path read-only, waiting at most busy_ms for a lock; refuses what is not a regular file
 * and never blocks on one. Returns 0 and *out, or a PS_E* code (PS_ENOENT: no such file). */
int ps_store_open_ro(const char *path, int busy_ms, struct ps_store_ro *out, struct ps_err *err);

/* Close r; returns rc, or PS_EBUSY when a frozen read may have seen a half-written file. */
int ps_store_close_ro(struct ps_store_ro *r, const char *path, int rc, struct ps_err *err);

/* Refuse a DB whose user_version is not PS_SCHEMA_VERSION (0: not a pinsplice DB). */
int ps_store_check_version(sqlite3 *db, const char *path, struct ps_err *err);

#endif /* PS_LIB_STORE_INT_H */
