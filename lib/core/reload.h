#ifndef PS_LIB_RELOAD_H
#define PS_LIB_RELOAD_H

#include <stdbool.h>
#include <time.h>

struct ps_err;
struct ps_snapshot;
struct ps_reload;

/*
 * Hot reload. A ps_reload owns the current snapshot of one DB file. ps_reload_poll() notices a
 * change (the file or its journal replaced, written or renamed over: dev, inode, size, mtime),
 * loads a new snapshot aside and swaps it in; a DB that fails to load leaves the last good rules
 * in force and is reported once (until it changes again or loads). Readers take a reference with
 * ps_reload_acquire() for one query and release it.
 */

/* Create; loads nothing yet. interval_ms: least time between two checks of the file. */
struct ps_reload *ps_reload_new(const char *db_path, unsigned interval_ms);
/* Stops the thread if started, releases the snapshot. NULL is a no-op. */
void ps_reload_free(struct ps_reload *r);

/*
 * Check now (ignoring the interval when force is true). Returns 1 when a new snapshot was swapped
 * in, 0 when nothing changed, or a negative code when loading failed (err says why; the previous
 * snapshot, if any, stays). Thread-safe; concurrent callers do not load twice.
 */
int ps_reload_poll(struct ps_reload *r, bool force, struct ps_err *err);

/* Start a background thread that checks the DB when inotify reports a write, rename, creation
 * or removal of the DB, its -journal or -wal in its directory (debounced: 100 ms after the last
 * event, at most 1 s after the first of a burst), and every interval in any case (the fallback
 * when inotify is unavailable or loses events). Logs loads and failures with ps_log (a failure
 * once until it changes). Returns 0 or PS_ENOMEM. Call after fork(), never before. */
int ps_reload_start(struct ps_reload *r);

/* The current snapshot with a reference taken, or NULL when no rules were ever loaded. */
struct ps_snapshot *ps_reload_acquire(struct ps_reload *r);

/* Counters for statistics. */
struct ps_reload_stats {
    unsigned long loads, failures;
    bool have_rules;
    /* Stale rules: how long the DB has been failing to load since a check first saw it changed
     * (or missing, or broken), in ms of the monotonic clock; 0 when the last check loaded it or
     * found it unchanged since a load. An edit that a trigger let through but the loader refused
     * shows here while the last good rules stay in force. */
    unsigned long long stale_ms;
    time_t loaded_at; /* wall-clock time of the last successful load; 0: never */
};
void ps_reload_stats(struct ps_reload *r, struct ps_reload_stats *out);

#endif /* PS_LIB_RELOAD_H */
