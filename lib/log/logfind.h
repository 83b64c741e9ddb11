#ifndef PS_LIB_LOGFIND_H
#define PS_LIB_LOGFIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct ps_err;
struct ps_logscan;
struct ps_ls_name;
struct ps_snapshot;

/*
 * The pinning-app finder: from a finished scan, the server names whose bumped connections the
 * clients abandoned (rejected the certificate, reset or closed the handshake, left without a
 * request), compared with the bumped connections to the same name that carried requests.
 * Suggests, never applies: a transient network error or one malicious client can produce such
 * failures, which is what the thresholds are for.
 */

struct ps_logfind_opts {
    uint64_t min_failures; /* at least this many abandoned connections */
    uint32_t min_clients;  /* from at least this many distinct client addresses */
    double min_ratio;      /* failures / (failures + successful bumped connections) */
    /* Rules to compare with: a name they no longer bump (a rule splices or terminates it, or the
     * default action is not bump) is reported as handled, never as a suspect. NULL: none. */
    const struct ps_snapshot *snap;
};

#define PS_LOGFIND_MIN_FAILURES 5
#define PS_LOGFIND_MIN_CLIENTS 2
#define PS_LOGFIND_MIN_RATIO 0.5

/* Defaults: PS_LOGFIND_MIN_FAILURES, PS_LOGFIND_MIN_CLIENTS, PS_LOGFIND_MIN_RATIO, no rules. */
void ps_logfind_opts_init(struct ps_logfind_opts *o);

struct ps_logfind_item {
    const char *name;               /* the server name (a key of the scan's name table) */
    const struct ps_ls_name *stats; /* its counters (fail is never NULL here) */
    uint64_t failures;              /* abandoned connections, all kinds */
    double ratio;                   /* failures / (failures + stats->c.bump_ok) */
    uint32_t clients;               /* distinct failing clients (PS_LS_CLIENTS_TRACK + 1 when
                                       more than tracked) */
    bool suspect;                   /* passes every threshold and no rule handles it */
    bool handled;                   /* the rules no longer bump it */
    char handled_by[208];           /* "rule 'NAME' (splice)" or "default action (splice)" */
};

/*
 * Every name with at least one abandoned connection (names that are not valid host names, e.g.
 * a missing SNI, are left out: no rule could name them), suspects first, then by failures
 * (descending) and name. *out is a new array the caller frees (NULL when *n is 0); its pointers
 * point into the scan, which must outlive it. Returns 0 or PS_ENOMEM (nothing is set).
 */
int ps_logfind_run(const struct ps_logscan *ls, const struct ps_logfind_opts *o,
                   struct ps_logfind_item **out, size_t *n, struct ps_err *err);

/* How suggestions are written (ps_logfind_sql). */
struct ps_logfind_sql_opts {
    int expires_days;        /* each rule expires this many days after it is applied; 0: never */
    bool monitor;            /* each rule starts in monitor mode (answers nothing until switched) */
    const char *const *apps; /* parallel to items: the catalogue app that covers the name (NULL
                              * or "" when none); NULL: the catalogue was not consulted */
    time_t now;              /* stamps the comments; 0: time(NULL) */
};

#define PS_LOGFIND_EXPIRES_DAYS 7

/* Defaults: PS_LOGFIND_EXPIRES_DAYS, enforce, no catalogue, now. */
void ps_logfind_sql_opts_init(struct ps_logfind_sql_opts *so);

/*
 * Print, for the suspects among items[0..n), the sqlite3 statements that would bypass them, for
 * a human to review and apply (`sqlite3 rules.db < file.sql`), inside BEGIN/COMMIT with comments
 * giving the evidence. Nothing is executed. Every statement goes through the management views
 * (sql/manage.sql), so it gets their checks and the audit:
 *   - a name a catalogue app covers: INSERT INTO enable_app (the app's rule, all its domains);
 *   - any other: INSERT INTO add_domain, a rule "logscan: NAME" (splice, placed last, the exact
 *     name), scoped with add_source to the failing clients when the evidence says the name
 *     works for others (every failing client is known, at most PS_LS_EXAMPLES, and other bumped
 *     connections to the name carried requests);
 *   - then edit_rule: expires_at so->expires_days after applying, and mode 'monitor' when
 *     so->monitor.
 * Names are valid domain names (ps_logfind_run keeps no others). Returns the number of rules
 * written (0: only a comment saying there is nothing to suggest).
 */
size_t ps_logfind_sql(FILE *out, const struct ps_logfind_item *items, size_t n,
                      const struct ps_logfind_opts *o, const struct ps_logfind_sql_opts *so);

#endif /* PS_LIB_LOGFIND_H */
