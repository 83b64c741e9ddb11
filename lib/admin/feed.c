/*
 * Vendor feeds: JSON endpoint lists mapped to catalogue apps (see lib/admin/feed.h). jansson parses;
 * this file walks the documents with a type check at every step, so a wrong type is an error that
 * names the entry and the field rather than something skipped.
 */
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
#include "keytab.h"
#include "lint.h"
#include "name.h"
#include "text.h"

#define APPS_MAX 10000    /* apps in one feed */
#define ENTRIES_MAX 100000 /* domains + destinations + programs of one app, each */
#define TEXT_MAX 4000     /* a note, a name, a source, a version */
#define WHERE_MAX 96

/* Namespaces of ctx.seen: an app's names and ranges (by app index), the app names. */
#define NS_DOMAIN(i) ((uint64_t)(i) * 2)
#define NS_DEST(i) ((uint64_t)(i) * 2 + 1)
#define NS_APPS UINT64_MAX

struct ctx {
    const char *label;
    struct ps_feed *f;
    struct ps_keytab *seen; /* what is already in f, for O(1) de-duplication; keys point into f */
    char where[WHERE_MAX]; /* "entry 3 (id 12)" */
    struct ps_err *err;
};

enum ps_feed_format
ps_feed_format_parse(const char *s)
{
    if (s != NULL && strcmp(s, "m365") == 0)
        return PS_FEED_M365;
    if (s != NULL && strcmp(s, "json") == 0)
        return PS_FEED_JSON;
    return 0;
}

const char *
ps_feed_format_str(enum ps_feed_format f)
{
    return f == PS_FEED_M365 ? "m365" : f == PS_FEED_JSON ? "json" : "?";
}

/* ---- helpers ------------------------------------------------------------------------------- */

static char *
dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *
dup_s(const char *s)
{
    return s != NULL ? dup_n(s, strlen(s)) : NULL;
}

static int
grow(void **arr, size_t n, size_t size)
{
    void *p;

    if ((n & (n - 1)) != 0 && n != 0)
        return 0; /* capacity is the next power of two: room left */
    if ((p = realloc(*arr, (n == 0 ? 1 : 2 * n) * size)) == NULL)
        return PS_ENOMEM;
    *arr = p;
    return 0;
}

static int
oom(struct ctx *c)
{
    return ps_err_set(c->err, PS_ENOMEM, "out of memory");
}

/* "FILE: WHERE: MESSAGE" */
static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
fail(struct ctx *c, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ps_err_set(c->err, PS_EINVAL, "%s: %s: %s", c->label, c->where, msg);
}

static int
add_skip(struct ctx *c, const char *value, const char *why)
{
    struct ps_feed *f = c->f;
    struct ps_feed_skip *s;

    if (grow((void **)&f->skips, f->n_skips, sizeof(*f->skips)) < 0)
        return oom(c);
    s = &f->skips[f->n_skips];
    s->where = dup_s(c->where);
    s->value = dup_s(value);
    s->why = dup_s(why);
    if (s->where == NULL || s->value == NULL || s->why == NULL) {
        free(s->where);
        free(s->value);
        free(s->why);
        return oom(c);
    }
    f->n_skips++;
    return 0;
}

/* An optional string member: 0 and *out (NULL when absent or null), or an error naming it. */
static int
get_str(struct ctx *c, json_t *obj, const char *key, bool required, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return fail(c, "\"%s\" is missing (a string is required)", key);
        return 0;
    }
    if (!json_is_string(v))
        return fail(c, "\"%s\" must be a string", key);
    if (json_string_length(v) == 0 && required)
        return fail(c, "\"%s\" is empty", key);
    if (json_string_length(v) > TEXT_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: %s: \"%s\" is over %d bytes", c->label,
                          c->where, key, TEXT_MAX);
    *out = json_string_value(v);
    return 0;
}

/* An optional array of strings (absent or null: 0 items). */
static int
get_str_array(struct ctx *c, json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key), *it;
    size_t i;

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return fail(c, "\"%s\" must be an array of strings", key);
    json_array_foreach(v, i, it) {
        char idx[24];
        if (json_is_string(it))
            continue;
        snprintf(idx, sizeof(idx), "%zu", i);
        return fail(c, "\"%s\"[%s] must be a string", key, idx);
    }
    *out = v;
    return 0;
}

