/* lint.c: the linter's collection of rules and entries, its findings, and the runs (lint.h). */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "keytab.h"
#include "lint.h"
#include "lint_int.h"
#include "snapshot.h"
#include "store.h"

const char *const ps_lint_kind_names[6] = {NULL,       "domain", "program",
                                           "category", "source", "destination"};

/* ---- small helpers --------------------------------------------------------------------------- */

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size)
        return PS_ENOMEM;
    p = realloc(*v, ncap * size);
    if (p == NULL)
        return PS_ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

char *
ps_lint_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* ---- findings -------------------------------------------------------------------------------- */

int
ps_lint_note(struct ps_lint *l, enum ps_lint_severity sev, const char *check, size_t r, size_t e,
             const char *fmt, ...)
{
    struct rec *rec;
    va_list ap;
    char *msg;
    int n;

    if (grow((void **)&l->recs, &l->caprecs, l->nrecs, sizeof(*l->recs)) < 0 ||
        grow((void **)&l->strs, &l->capstrs, l->nstrs, sizeof(*l->strs)) < 0)
        return PS_ENOMEM;
    /* Messages carry names of up to 253 characters: size them rather than truncate. */
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
        return PS_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l->strs[l->nstrs] = msg;
    rec = &l->recs[l->nrecs];
    memset(rec, 0, sizeof(*rec));
    rec->f.severity = sev;
    rec->f.check = check;
    rec->f.message = l->strs[l->nstrs++];
    rec->seq = l->nrecs++;
    if (r != SIZE_MAX) {
        rec->f.rule_id = l->rules[r].id;
        rec->f.rule = l->rules[r].name;
        rec->rule_seq = l->rules[r].seq + 1;
    }
    if (e != SIZE_MAX) {
        rec->f.kind = ps_lint_kind_names[l->entries[e].kind];
        rec->f.value = l->entries[e].value;
        rec->entry_seq = e + 1;
    }
    return 0;
}

static int
cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;

    if (x->rule_seq != y->rule_seq)
        return x->rule_seq < y->rule_seq ? -1 : 1;
    if (x->entry_seq != y->entry_seq)
        return x->entry_seq < y->entry_seq ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- collecting ------------------------------------------------------------------------------ */

struct ps_lint *
ps_lint_new(void)
{
    struct ps_lint *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->ruleids = ps_keytab_new();
    l->keys = ps_keytab_new();
    l->cats = ps_keytab_new();
    if (l->ruleids == NULL || l->keys == NULL || l->cats == NULL) {
        ps_lint_free(l);
        return NULL;
    }
    return l;
}

void
ps_lint_free(struct ps_lint *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nrules; i++)
        free(l->rules[i].name);
    for (i = 0; i < l->nentries; i++) {
        free(l->entries[i].value);
        free(l->entries[i].key);
        free(l->entries[i].os);
    }
    for (i = 0; i < l->nstrs; i++)
        free(l->strs[i]);
    free(l->rules);
    free(l->entries);
    free(l->recs);
    free(l->strs);
    ps_keytab_free(l->ruleids);
    ps_keytab_free(l->keys);
    ps_keytab_free(l->cats);
    free(l);
}

/* The index of rule id, created from e when it is new. */
static int
rule_index(struct ps_lint *l, const struct ps_store_entry *e, bool is_rule_row, size_t *out,
           struct ps_err *err)
{
    struct lrule *r;
    size_t idx;

