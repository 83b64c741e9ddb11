#ifndef PS_LIB_LINT_H
#define PS_LIB_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct ps_err;
struct ps_snapshot;
struct ps_store_entry;
struct ps_lint;

/*
 * `pinsplice db check`: find what in a rules database is wrong, dangerous or useless. The checks
 * (the `check` code of a finding, then its severity):
 *
 *   load              error    ps_store_load refuses the database (the helper would keep its
 *                              old rules or, at start-up, bump everything). Shadowing is then
 *                              not checked.
 *   bad-name          error    a domain entry that is not in stored normal form
 *                              (ps_name_check_stored), or an IP literal (never matches a domain).
 *   bad-program       error    a program entry ps_name_program refuses, or one with a directory.
 *   bad-source        error    a source that is neither ADDR[/BITS] (ps_cidr_parse, host bits
 *                              zero) nor user:NAME.
 *   unknown-category  error    a rule category missing from the `categories` table (only when
 *                              the caller told which categories exist, see
 *                              ps_lint_known_category).
 *   public-suffix     error    a non-exact domain entry that is a public suffix (libpsl, ICANN
 *                              and private sections: `com`, `co.uk`, `github.io`, `akadns.net`):
 *                              the rule covers every site registered under it. An exact entry
 *                              matches the name alone and is not reported.
 *   shadowed          error    an entry of an enabled rule that can never decide because an
 *                              earlier enabled rule takes every name it covers, with ANOTHER
 *                              action: the admin's intent is silently overridden.
 *                     warning  the same with the SAME action: the entry is redundant.
 *   duplicate         warning  inside one rule: a domain covered by another non-exact domain of
 *                              the rule (or the same name twice), a program given twice for the
 *                              same os (compared as the matcher does: basename, case-insensitive),
 *                              a network inside another network of the rule, a user twice.
 *   empty-rule        warning  a rule with no entries: it matches nothing.
 *   expired           warning  an enabled rule whose expires_at is in the past.
 *
 * Shadowing, precisely. Entry E = domain D of enabled rule R (exact or not) is shadowed by rule S
 * when ps_decide on the loaded snapshot, for a connection whose only input is SNI = D (no client
 * address, user or program), is decided by S and S is evaluated before R; and, when E is not exact,
 * S covers D's whole subtree: S matched D through a non-exact domain entry or through a category
 * (categories always cover subtrees). Without a client address, user or trusted program, a rule
 * with a source or program dimension never matches, so S matches on names alone (its domains
 * and/or categories) and takes every connection to D whatever the client: R is never reached for
 * D. This uses the matcher itself, so it cannot drift from it. Not reported: entries of disabled
 * rules (never evaluated); a rule that covers only part of D's subtree; an entry shadowed by a
 * rule that will expire is reported with that rule's expiry.
 *
 * Disabled rules are checked for errors only (bad names, public suffixes, ... would hurt the day
 * the rule is enabled), not for warnings (a disabled rule is allowed to be incomplete).
 */

enum ps_lint_severity {
    PS_LINT_WARNING = 1,
    PS_LINT_ERROR = 2,
};

/* One finding. Strings are owned by the ps_lint and valid until ps_lint_free. */
struct ps_lint_finding {
    enum ps_lint_severity severity;
    const char *check;   /* static code: "bad-name", "public-suffix", ... (see above) */
    long long rule_id;   /* 0 when the finding is about no single rule ("load") */
    const char *rule;    /* the rule's name, or NULL */
    const char *kind;    /* "domain", "program", "category", "source", "destination", or NULL
                          * for the rule */
    const char *value;   /* the entry as stored, or NULL */
    const char *message; /* a sentence naming the value, without the rule: "bad domain 'a..b':
                            empty label" */
};

/* A new empty checker, or NULL when out of memory. */
struct ps_lint *ps_lint_new(void);
/* Free it and every finding (NULL is a no-op). */
void ps_lint_free(struct ps_lint *l);

/*
 * Feed one raw entry as ps_store_foreach reports it (kinds "rule", "domain", "program",
 * "category", "source"; an entry may come before its rule). The entry is copied. Kind
 * "known-category" (value: a name of the `categories` table, rule fields unused) is
 * ps_lint_known_category, for a walker that reports that table. Returns 0, PS_EINVAL for an
 * unknown kind or a missing value, PS_ENOMEM. Must not be called after ps_lint_finish.
 */
int ps_lint_add(struct ps_lint *l, const struct ps_store_entry *e, struct ps_err *err);

/* ps_lint_add as a ps_store_entry_fn (ud is the struct ps_lint *); returns its code. */
int ps_lint_add_cb(const struct ps_store_entry *e, void *ud);

/*
 * Declare that a category exists (a row of the `categories` table). Once at least one category
 * has been declared, rule categories not declared are reported as unknown-category; when none
 * was, that check is skipped. Returns 0 or PS_ENOMEM.
 */
int ps_lint_known_category(struct ps_lint *l, const char *name, struct ps_err *err);

/*
 * Run every check. snap: the enabled rules as ps_store_load built them from the same database,
 * or NULL (the shadowed and expired checks are then skipped). load_error: why ps_store_load
 * refused the database, which becomes a "load" finding, or NULL. now: for expiry and shadowing,
 * 0 = time(NULL).
 * Returns 0 (the findings are then readable, sorted by rule order, then entry order), or
 * PS_ENOMEM. Call once.
 */
int ps_lint_finish(struct ps_lint *l, const struct ps_snapshot *snap, const char *load_error,
                   time_t now, struct ps_err *err);

/* Number of findings, and the i-th (i < count, else NULL). */
size_t ps_lint_count(const struct ps_lint *l);
const struct ps_lint_finding *ps_lint_get(const struct ps_lint *l, size_t i);
/* How many findings have this severity. */
size_t ps_lint_count_severity(const struct ps_lint *l, enum ps_lint_severity sev);

/*
 * The public-suffix check of a non-exact domain entry, alone, for importers that must refuse what
 * `db check` would report (lib/admin/feed_app.c): true when domain (stored normal form) is a
 * public suffix in libpsl's ICANN or private section (the system's list when there is one, else libpsl's
 * built-in list), so that a subtree entry for it covers every site registered under it.
 */
bool ps_lint_public_suffix(const char *domain);

/* "error", "warning". */
const char *ps_lint_severity_str(enum ps_lint_severity sev);

/*
 * The whole `db check` on a database file: ps_store_load (waiting at most busy_ms for a lock),
 * ps_store_foreach into a new ps_lint, ps_lint_finish. A database that exists but does not load
 * because of its entries (PS_EINVAL) is a finding, not an error. Returns 0 and *out (caller frees
 * with ps_lint_free), or the PS_E* code of ps_store_load / ps_store_foreach (no such file, not a
 * pinsplice database, locked, ...) with err naming the path; on error *out is unchanged.
 */
int ps_lint_db(const char *path, int busy_ms, struct ps_lint **out, struct ps_err *err);

#endif /* PS_LIB_LINT_H */
