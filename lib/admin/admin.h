#ifndef PS_LIB_ADMIN_H
#define PS_LIB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct ps_err;

/*
 * The write side of the rules database. lib/core/store.c is the read side (the helper, the
 * service, `pinsplice check`); lib/admin/admin.c, admin_update.c, admin_publish.c and
 * admin_feed.c are the only other files that touch SQLite, for what the `pinsplice` command
 * writes in bulk: category list imports, vendor updates with their schema migrations, published
 * copies and feed imports (admin_init.c builds a new DB from these and lib/core/store.c). What
 * an admin changes by hand goes through the sqlite3 CLI and the views of sql/manage.sql instead.
 *
 * Every write is one transaction: readers (the helper reloads in one read transaction) see it
 * whole or not at all. When the database has the audit trail of sql/audit.sql, changes are
 * recorded with audit.who = the `who` given here, through TEMP objects of this connection only
 * (ps_admin_session_sql): nothing about the user is stored but the audit rows themselves.
 */

/* ---- one write transaction --------------------------------------------------------------------
 */

struct ps_admin;

/*
 * Open an existing pinsplice DB (user_version >= 1) for writing and start one write transaction
 * (BEGIN IMMEDIATE, waiting at most busy_ms for another writer). who: recorded in audit.who (NULL
 * or "": unknown). Never creates the file. Returns 0 and *out (free with ps_admin_free, or
 * ps_admin_commit), PS_ENOENT, PS_EBUSY (another writer held the lock past busy_ms), PS_EDB (not a
 * pinsplice DB, a schema version other than PS_SCHEMA_VERSION, unreadable), PS_ENOMEM.
 */
int ps_admin_open(const char *path, int busy_ms, const char *who, struct ps_admin **out,
                  struct ps_err *err);

/* Commit and free the handle (also on error: then nothing was written). Returns 0, PS_EBUSY or
 * PS_EDB. */
int ps_admin_commit(struct ps_admin *a, struct ps_err *err);

/* Roll back what was not committed and free. NULL is a no-op. */
void ps_admin_free(struct ps_admin *a);

/* True when the DB has the audit trail (sql/audit.sql's audit table and audit_import view). */
bool ps_admin_audited(const struct ps_admin *a);

/* ---- the audit's user, per session (`pinsplice sql`) -------------------------------------------
 */

/*
 * The SQL that makes one connection's audit rows name `who` (see sql/audit.sql, "Who"): a TEMP
 * table holding the name and a TEMP trigger on main.audit. TEMP objects belong to the connection
 * that runs the SQL and vanish with it, so no later session inherits the name. `who` is quoted
 * as an SQL literal. Returns 0 and *out (the caller frees it), PS_EINVAL (who NULL or empty),
 * PS_ENOMEM.
 */
int ps_admin_session_sql(const char *who, char **out, struct ps_err *err);

/*
 * Check, read-only, that path is an existing pinsplice DB (user_version >= 1) with the audit
 * trail of sql/audit.sql (which the session SQL needs). Never creates the file. Returns 0,
 * PS_ENOENT, PS_EIO, PS_EINVAL (not a regular file), PS_EDB (not a pinsplice DB, no audit trail).
 */
int ps_admin_session_check(const char *path, struct ps_err *err);

/* ---- category lists (`pinsplice categories import`) -------------------------------------------
 */

/*
 * Start (re)importing the list named list into category: every row of category_domains that came
 * from this list before (any category) is deleted, and category is created when it does not exist
 * yet. *removed: rows deleted; *created: whether the category was created. Then feed names with
 * ps_admin_list_add and close with ps_admin_list_end. Returns 0, PS_EINVAL (empty list or
 * category, a list still open), PS_EDB.
 */
int ps_admin_list_begin(struct ps_admin *a, const char *list, const char *category,
                        long long *removed, bool *created, struct ps_err *err);

/* Add one name (already normalised) to the open list. Returns 0 added, 1 not added because the
 * category already holds the name (from another list, by hand, or twice in this one), PS_EINVAL
 * when it is not in stored normal form (checked by ps_name_check_stored, the rules of the schema's
 * CHECK constraints, which this bulk insert does not run: see lib/admin/admin.c), PS_EDB for
 * anything else (the transaction is then unusable). */
int ps_admin_list_add(struct ps_admin *a, const char *domain, struct ps_err *err);

/* Close the open list: one audit row summarising it (audit_import: list, category, rows removed,
 * rows added) when the DB is audited. Returns 0, PS_EINVAL (no list open), PS_EDB. */
int ps_admin_list_end(struct ps_admin *a, long long added, struct ps_err *err);

/* ---- schema migrations ------------------------------------------------------------------------
 */

/* One migration: SQL taking a DB from user_version `from` to from + 1 (the step sets nothing
 * itself: the runner sets user_version after it). */
