/*
 * Vendor feeds: JSON endpoint lists mapped to catalogue apps (see lib/admin/feed.h). This file
 * holds the entry points (parse, load, free) and the helpers; jansson parses, feed_format.c walks
 * the documents with a type check at every step, so a wrong type is an error that names the entry
 * and the field rather than something skipped, and feed_app.c builds the apps and their entries.
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
#include "feed_int.h"
#include "keytab.h"
#include "lint.h"
#include "name.h"
#include "text.h"

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

char *
ps_feed_dup(const char *s)
{
    return s != NULL ? dup_n(s, strlen(s)) : NULL;
}

int
ps_feed_grow(void **arr, size_t n, size_t size)
{
    void *p;

    if ((n & (n - 1)) != 0 && n != 0)
        return 0; /* capacity is the next power of two: room left */
    if ((p = realloc(*arr, (n == 0 ? 1 : 2 * n) * size)) == NULL)
        return PS_ENOMEM;
    *arr = p;
    return 0;
}

int
ps_feed_oom(struct ps_feed_ctx *c)
{
    return ps_err_set(c->err, PS_ENOMEM, "out of memory");
}

/* "FILE: WHERE: MESSAGE" */
int
ps_feed_fail(struct ps_feed_ctx *c, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ps_err_set(c->err, PS_EINVAL, "%s: %s: %s", c->label, c->where, msg);
}

int
ps_feed_skip(struct ps_feed_ctx *c, const char *value, const char *why)
{
    struct ps_feed *f = c->f;
    struct ps_feed_skip *s;

    if (ps_feed_grow((void **)&f->skips, f->n_skips, sizeof(*f->skips)) < 0)
        return ps_feed_oom(c);
    s = &f->skips[f->n_skips];
    s->where = ps_feed_dup(c->where);
    s->value = ps_feed_dup(value);
    s->why = ps_feed_dup(why);
    if (s->where == NULL || s->value == NULL || s->why == NULL) {
        free(s->where);
        free(s->value);
        free(s->why);
        return ps_feed_oom(c);
    }
    f->n_skips++;
    return 0;
}

/* An optional string member: 0 and *out (NULL when absent or null), or an error naming it. */
int
ps_feed_get_str(struct ps_feed_ctx *c, json_t *obj, const char *key, bool required,
                const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return ps_feed_fail(c, "\"%s\" is missing (a string is required)", key);
        return 0;
    }
    if (!json_is_string(v))
        return ps_feed_fail(c, "\"%s\" must be a string", key);
    if (json_string_length(v) == 0 && required)
        return ps_feed_fail(c, "\"%s\" is empty", key);
    if (json_string_length(v) > TEXT_MAX)
        return ps_err_set(c->err, PS_ETOOLONG, "%s: %s: \"%s\" is over %d bytes", c->label,
                          c->where, key, TEXT_MAX);
    *out = json_string_value(v);
    return 0;
}

/* An optional array of strings (absent or null: 0 items). */
int
ps_feed_get_str_array(struct ps_feed_ctx *c, json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key), *it;
    size_t i;

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return ps_feed_fail(c, "\"%s\" must be an array of strings", key);
    json_array_foreach(v, i, it)
    {
        char idx[24];
        if (json_is_string(it))
            continue;
        snprintf(idx, sizeof(idx), "%zu", i);
        return ps_feed_fail(c, "\"%s\"[%s] must be a string", key, idx);
    }
    *out = v;
    return 0;
}

/* ---- entry points -------------------------------------------------------------------------- */

static int
set_defaults(struct ps_feed_ctx *c, const struct ps_feed_opts *o)
{
    struct ps_feed *f = c->f;

    if (o->name != NULL && (f->name = ps_feed_dup(o->name)) == NULL)
        return ps_feed_oom(c);
    if (o->name == NULL && o->format == PS_FEED_M365 &&
        (f->name = ps_feed_dup("Microsoft 365")) == NULL)
        return ps_feed_oom(c);
    if (o->source != NULL && (f->source = ps_feed_dup(o->source)) == NULL)
        return ps_feed_oom(c);
    if (o->version != NULL && (f->version = ps_feed_dup(o->version)) == NULL)
        return ps_feed_oom(c);
    return 0;
}

static int
check_feed_name(struct ps_feed_ctx *c)
{
    const char *n = c->f->name;
    size_t len = n != NULL ? strlen(n) : 0;

    if (len == 0 || len > 100 || n[0] == ' ' || n[len - 1] == ' ' || strpbrk(n, "\t\r\n") != NULL)
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: feed name \"%s\": 1 to 100 characters, no surrounding spaces",
                          c->label, n != NULL ? n : "");
    return 0;
}

int
ps_feed_parse(const char *text, size_t len, const char *label, const struct ps_feed_opts *o,
              struct ps_feed **out, struct ps_err *err)
{
    struct ps_feed_ctx c = {label != NULL ? label : "feed", NULL, NULL, "", err};
    json_error_t je;
    json_t *root = NULL;
    int rc;

    if (text == NULL || o == NULL || out == NULL ||
        (o->format != PS_FEED_M365 && o->format != PS_FEED_JSON))
        return ps_err_set(err, PS_EINVAL, "feed: bad call");
    if ((c.f = calloc(1, sizeof(*c.f))) == NULL || (c.seen = ps_keytab_new()) == NULL) {
        free(c.f);
        return ps_feed_oom(&c);
    }
    c.f->format = o->format;
    if ((rc = set_defaults(&c, o)) < 0)
        goto done;
    /* Duplicate keys would make one of two values win silently. */
    if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        rc = ps_err_set(err, PS_EINVAL, "%s:%d:%d: malformed JSON: %s", c.label, je.line, je.column,
                        je.text);
        goto done;
    }
    rc = o->format == PS_FEED_M365 ? ps_feed_parse_m365(&c, root) : ps_feed_parse_json(&c, root, o);
    if (rc == 0)
        rc = check_feed_name(&c);
    if (rc == 0 && c.f->source == NULL && (c.f->source = ps_feed_dup(c.label)) == NULL)
        rc = ps_feed_oom(&c);
    if (rc == 0 && c.f->version == NULL && (c.f->version = ps_feed_dup("unknown")) == NULL)
        rc = ps_feed_oom(&c);
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
