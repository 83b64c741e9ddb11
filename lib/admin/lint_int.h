/*
 * lint_int.h: what the files of the linter share (lint.c collects and reports, lint_entry.c checks
 * each entry and the duplicates inside a rule, lint_shadow.c checks the loaded snapshot). Not
 * installed; see lint.h for the interface.
 */
#ifndef PS_LIB_LINT_INT_H
#define PS_LIB_LINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "keytab.h"
#include "lint.h"

/* Kinds of entries, also the namespace of the duplicate table. */
enum kind { K_DOMAIN = 1, K_PROGRAM = 2, K_CATEGORY = 3, K_SOURCE = 4, K_DEST = 5 };
extern const char *const ps_lint_kind_names[6]; /* by enum kind; [0] is NULL */

struct lrule {
    long long id;
    char *name;
    bool enabled;
    size_t seq; /* order of appearance (ps_store_foreach: evaluation order) */
    size_t n_entries;
    uint64_t bits[3]; /* prefix lengths (0..128) of its networks, for the containment check */
};

struct lentry {
    enum kind kind;
    size_t rule;        /* index into rules */
    char *value;        /* as stored */
    char *key;          /* what the matcher compares (NULL: the entry is broken, see findings) */
    char *os;           /* programs */
    bool exact;         /* domains */
    struct ps_cidr net; /* sources that are networks */
    bool is_net;
};

struct rec {
    struct ps_lint_finding f;
    size_t rule_seq, entry_seq, seq; /* sort key */
};

struct ps_lint {
    struct lrule *rules;
    size_t nrules, caprules;
    struct lentry *entries;
    size_t nentries, capentries;
    struct rec *recs;
    size_t nrecs, caprecs;
    struct ps_keytab *ruleids; /* rule id -> index into rules */
    struct ps_keytab *keys;    /* (rule * 8 + kind, key) -> entry index */
    struct ps_keytab *cats;    /* known categories */
    char **strs;               /* messages, owned */
    size_t nstrs, capstrs;
    bool cats_known, finished;
    struct ps_err add_err; /* first error of ps_lint_add_cb */
};

/* A copy of s (NULL when out of memory). */
char *ps_lint_dup(const char *s);

/* Record a finding about rule r (SIZE_MAX: none) and entry e (SIZE_MAX: the rule itself).
 * Returns 0 or PS_ENOMEM. */
int ps_lint_note(struct ps_lint *l, enum ps_lint_severity sev, const char *check, size_t r,
                 size_t e, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Warnings are not reported for disabled rules (see lint.h). */
static inline bool
ps_lint_wants(const struct ps_lint *l, size_t r, enum ps_lint_severity sev)
{
    return sev == PS_LINT_ERROR || l->rules[r].enabled;
}

/* The namespace of an entry in the duplicate table l->keys: its rule and kind. */
static inline uint64_t
ps_lint_key_ns(const struct lentry *en)
{
    return (uint64_t)en->rule * 8 + en->kind;
}

/* The per-entry checks (names, programs, sources, destinations, categories), then duplicates
 * inside one rule, then rules without entries (lint_entry.c). Returns 0 or PS_ENOMEM. */
int ps_lint_check_entries(struct ps_lint *l);

/* The checks on the loaded snapshot: expired rules, then shadowed domains (lint_shadow.c).
 * Needs ps_lint_check_entries first (it fills l->keys). Returns 0 or PS_ENOMEM. */
int ps_lint_check_snapshot(struct ps_lint *l, const struct ps_snapshot *snap, time_t now);

#endif /* PS_LIB_LINT_INT_H */