struct ps_admin_step {
    int from;
    const char *what; /* one line for the report */
    const char *sql;
};

/* The migrations of this build, ordered by from (none yet: version 1 is the first). *n: count. */
const struct ps_admin_step *ps_admin_steps(size_t *n);

/*
 * Bring the DB at path from its user_version to target by running steps (ordered by from, each
 * one step up), all in one transaction with user_version set after each. A DB already at target
 * is left alone. *from (may be NULL): the version found. Returns 0, PS_EDB (not a pinsplice DB:
 * user_version 0; newer than target; no step from some version below target; a step failed: err
 * names it and nothing is changed), PS_ENOENT, PS_EBUSY.
 */
int ps_admin_migrate(const char *path, int busy_ms, const struct ps_admin_step *steps, size_t n,
                     int target, int *from, struct ps_err *err);

/* ---- a new DB (`pinsplice db init`) ------------------------------------------------------------
 */

struct ps_admin_init {
    const char *path;    /* the DB to create */
    const char *sql_dir; /* holds the SQL files */
    bool force;          /* replace an existing path */
    int busy_ms;
};

struct ps_admin_init_stats {
    size_t rules, domains; /* enabled rules and domain entries, as the helper loads them */
};

/*
 * Create the rules DB at in->path from schema.sql, audit.sql, manage.sql, vendor.sql and
 * defaults.sql of in->sql_dir (each must be readable):
 * every missing directory above it is made (mode 0755), the SQL is loaded into a temporary file
 * beside it (ps_store_create), the vendor baseline is recorded (a first, empty ps_admin_update),
 * the file gets mode 0644 and is renamed over in->path, then loaded as the helper does. An
 * existing in->path is refused unless in->force. Returns 0 and fills *st (may be NULL);
 * PS_EINVAL (empty path, exists, a parent not a directory), PS_ETOOLONG, PS_ENOENT, PS_EIO,
 * PS_EDB (err says which). On error before the rename, in->path is untouched and no temporary
 * file is left; a load failure after it is reported as "created PATH, but it does not load".
 */
int ps_admin_db_init(const struct ps_admin_init *in, struct ps_admin_init_stats *st,
                     struct ps_err *err);

/* ---- vendor updates (`pinsplice db update`) ---------------------------------------------------
 */

/* The new vendor data: schema.sql, vendor.sql, defaults.sql are required; manage.sql is applied
 * too when given, after audit.sql when that is given (both are safe to re-run: they recreate their
 * views and triggers, keep the audit). */
struct ps_admin_sql {
    const char *schema, *vendor, *defaults, *manage, *audit;
};

/*
 * One line of an update's report. kind: "rule", "rule_domain", "rule_program", "rule_category",
 * "rule_source", "app", "app_domain", "app_program", "category". owner: the rule, app or category
 * name. item: "exists" (the rule/app/category itself), a field name ("action", "enabled",
 * "position", "expires_at", "comment", "reason", "note"), or the entry (a domain, a category,
 * a source, or "os:program"). op: "add", "remove", "update" (applied), "keep" (your
 * value differs from the vendor's and was kept), "conflict" (a local rule or app has the vendor's
 * name: the vendor's is not applied). local, vendor: the values (NULL when absent or NULL);
 * has_local, has_vendor: whether the DB / the new vendor SQL has the item at all.
 * Strings are valid during the callback only.
 */
struct ps_admin_change {
    const char *kind, *owner, *item, *op, *local, *vendor;
    bool has_local, has_vendor;
};
typedef void ps_admin_change_fn(const struct ps_admin_change *c, void *ud);

struct ps_admin_update_stats {
    int from_version, to_version; /* user_version before and after */
    bool had_base;                /* a vendor baseline from an earlier update existed */
    bool manage_applied;
    long long added, removed, updated, kept, conflicts;
};

/*
 * Apply a newer vendor catalogue and default rules to the DB at path, keeping every local
 * decision, in one transaction: migrate the schema (ps_admin_steps), apply audit.sql and
 * manage.sql when given, load the new vendor SQL into an in-memory database, then merge by rule
 * name and app name.
 *
 * The merge is three-way for every vendor item (a field of a vendor rule or app, an entry of one,
 * a category): base = what the vendor shipped at the last update (table vendor_base, written by
 * each update), local = the DB, new = the new vendor SQL. Local equal to base: the admin did not
 * touch it, the vendor's new value (or its absence) is applied. Local different from base: the
 * admin's value is kept (a disabled default rule stays disabled, a deleted entry stays deleted).
 * Rows with origin 'local' are never read or written. A vendor rule or app the new SQL drops is
 * deleted only when the admin changed nothing of it. Categories are never deleted; settings keys
 * the DB lacks are added. Without a base (the first update of a DB made by `db init`) an item
 * missing from the DB is added unless the audit trail shows the admin deleted it, a value is
 * refreshed only when the audit trail shows the item's whole history and nobody changed it, and
 * everything else the DB holds is kept.
 *
 * fn (may be NULL) receives one line per applied change, kept value and conflict, before COMMIT.
 * dry_run: everything is done and reported, then rolled back. Returns 0 and fills *st (may be
 * NULL); PS_ENOENT, PS_EBUSY, PS_EDB (with err naming the SQL file, the version problem or
 * SQLite's message: nothing is changed), PS_ENOMEM.
 */