    if (ps_keytab_get(l->ruleids, (uint64_t)e->rule_id, "", 0, &idx)) {
        if (is_rule_row) { /* the rule's own row is authoritative */
            char *name = ps_lint_dup(e->rule_name != NULL ? e->rule_name : "");
            if (name == NULL)
                return ps_err_set(err, PS_ENOMEM, "out of memory");
            free(l->rules[idx].name);
            l->rules[idx].name = name;
            l->rules[idx].enabled = e->enabled;
        }
        *out = idx;
        return 0;
    }
    if (grow((void **)&l->rules, &l->caprules, l->nrules, sizeof(*l->rules)) < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    r = &l->rules[l->nrules];
    memset(r, 0, sizeof(*r));
    r->id = e->rule_id;
    r->enabled = e->enabled;
    r->seq = l->nrules;
    r->name = ps_lint_dup(e->rule_name != NULL ? e->rule_name : "");
    if (r->name == NULL || ps_keytab_put(l->ruleids, (uint64_t)r->id, "", 0, l->nrules, NULL) < 0) {
        free(r->name);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    *out = l->nrules++;
    return 0;
}

int
ps_lint_add(struct ps_lint *l, const struct ps_store_entry *e, struct ps_err *err)
{
    struct lentry *en;
    enum kind k;
    size_t r;
    int rc;

    if (l == NULL || e == NULL || e->kind == NULL || l->finished)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    if (strcmp(e->kind, "rule") == 0)
        return rule_index(l, e, true, &r, err);
    if (strcmp(e->kind, "known-category") == 0)
        return e->value != NULL ? ps_lint_known_category(l, e->value, err)
                                : ps_err_set(err, PS_EINVAL, "known-category without a value");
    for (k = K_DOMAIN; k <= K_DEST; k++)
        if (strcmp(e->kind, ps_lint_kind_names[k]) == 0)
            break;
    if (k > K_DEST)
        return ps_err_set(err, PS_EINVAL, "lint: unknown entry kind '%.40s'", e->kind);
    if (e->value == NULL)
        return ps_err_set(err, PS_EINVAL, "rule id %lld: %s without a value", e->rule_id, e->kind);
    if ((rc = rule_index(l, e, false, &r, err)) < 0)
        return rc;
    if (grow((void **)&l->entries, &l->capentries, l->nentries, sizeof(*l->entries)) < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    en = &l->entries[l->nentries];
    memset(en, 0, sizeof(*en));
    en->kind = k;
    en->rule = r;
    en->exact = e->exact;
    en->value = ps_lint_dup(e->value);
    en->os = ps_lint_dup(e->os != NULL ? e->os : "any");
    if (en->value == NULL || en->os == NULL) {
        free(en->value);
        free(en->os);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    l->nentries++;
    l->rules[r].n_entries++;
    return 0;
}

int
ps_lint_add_cb(const struct ps_store_entry *e, void *ud)
{
    struct ps_lint *l = ud;
    struct ps_err err = {0, ""};
    int rc = ps_lint_add(l, e, &err);

    if (rc < 0 && l != NULL && l->add_err.code == 0)
        l->add_err = err;
    return rc;
}

int
ps_lint_known_category(struct ps_lint *l, const char *name, struct ps_err *err)
{
    char *copy;
    int rc;

    if (l == NULL || name == NULL)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    if (grow((void **)&l->strs, &l->capstrs, l->nstrs, sizeof(*l->strs)) < 0 ||
        (copy = ps_lint_dup(name)) == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    l->strs[l->nstrs++] = copy;
    rc = ps_keytab_put(l->cats, 0, copy, strlen(copy), 0, NULL);
    if (rc < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    l->cats_known = true;
    return 0;
}

/* ---- running --------------------------------------------------------------------------------- */

int
ps_lint_finish(struct ps_lint *l, const struct ps_snapshot *snap, const char *load_error,
               time_t now, struct ps_err *err)
{
    int rc;

    if (l == NULL || l->finished)
        return ps_err_set(err, PS_EINVAL, "lint: bad call");
    l->finished = true;
    if (now == 0)
        now = time(NULL);
    rc = 0;
    if (load_error != NULL)
        rc = ps_lint_note(l, PS_LINT_ERROR, "load", SIZE_MAX, SIZE_MAX,
                          "the rules do not load (the helper would refuse this database): %s; "
                          "shadowing not checked",
                          load_error);
    if (rc == 0)
        rc = ps_lint_check_entries(l);
    if (rc == 0 && snap != NULL)
        rc = ps_lint_check_snapshot(l, snap, now);
    if (rc < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    if (l->nrecs > 1)
        qsort(l->recs, l->nrecs, sizeof(*l->recs), cmp_rec);
    return 0;
}

size_t
ps_lint_count(const struct ps_lint *l)
{
    return l != NULL && l->finished ? l->nrecs : 0;
}

const struct ps_lint_finding *
ps_lint_get(const struct ps_lint *l, size_t i)
{
    return i < ps_lint_count(l) ? &l->recs[i].f : NULL;
}

size_t
ps_lint_count_severity(const struct ps_lint *l, enum ps_lint_severity sev)
{
    size_t i, n = 0;

    for (i = 0; i < ps_lint_count(l); i++)
        n += l->recs[i].f.severity == sev;
    return n;
}

const char *
ps_lint_severity_str(enum ps_lint_severity sev)
{
    return sev == PS_LINT_ERROR ? "error" : "warning";
}

/* store.c prefixes its messages with the file's path; the finding is printed after the path
 * already. */
static const char *
strip_path(const char *msg, const char *path)
{
    size_t n = strlen(path);

    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        return msg + n + 2;
    return msg;
}

int
ps_lint_db(const char *path, int busy_ms, struct ps_lint **out, struct ps_err *err)
{
    struct ps_snapshot *snap = NULL;
    struct ps_lint *l = NULL;
    struct ps_err lerr = {0, ""};
    int rc;

    rc = ps_store_load(path, busy_ms, &snap, &lerr);
    if (rc < 0 && rc != PS_EINVAL) {
        if (err != NULL)
            *err = lerr;
        goto done;
    }
    if ((l = ps_lint_new()) == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "out of memory");
        goto done;
    }
    rc = ps_store_foreach(path, ps_lint_add_cb, l, err);
    if (rc != 0) {
        if (l->add_err.code != 0 && err != NULL)
            *err = l->add_err;
        rc = rc < 0 ? rc : PS_EDB;
        goto done;
    }
    rc = ps_lint_finish(l, snap, snap == NULL ? strip_path(lerr.msg, path) : NULL, 0, err);
    if (rc == 0) {
        *out = l;
        l = NULL;
    }
done:
    ps_lint_free(l);
    ps_snapshot_release(snap);
    return rc;
}
