/* feed_app.c: the feed parser's apps and their entries: names, destinations, programs, notes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "addr.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "keytab.h"
#include "lint.h"
#include "name.h"
#include "text.h"

/* ---- apps and their entries ---------------------------------------------------------------- */

struct ps_feed_app *
ps_feed_app_find(struct ps_feed_ctx *c, const char *name)
{
    size_t i;

    return ps_keytab_get(c->seen, NS_APPS, name, strlen(name), &i) ? &c->f->apps[i] : NULL;
}

int
ps_feed_app_new(struct ps_feed_ctx *c, const char *name, struct ps_feed_app **out)
{
    struct ps_feed *f = c->f;
    struct ps_feed_app *a;

    if (strlen(name) > 200 || name[0] == ' ' || name[strlen(name) - 1] == ' ')
        return ps_feed_fail(c, "app name \"%s\": 1 to 200 characters, no surrounding spaces", name);
    if (f->n_apps >= APPS_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: over %d apps", c->label, APPS_MAX);
    if (ps_feed_grow((void **)&f->apps, f->n_apps, sizeof(*f->apps)) < 0)
        return ps_feed_oom(c);
    a = &f->apps[f->n_apps];
    memset(a, 0, sizeof(*a));
    if ((a->name = ps_feed_dup(name)) == NULL)
        return ps_feed_oom(c);
    f->n_apps++;
    if (ps_keytab_put(c->seen, NS_APPS, a->name, strlen(a->name), f->n_apps - 1, NULL) < 0)
        return ps_feed_oom(c);
    *out = a;
    return 0;
}

/*
 * One name pattern of a feed into app a: exact, "*.subtree", or skipped (any other '*').
 * field: "urls"[3], for messages.
 */
static int
add_pattern(struct ps_feed_ctx *c, struct ps_feed_app *a, const char *pat, const char *field)
{
    char norm[PS_NAME_MAX + 1];
    const char *name = pat;
    enum ps_name_kind kind;
    struct ps_err e = {0, ""};
    bool exact = true;
    size_t i;

    if (strncmp(pat, "*.", 2) == 0) {
        name = pat + 2;
        exact = false;
    }
    if (strchr(name, '*') != NULL)
        return ps_feed_skip(
            c, pat,
            "a wildcard inside a label or in the middle: no entry covers exactly "
            "these names (a subtree would cover more than the feed lists); skipped");
    if (ps_name_normalize(name, strlen(name), norm, &kind, &e) < 0) {
        return ps_feed_fail(c, "%s \"%s\": %s", field, pat, e.msg);
    }
    if (kind != PS_NAME_DOMAIN)
        return ps_feed_fail(c, "%s \"%s\": an IP address (list it under the ranges, not the names)",
                            field, pat);
    if (!exact && ps_lint_public_suffix(norm)) {
        return ps_feed_fail(
            c,
            "%s \"%s\": %s is a public suffix: a subtree entry would cover every site "
            "registered under it (refused as db check does)",
            field, pat, norm);
    }
    if (strchr(norm, '.') == NULL)
        return ps_feed_fail(c, "%s \"%s\": a single label, not a host name", field, pat);
    if (ps_keytab_get(c->seen, NS_DOMAIN(a - c->f->apps), norm, strlen(norm), &i)) {
        if (!exact && a->domains[i].exact) { /* the subtree covers the exact name */
            a->domains[i].exact = false;
            free(a->domains[i].note);
            if ((a->domains[i].note = ps_feed_dup(pat)) == NULL)
                return ps_feed_oom(c);
        }
        return 0;
    }
    if (a->n_domains >= ENTRIES_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: app \"%s\": over %d names", c->label, a->name,
                          ENTRIES_MAX);
    if (ps_feed_grow((void **)&a->domains, a->n_domains, sizeof(*a->domains)) < 0)
        return ps_feed_oom(c);
    a->domains[a->n_domains].domain = ps_feed_dup(norm);
    a->domains[a->n_domains].exact = exact;
    a->domains[a->n_domains].note = exact ? NULL : ps_feed_dup(pat);
    if (a->domains[a->n_domains].domain == NULL ||
        (!exact && a->domains[a->n_domains].note == NULL)) {
        free(a->domains[a->n_domains].domain);
        free(a->domains[a->n_domains].note);
        return ps_feed_oom(c);
    }
    if (ps_keytab_put(c->seen, NS_DOMAIN(a - c->f->apps), a->domains[a->n_domains].domain,
                      strlen(norm), a->n_domains, NULL) < 0) {
        free(a->domains[a->n_domains].domain);
        free(a->domains[a->n_domains].note);
        return ps_feed_oom(c);
    }
    a->n_domains++;
    return 0;
}

/* Canonical "addr/len" of a parsed network. */
static void
cidr_text(const struct ps_cidr *n, char out[INET6_ADDRSTRLEN + 5])
{
    char addr[INET6_ADDRSTRLEN];

    if (n->net.v4)
        inet_ntop(AF_INET, n->net.b + 12, addr, sizeof(addr));
    else
        inet_ntop(AF_INET6, n->net.b, addr, sizeof(addr));
    snprintf(out, INET6_ADDRSTRLEN + 5, "%s/%u", addr, n->net.v4 ? n->bits - 96 : n->bits);
}

static int
add_dest(struct ps_feed_ctx *c, struct ps_feed_app *a, const char *s, const char *field)
{
    char text[INET6_ADDRSTRLEN + 5];
    struct ps_err e = {0, ""};
    struct ps_cidr n;
    size_t i;

    if (ps_cidr_parse(s, strlen(s), &n, &e) < 0) {
        return ps_feed_fail(c, "%s \"%s\": %s", field, s, e.msg);
    }
    cidr_text(&n, text);
    if (ps_keytab_get(c->seen, NS_DEST(a - c->f->apps), text, strlen(text), &i))
        return 0;
    if (a->n_dests >= ENTRIES_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: app \"%s\": over %d ranges", c->label, a->name,
                          ENTRIES_MAX);
    if (ps_feed_grow((void **)&a->dests, a->n_dests, sizeof(*a->dests)) < 0 ||
        (a->dests[a->n_dests] = ps_feed_dup(text)) == NULL)
        return ps_feed_oom(c);
    if (ps_keytab_put(c->seen, NS_DEST(a - c->f->apps), a->dests[a->n_dests], strlen(text),
                      a->n_dests, NULL) < 0) {
        free(a->dests[a->n_dests]);
        return ps_feed_oom(c);
    }
    a->n_dests++;
    return 0;
}

static const char *
os_name(const char *s)
{
    static const char *const os[] = {"windows", "macos", "linux", "any"};
    size_t i;

    for (i = 0; s != NULL && i < 4; i++)
        if (strcmp(s, os[i]) == 0)
            return os[i];
    return NULL;
}

int
ps_feed_app_program(struct ps_feed_ctx *c, struct ps_feed_app *a, const char *os_in,
                    const char *prog, const char *field)
{
    char base[PS_PROGRAM_MAX + 1];
    struct ps_err e = {0, ""};
    const char *os = os_name(os_in != NULL ? os_in : "any");
    size_t i;

    if (os == NULL)
        return ps_feed_fail(c, "%s: os \"%s\": use windows, macos, linux or any", field, os_in);
    if (ps_name_program(prog, strlen(prog), base, &e) < 0) {
        return ps_feed_fail(c, "%s \"%s\": %s", field, prog, e.msg);
    }
    if (strcspn(prog, "/\\") != strlen(prog) || strcmp(prog, base) != 0)
        /* only the basename is compared, case-insensitively; the stored name is the lower-case
         * basename, so a directory never makes it look stricter than it is */
        prog = base;
    for (i = 0; i < a->n_programs; i++)
        if (a->programs[i].os == os && strcmp(a->programs[i].program, prog) == 0)
            return 0;
    if (a->n_programs >= ENTRIES_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: app \"%s\": over %d programs", c->label,
                          a->name, ENTRIES_MAX);
    if (ps_feed_grow((void **)&a->programs, a->n_programs, sizeof(*a->programs)) < 0 ||
        (a->programs[a->n_programs].program = ps_feed_dup(prog)) == NULL)
        return ps_feed_oom(c);
    a->programs[a->n_programs].os = os;
    a->n_programs++;
    return 0;
}

/* Append ", text" (or "text") to *note. */
int
ps_feed_app_note(struct ps_feed_ctx *c, char **note, const char *text)
{
    size_t old = *note != NULL ? strlen(*note) : 0, n = strlen(text);
    char *p;

    if (old + n > 4 * TEXT_MAX)
        return 0; /* long enough: the feed keeps the rest */
    if ((p = realloc(*note, old + n + 3)) == NULL)
        return ps_feed_oom(c);
    if (old > 0) {
        memcpy(p + old, ", ", 2);
        old += 2;
    }
    memcpy(p + old, text, n + 1);
    *note = p;
    return 0;
}

int
ps_feed_app_names(struct ps_feed_ctx *c, struct ps_feed_app *a, json_t *arr, const char *key)
{
    char field[48];
    json_t *it;
    size_t i;
    int rc;

    json_array_foreach(arr, i, it)
    {
        snprintf(field, sizeof(field), "\"%s\"[%zu]", key, i);
        if ((rc = add_pattern(c, a, json_string_value(it), field)) < 0)
            return rc;
    }
    return 0;
}

int
ps_feed_app_dests(struct ps_feed_ctx *c, struct ps_feed_app *a, json_t *arr, const char *key)
{
    char field[48];
    json_t *it;
    size_t i;
    int rc;

    json_array_foreach(arr, i, it)
    {
        snprintf(field, sizeof(field), "\"%s\"[%zu]", key, i);
        if ((rc = add_dest(c, a, json_string_value(it), field)) < 0)
            return rc;
    }
    return 0;
}