/* ---- apps and their entries ---------------------------------------------------------------- */

static struct ps_feed_app *
find_app(struct ctx *c, const char *name)
{
    size_t i;

    return ps_keytab_get(c->seen, NS_APPS, name, strlen(name), &i) ? &c->f->apps[i] : NULL;
}

static int
new_app(struct ctx *c, const char *name, struct ps_feed_app **out)
{
    struct ps_feed *f = c->f;
    struct ps_feed_app *a;

    if (strlen(name) > 200 || name[0] == ' ' || name[strlen(name) - 1] == ' ')
        return fail(c, "app name \"%s\": 1 to 200 characters, no surrounding spaces", name);
    if (f->n_apps >= APPS_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: over %d apps", c->label, APPS_MAX);
    if (grow((void **)&f->apps, f->n_apps, sizeof(*f->apps)) < 0)
        return oom(c);
    a = &f->apps[f->n_apps];
    memset(a, 0, sizeof(*a));
    if ((a->name = dup_s(name)) == NULL)
        return oom(c);
    f->n_apps++;
    if (ps_keytab_put(c->seen, NS_APPS, a->name, strlen(a->name), f->n_apps - 1, NULL) < 0)
        return oom(c);
    *out = a;
    return 0;
}

/*
 * One name pattern of a feed into app a: exact, "*.subtree", or skipped (any other '*').
 * field: "urls"[3], for messages.
 */
static int
add_pattern(struct ctx *c, struct ps_feed_app *a, const char *pat, const char *field)
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
        return add_skip(c, pat,
                        "a wildcard inside a label or in the middle: no entry covers exactly "
                        "these names (a subtree would cover more than the feed lists); skipped");
    if (ps_name_normalize(name, strlen(name), norm, &kind, &e) < 0) {
        return fail(c, "%s \"%s\": %s", field, pat, e.msg);
    }
    if (kind != PS_NAME_DOMAIN)
        return fail(c, "%s \"%s\": an IP address (list it under the ranges, not the names)", field,
                    pat);
    if (!exact && ps_lint_public_suffix(norm)) {
        return fail(c,
                    "%s \"%s\": %s is a public suffix: a subtree entry would cover every site "
                    "registered under it (refused as db check does)",
                    field, pat, norm);
    }
    if (strchr(norm, '.') == NULL)
        return fail(c, "%s \"%s\": a single label, not a host name", field, pat);
    if (ps_keytab_get(c->seen, NS_DOMAIN(a - c->f->apps), norm, strlen(norm), &i)) {
        if (!exact && a->domains[i].exact) { /* the subtree covers the exact name */
            a->domains[i].exact = false;
            free(a->domains[i].note);
            if ((a->domains[i].note = dup_s(pat)) == NULL)
                return oom(c);
        }
        return 0;
    }
    if (a->n_domains >= ENTRIES_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: app \"%s\": over %d names", c->label, a->name,
                          ENTRIES_MAX);
    if (grow((void **)&a->domains, a->n_domains, sizeof(*a->domains)) < 0)
        return oom(c);
    a->domains[a->n_domains].domain = dup_s(norm);
    a->domains[a->n_domains].exact = exact;
    a->domains[a->n_domains].note = exact ? NULL : dup_s(pat);
    if (a->domains[a->n_domains].domain == NULL || (!exact && a->domains[a->n_domains].note == NULL)) {
        free(a->domains[a->n_domains].domain);
        free(a->domains[a->n_domains].note);
        return oom(c);
    }
    if (ps_keytab_put(c->seen, NS_DOMAIN(a - c->f->apps), a->domains[a->n_domains].domain,
                      strlen(norm), a->n_domains, NULL) < 0) {
        free(a->domains[a->n_domains].domain);
        free(a->domains[a->n_domains].note);
        return oom(c);
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
add_dest(struct ctx *c, struct ps_feed_app *a, const char *s, const char *field)
{
    char text[INET6_ADDRSTRLEN + 5];
    struct ps_err e = {0, ""};
    struct ps_cidr n;
    size_t i;

    if (ps_cidr_parse(s, strlen(s), &n, &e) < 0) {
        return fail(c, "%s \"%s\": %s", field, s, e.msg);
    }
    cidr_text(&n, text);
    if (ps_keytab_get(c->seen, NS_DEST(a - c->f->apps), text, strlen(text), &i))
        return 0;
    if (a->n_dests >= ENTRIES_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: app \"%s\": over %d ranges", c->label, a->name,
                          ENTRIES_MAX);
    if (grow((void **)&a->dests, a->n_dests, sizeof(*a->dests)) < 0 ||
        (a->dests[a->n_dests] = dup_s(text)) == NULL)
        return oom(c);
    if (ps_keytab_put(c->seen, NS_DEST(a - c->f->apps), a->dests[a->n_dests], strlen(text),
                      a->n_dests, NULL) < 0) {
        free(a->dests[a->n_dests]);
        return oom(c);
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

static int
add_program(struct ctx *c, struct ps_feed_app *a, const char *os_in, const char *prog,
            const char *field)
{
    char base[PS_PROGRAM_MAX + 1];
    struct ps_err e = {0, ""};
    const char *os = os_name(os_in != NULL ? os_in : "any");
    size_t i;

    if (os == NULL)
        return fail(c, "%s: os \"%s\": use windows, macos, linux or any", field, os_in);
    if (ps_name_program(prog, strlen(prog), base, &e) < 0) {
        return fail(c, "%s \"%s\": %s", field, prog, e.msg);
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
    if (grow((void **)&a->programs, a->n_programs, sizeof(*a->programs)) < 0 ||
        (a->programs[a->n_programs].program = dup_s(prog)) == NULL)
        return oom(c);
    a->programs[a->n_programs].os = os;
    a->n_programs++;
    return 0;
}

/* Append ", text" (or "text") to *note. */
static int
note_add(struct ctx *c, char **note, const char *text)
{
    size_t old = *note != NULL ? strlen(*note) : 0, n = strlen(text);
    char *p;

    if (old + n > 4 * TEXT_MAX)
        return 0; /* long enough: the feed keeps the rest */
    if ((p = realloc(*note, old + n + 3)) == NULL)
        return oom(c);
    if (old > 0) {
        memcpy(p + old, ", ", 2);
        old += 2;
    }
    memcpy(p + old, text, n + 1);
    *note = p;
    return 0;
}

static int
add_names(struct ctx *c, struct ps_feed_app *a, json_t *arr, const char *key)
{
    char field[48];
    json_t *it;
    size_t i;
    int rc;

    json_array_foreach(arr, i, it) {
        snprintf(field, sizeof(field), "\"%s\"[%zu]", key, i);
        if ((rc = add_pattern(c, a, json_string_value(it), field)) < 0)
            return rc;
    }
    return 0;
}

static int
add_dests(struct ctx *c, struct ps_feed_app *a, json_t *arr, const char *key)
{
    char field[48];
    json_t *it;
    size_t i;
    int rc;

    json_array_foreach(arr, i, it) {
        snprintf(field, sizeof(field), "\"%s\"[%zu]", key, i);
        if ((rc = add_dest(c, a, json_string_value(it), field)) < 0)
            return rc;
    }
    return 0;
}

/* ---- m365 ---------------------------------------------------------------------------------- */

/* Whether a tcpPorts/udpPorts value is a list of ports ("80,443", "443", "1024-65535"). */
static bool
ports_ok(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789,- ") == strlen(s);
}

static int
m365_entry(struct ctx *c, json_t *e, size_t idx)
{
    const char *area, *display, *cat, *tcp, *udp, *notes;
    json_t *id = json_object_get(e, "id"), *urls, *ips, *req;
    char name[320], text[160];
    struct ps_feed_app *a;
    json_int_t idv;
    int rc;

    snprintf(c->where, sizeof(c->where), "entry %zu", idx);
    if (!json_is_object(e))
        return fail(c, "must be an object");
    if (!json_is_integer(id))
        return fail(c, "\"id\" must be a whole number");
    idv = json_integer_value(id);
    snprintf(c->where, sizeof(c->where), "entry %zu (id %lld)", idx, (long long)idv);
    if ((rc = get_str(c, e, "serviceArea", true, &area)) < 0 ||
        (rc = get_str(c, e, "serviceAreaDisplayName", false, &display)) < 0 ||
        (rc = get_str(c, e, "category", true, &cat)) < 0 ||
        (rc = get_str(c, e, "tcpPorts", false, &tcp)) < 0 ||
        (rc = get_str(c, e, "udpPorts", false, &udp)) < 0 ||
        (rc = get_str(c, e, "notes", false, &notes)) < 0 ||
        (rc = get_str_array(c, e, "urls", &urls)) < 0 ||
        (rc = get_str_array(c, e, "ips", &ips)) < 0)
        return rc;
    req = json_object_get(e, "required");
    if (!json_is_boolean(req))
        return fail(c, "\"required\" must be true or false");
    if (strcmp(cat, "Optimize") != 0 && strcmp(cat, "Allow") != 0 && strcmp(cat, "Default") != 0)
        return fail(c, "\"category\" \"%s\": Microsoft's categories are Optimize, Allow, Default",
                    cat);
    if ((tcp != NULL && !ports_ok(tcp)) || (udp != NULL && !ports_ok(udp)))
        return fail(c, "\"tcpPorts\"/\"udpPorts\" \"%s\": a list of ports like \"80,443\"",
                    tcp != NULL && !ports_ok(tcp) ? tcp : udp);
    if (strcmp(cat, "Default") == 0) {
        c->f->n_default++;
        return 0;
    }
    if (tcp == NULL) {
        c->f->n_udp_only++;
        char ports[80];
        snprintf(ports, sizeof(ports), "udpPorts %.60s", udp != NULL ? udp : "none");
        return add_skip(c, ports, "no tcpPorts (UDP only: Squid never sees it); not imported");
    }
    if (json_array_size(urls) == 0 && json_array_size(ips) == 0)
        return 0;
    snprintf(name, sizeof(name), "%s: %s (%s)", c->f->name, display != NULL ? display : area, cat);
    if ((a = find_app(c, name)) == NULL) {
        if ((rc = new_app(c, name, &a)) < 0)
            return rc;
        snprintf(text, sizeof(text),
                 "Microsoft 365 endpoints, service area %.40s, category %s (%s)", area, cat,
                 strcmp(cat, "Optimize") == 0
                     ? "Microsoft: route directly, do not inspect TLS"
                     : "Microsoft: do not inspect TLS");
        if ((rc = note_add(c, &a->note, text)) < 0)
            return rc;
    }
    snprintf(text, sizeof(text), "id %lld%s tcp %.40s", (long long)idv,
             json_is_true(req) ? " required" : " optional", tcp);
    if ((rc = note_add(c, &a->note, text)) < 0)
        return rc;
    if ((rc = add_names(c, a, urls, "urls")) < 0 || (rc = add_dests(c, a, ips, "ips")) < 0)
        return rc;
    return 0;
}

static int
parse_m365(struct ctx *c, json_t *root)
{
    json_t *e;
    size_t i;
    int rc;

    if (!json_is_array(root))
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: not an m365 endpoint list: the top level must be an array of "
                          "endpoint sets (is this --format json?)",
                          c->label);
    json_array_foreach(root, i, e) {
        c->f->n_entries++;
        if ((rc = m365_entry(c, e, i + 1)) < 0)
            return rc;
    }
    return 0;
}

/* ---- our generic format -------------------------------------------------------------------- */

static int
json_programs(struct ctx *c, struct ps_feed_app *a, json_t *app)
{
    json_t *v = json_object_get(app, "programs"), *it;
    char field[48];
    size_t i;
    int rc;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return fail(c, "\"programs\" must be an array");
    json_array_foreach(v, i, it) {
        const char *os = NULL, *prog = NULL;
        snprintf(field, sizeof(field), "\"programs\"[%zu]", i);
        if (json_is_string(it))
            prog = json_string_value(it);
        else if (json_is_object(it)) {
            if ((rc = get_str(c, it, "os", false, &os)) < 0 ||
                (rc = get_str(c, it, "program", true, &prog)) < 0)
                return rc;
        } else
            return fail(c, "%s must be a string or {\"os\": ..., \"program\": ...}", field);
        if ((rc = add_program(c, a, os, prog, field)) < 0)
            return rc;
    }
    return 0;
}

static int
json_app(struct ctx *c, json_t *app, size_t idx)
{
    const char *name, *note, *reason;
    json_t *domains, *dests;
    struct ps_feed_app *a;
    int rc;

    snprintf(c->where, sizeof(c->where), "apps[%zu]", idx);
    if (!json_is_object(app))
        return fail(c, "must be an object");
    if ((rc = get_str(c, app, "name", true, &name)) < 0)
        return rc;
    snprintf(c->where, sizeof(c->where), "apps[%zu] \"%.60s\"", idx, name);
    if ((rc = get_str(c, app, "note", false, &note)) < 0 ||
        (rc = get_str(c, app, "reason", false, &reason)) < 0 ||
        (rc = get_str_array(c, app, "domains", &domains)) < 0 ||
        (rc = get_str_array(c, app, "destinations", &dests)) < 0)
        return rc;
    if (find_app(c, name) != NULL)
        return fail(c, "app \"%s\" is listed twice", name);
    if ((rc = new_app(c, name, &a)) < 0)
        return rc;
    if ((note != NULL && (a->note = dup_s(note)) == NULL) ||
        (reason != NULL && reason[0] != '\0' && (a->reason = dup_s(reason)) == NULL))
        return oom(c);
    if ((rc = add_names(c, a, domains, "domains")) < 0 ||
        (rc = add_dests(c, a, dests, "destinations")) < 0 || (rc = json_programs(c, a, app)) < 0)
        return rc;
    return 0;
}

static int
parse_json(struct ctx *c, json_t *root, const struct ps_feed_opts *o)
{
    const char *name, *source, *version;
    json_t *ver, *apps, *app;
    size_t i;
    int rc;

    snprintf(c->where, sizeof(c->where), "top level");
    if (!json_is_object(root))
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: not a pinsplice feed: the top level must be an object with "
                          "\"pinsplice_feed\": 1 (is this --format m365?)",
                          c->label);
    ver = json_object_get(root, "pinsplice_feed");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        return fail(c, "\"pinsplice_feed\" must be 1 (the version of this format)");
    if ((rc = get_str(c, root, "name", o->name == NULL, &name)) < 0 ||
        (rc = get_str(c, root, "source", false, &source)) < 0 ||
        (rc = get_str(c, root, "version", false, &version)) < 0)
        return rc;
    if ((o->name == NULL && (c->f->name = dup_s(name)) == NULL) ||
        (o->source == NULL && source != NULL && (c->f->source = dup_s(source)) == NULL) ||
        (o->version == NULL && version != NULL && (c->f->version = dup_s(version)) == NULL))
        return oom(c);
    apps = json_object_get(root, "apps");
    if (!json_is_array(apps))
        return fail(c, "\"apps\" must be an array");
    json_array_foreach(apps, i, app) {
        c->f->n_entries++;
        if ((rc = json_app(c, app, i)) < 0)
            return rc;
    }
    return 0;
}

/* ---- entry points -------------------------------------------------------------------------- */

static int
set_defaults(struct ctx *c, const struct ps_feed_opts *o)
{
    struct ps_feed *f = c->f;

    if (o->name != NULL && (f->name = dup_s(o->name)) == NULL)
        return oom(c);
    if (o->name == NULL && o->format == PS_FEED_M365 && (f->name = dup_s("Microsoft 365")) == NULL)
        return oom(c);
    if (o->source != NULL && (f->source = dup_s(o->source)) == NULL)
        return oom(c);
    if (o->version != NULL && (f->version = dup_s(o->version)) == NULL)
        return oom(c);
    return 0;
}

static int
check_feed_name(struct ctx *c)
{
    const char *n = c->f->name;
    size_t len = n != NULL ? strlen(n) : 0;

    if (len == 0 || len > 100 || n[0] == ' ' || n[len - 1] == ' ' ||
        strpbrk(n, "\t\r\n") != NULL)
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: feed name \"%s\": 1 to 100 characters, no surrounding spaces",
                          c->label, n != NULL ? n : "");
    return 0;
}

int
ps_feed_parse(const char *text, size_t len, const char *label, const struct ps_feed_opts *o,
              struct ps_feed **out, struct ps_err *err)
{
    struct ctx c = {label != NULL ? label : "feed", NULL, NULL, "", err};
    json_error_t je;
    json_t *root = NULL;
    int rc;

    if (text == NULL || o == NULL || out == NULL ||
        (o->format != PS_FEED_M365 && o->format != PS_FEED_JSON))
        return ps_err_set(err, PS_EINVAL, "feed: bad call");
    if ((c.f = calloc(1, sizeof(*c.f))) == NULL || (c.seen = ps_keytab_new()) == NULL) {
        free(c.f);
        return oom(&c);
    }
    c.f->format = o->format;
    if ((rc = set_defaults(&c, o)) < 0)
        goto done;
    /* Duplicate keys would make one of two values win silently. */
    if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        rc = ps_err_set(err, PS_EINVAL, "%s:%d:%d: malformed JSON: %s", c.label, je.line,
                        je.column, je.text);
        goto done;
    }
    rc = o->format == PS_FEED_M365 ? parse_m365(&c, root) : parse_json(&c, root, o);
    if (rc == 0)
        rc = check_feed_name(&c);
    if (rc == 0 && c.f->source == NULL && (c.f->source = dup_s(c.label)) == NULL)
        rc = oom(&c);
    if (rc == 0 && c.f->version == NULL && (c.f->version = dup_s("unknown")) == NULL)
        rc = oom(&c);
done:
    json_decref(root);
    ps_keytab_free(c.seen); /* before f: its keys point into f */
    if (rc < 0) {
        ps_feed_free(c.f);
        return rc;
    }
    *out = c.f;
    return 0;
}

int
ps_feed_load(const char *path, const struct ps_feed_opts *o, struct ps_feed **out,
             struct ps_err *err)
{
    struct ps_feed_opts opts;
    char version[64], *buf = NULL;
    struct stat st;
    FILE *f;
    size_t n;
    int rc;

    if (path == NULL || o == NULL)
        return ps_err_set(err, PS_EINVAL, "feed: bad call");
    /* before opening: fopen of a FIFO would wait for a writer */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return ps_err_set(err, PS_EIO, "%s: not a regular file", path);
    if ((f = fopen(path, "rb")) == NULL)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                          strerror(errno));
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ps_err_set(err, PS_EIO, "%s: not a regular file", path);
    }
    if (st.st_size > PS_FEED_FILE_MAX) {
        fclose(f);
        return ps_err_set(err, PS_ETOOLONG, "%s: over %d bytes", path, PS_FEED_FILE_MAX);
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        fclose(f);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        free(buf);
        return ps_err_set(err, PS_EIO, "%s: cannot read", path);
    }
    opts = *o;
    /* m365 files carry no version: the file's date stands in for it */
    if (opts.version == NULL && opts.format == PS_FEED_M365 &&
        ps_utc_format((int64_t)st.st_mtime, "file dated %Y-%m-%dT%H:%M:%SZ", version,
                      sizeof(version)))
        opts.version = version;
    rc = ps_feed_parse(buf, n, path, &opts, out, err);
    free(buf);
    return rc;
}

void
ps_feed_free(struct ps_feed *f)
{
    size_t i, j;

    if (f == NULL)
        return;
    for (i = 0; i < f->n_apps; i++) {
        struct ps_feed_app *a = &f->apps[i];
        for (j = 0; j < a->n_domains; j++) {
            free(a->domains[j].domain);
            free(a->domains[j].note);
        }
        for (j = 0; j < a->n_dests; j++)
            free(a->dests[j]);
        for (j = 0; j < a->n_programs; j++)
            free(a->programs[j].program);
        free(a->domains);
        free(a->dests);
        free(a->programs);
        free(a->name);
        free(a->reason);
        free(a->note);
    }
    for (i = 0; i < f->n_skips; i++) {
        free(f->skips[i].where);
        free(f->skips[i].value);
        free(f->skips[i].why);
    }
    free(f->apps);
    free(f->skips);
    free(f->name);
    free(f->source);
    free(f->version);
    free(f);
}