int ps_admin_update(const char *path, int busy_ms, const struct ps_admin_sql *sql, const char *who,
                    bool dry_run, ps_admin_change_fn *fn, void *ud,
                    struct ps_admin_update_stats *st, struct ps_err *err);

/* ---- publishing (`pinsplice db publish`) ------------------------------------------------------
 */

/*
 * Write a consistent copy of the DB at src to dst for distribution: VACUUM INTO a temporary file
 * beside dst (one read transaction of src: a concurrent edit is in it whole or not at all), in
 * rollback-journal mode, checked by loading it as the helper does (ps_store_load), fsync'd, mode
 * 0644, then renamed over dst (a new inode: helpers and services reading dst reload it) and the
 * directory fsync'd. src and dst must differ. *bytes (may be NULL): size of the copy. Returns 0,
 * PS_EINVAL (same file, dst a directory, or an entry the helper would refuse: err says which),
 * PS_ENOENT, PS_EBUSY, PS_EDB (src unreadable, another schema version), PS_EIO. On error dst is
 * untouched and no temporary file is left.
 */
int ps_admin_publish(const char *src, const char *dst, int busy_ms, long long *bytes,
                     struct ps_err *err);

/* ---- who --------------------------------------------------------------------------------------
 */

/* The OS user for audit.who: the login name of the real uid; under sudo "NAME (sudo by USER)".
 * Always NUL-terminates out (truncating a very long name is harmless here). */
void ps_admin_os_user(char *out, size_t size);

/* ---- vendor feeds (`pinsplice feed import`) ----------------------------------------------------
 */

struct ps_feed;

struct ps_admin_feed_stats {
    bool first;     /* no earlier import of this feed */
    bool has_dests; /* the DB has app_destinations */
    long long added, removed, updated, kept, conflicts, stale_rules;
    size_t dests_unstored; /* ranges the feed gives that a DB without app_destinations loses */
};

/*
 * Import a parsed feed (lib/admin/feed.h) into the catalogue inside a's transaction (ps_admin_open;
 * the caller commits, or frees the handle to roll back: that is --dry-run). The feed's apps are the
 * apps whose apps.feed is f->name (origin 'local', so `db update` never touches them). A
 * re-import replaces them the way ps_admin_update replaces the vendor's: three-way against
 * feed_base (what the previous import said), so the admin's edits to those apps are kept (a
 * deleted app or entry stays deleted, a changed note stays, an added entry stays) and what the
 * admin left alone follows the feed (added, changed, removed). An app whose name is held by
 * another app (vendor, local, another feed) is a conflict and is not written. Each app's note ends
 * with the provenance: feed name and format, source, version, now (UTC, ISO 8601). The feeds row
 * is written (imported_at = now) and, when the DB is audited, one audit row (tbl 'feeds', op
 * 'IMPORT') with the provenance and the counts, besides the per-row audit of the app changes.
 *
 * fn (may be NULL) receives one line per change, before anything is written: kinds "app",
 * "app_domain", "app_program", "app_destination" (item "exists", "reason", "note", or the entry;
 * programs as ["os","program"]), op "add" | "remove" | "update" | "keep" | "conflict"; and
 * kind "rule", op "stale" for a rule made by enable_app from an app whose entries change (the
 * rule keeps its own copy). The entries of an app added or removed whole are not listed.
 * Returns 0 and fills *st (may be NULL); PS_EDB (no feeds table: run `db update`; SQLite's
 * message naming the feed otherwise), PS_ENOMEM. On error the caller must free a (roll back).
 */
int ps_admin_feed_import(struct ps_admin *a, const struct ps_feed *f, const char *now,
                         ps_admin_change_fn *fn, void *ud, struct ps_admin_feed_stats *st,
                         struct ps_err *err);

/*
 * The whole `feed import` of a parsed feed on the DB at path: ps_admin_open (as who, waiting at
 * most busy_ms for another writer), ps_admin_feed_import, then commit (dry_run: roll back after
 * the report). Returns what those return; on error nothing is written.
 */
int ps_admin_feed_import_db(const char *path, int busy_ms, const char *who,
                            const struct ps_feed *f, const char *now, bool dry_run,
                            ps_admin_change_fn *fn, void *ud, struct ps_admin_feed_stats *st,
                            struct ps_err *err);

#endif /* PS_LIB_ADMIN_H */
