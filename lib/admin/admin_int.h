#ifndef PS_LIB_ADMIN_INT_H
#define PS_LIB_ADMIN_INT_H

/*
 * Internals shared by the write side: lib/admin/admin.c (the transaction, audit.who, category
 * lists), admin_update.c (migrations, vendor updates), admin_publish.c, admin_feed.c. Not for
 * other files: the public API is lib/admin/admin.h.
 */

#include <stdbool.h>

#include <sqlite3.h>

struct ps_err;

struct ps_admin {
    sqlite3 *db;
    char *path;
    bool in_tx;
    bool audited;    /* audit_import view present */
    char *who;       /* NULL: unknown */
    bool who_set;    /* the TEMP session objects of ps_admin_who_apply exist */
    bool bulk;       /* CHECKs and triggers off for the list insert (bulk_mode) */
    sqlite3_stmt *ins;
    char *list, *category;
    long long removed;
};


/* Record SQLite's current error: PS_EBUSY for a lock, else PS_EDB; "what: SQLite's message". */
int ps_admin_db_fail(sqlite3 *db, const char *what, struct ps_err *err);

/* sqlite3_exec with the error recorded as ps_admin_db_fail does. */
int ps_admin_exec(sqlite3 *db, const char *sql, const char *what, struct ps_err *err);

/* The first column of the one row sql returns (text_arg, when not NULL, bound to ?1). */
int ps_admin_query_int(sqlite3 *db, const char *sql, const char *text_arg, long long *out,
                       struct ps_err *err);

/* Whether main has an object of this type ("table", "view") and name. */
bool ps_admin_has_object(sqlite3 *db, const char *type, const char *name);

/* main's user_version in *v; PS_EDB for 0 (not a pinsplice DB). */
int ps_admin_user_version(sqlite3 *db, const char *path, int *v, struct ps_err *err);

/* Open an existing DB file read-write (never creates it), no transaction yet. who: for
 * audit.who (copied). Returns 0 and *out, PS_ENOENT, PS_EIO, PS_EINVAL (not a regular file),
 * PS_EDB, PS_ENOMEM. */
int ps_admin_connect(const char *path, int busy_ms, const char *who, struct ps_admin **out,
                     struct ps_err *err);

/* BEGIN IMMEDIATE (waits busy_ms for another writer). */
int ps_admin_begin(struct ps_admin *a, struct ps_err *err);

/* Inside the transaction: make this connection's audit rows name a->who (the TEMP objects of
 * ps_admin_session_sql) when the DB has audit.sql's audit trail (a no-op otherwise, and when
 * already done); ps_admin_who_restore drops them. */
int ps_admin_who_apply(struct ps_admin *a, struct ps_err *err);
int ps_admin_who_restore(struct ps_admin *a, struct ps_err *err);

/* Roll back what was not committed, close and free (NULL is a no-op). */
void ps_admin_close(struct ps_admin *a);

#endif /* PS_LIB_ADMIN_INT_H */
