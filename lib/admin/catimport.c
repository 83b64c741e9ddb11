/*
 * Category list import (lib/admin/catimport.h): the line parser and the import of each list of
 * the directory (catscan.c walks it, catmap.c maps its lists to categories). The writes go
 * through lib/admin/admin.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "admin.h"
#include "catimport.h"
#include "cat_int.h"
#include "err.h"
#include "name.h"

#define LINE_MAX_BYTES 4096 /* a domains line longer than this is invalid (the name max is 253) */
#define SHOW_MAX 200        /* bytes of an invalid line passed to the callback */
#define PROGRESS_EVERY 65536
#define READ_BUF (1 << 20)

/* ---- one line ---------------------------------------------------------------------------------
 */

int
ps_catimport_line(const char *line, size_t len, char out[PS_NAME_MAX + 1], struct ps_err *err)
{
    const char *s = line, *hash = memchr(line, '#', len);
    const psl_ctx_t *psl = psl_builtin();
    char name[PS_NAME_MAX + 1];
    enum ps_name_kind kind;
    size_t i;
    int rc;

    if (hash != NULL)
        len = (size_t)(hash - line);
    ps_cat_trim(&s, &len);
    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (s[i] == ' ' || s[i] == '\t')
            return ps_err_set(err, PS_EINVAL, "a space inside the line (one name per line)");
    if (s[0] == '.' && len > 1 && s[1] != '.') {
        s++;
        len--;
    }
    if ((rc = ps_name_normalize(s, len, name, &kind, err)) < 0)
        return rc;
    if (kind != PS_NAME_DOMAIN)
        return ps_err_set(err, PS_EINVAL, "an IP address, not a name");
    if (strchr(name, '.') == NULL)
        return ps_err_set(err, PS_EINVAL,
                          "a single label: it would cover a whole top-level domain");
    if (psl != NULL && psl_is_public_suffix2(psl, name, PSL_TYPE_ICANN))
        return ps_err_set(err, PS_EINVAL, "a public suffix: it would cover every site under it");
    memcpy(out, name, strlen(name) + 1);
    return 1;
}

/* ---- the import -------------------------------------------------------------------------------
 */

/* The valid names of one list, collected before they are written: sorted, they go into the
 * B-trees in key order (appends instead of random inserts; bench/README.md, "Categories
 * import"), and duplicates inside the list are dropped on the way. */
struct names {
    char *buf; /* NUL-terminated names, one after the other */
    size_t len, cap;
    size_t *off; /* where each name starts in buf */
    size_t n, ncap;
};

struct run {
    struct ps_admin *a;
    const struct ps_catimport_cb *cb;
    struct ps_catimport_stats *st;
    struct ps_catimport_progress pr;
    struct ps_catimport_list l;
    struct names names;
    long long lines; /* all lists, for the progress callback's rhythm */
};

static void
names_free(struct names *v)
{
    free(v->buf);
    free(v->off);
    memset(v, 0, sizeof(*v));
}

static int
names_push(struct names *v, const char *name)
{
    size_t len = strlen(name) + 1;

    if (v->len + len > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1 << 20;
        char *b;
        while (cap < v->len + len)
            cap *= 2;
        if ((b = realloc(v->buf, cap)) == NULL)
            return PS_ENOMEM;
        v->buf = b;
        v->cap = cap;
    }
    if (v->n == v->ncap) {
        size_t cap = v->ncap ? v->ncap * 2 : 65536;
        size_t *o = realloc(v->off, cap * sizeof(*o));
        if (o == NULL)
            return PS_ENOMEM;
        v->off = o;
        v->ncap = cap;
    }
    memcpy(v->buf + v->len, name, len);
    v->off[v->n++] = v->len;
    v->len += len;
    return 0;
}

static const char *sort_base; /* qsort has no context argument; the import is not reentrant */

static int
by_bytes(const void *a, const void *b)
{
    return strcmp(sort_base + *(const size_t *)a, sort_base + *(const size_t *)b);
}

static void
progress(struct run *r)
{
    if (r->cb->progress != NULL && ++r->lines % PROGRESS_EVERY == 0)
        r->cb->progress(&r->pr, r->cb->ud);
}

static void
bad(struct run *r, long long n, const char *text, size_t len, const char *why)
{
    char show[SHOW_MAX + 1];

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len > SHOW_MAX)
        len = SHOW_MAX;
    memcpy(show, text, len);
    show[len] = '\0';
    r->l.invalid++;
    if (r->cb->invalid != NULL)
        r->cb->invalid(r->l.path, n, show, why, r->cb->ud);
}

static int
read_list(struct run *r, FILE *f, struct ps_err *err)
{
    char line[LINE_MAX_BYTES + 2], name[PS_NAME_MAX + 1];
    long long n = 0;
    bool draining = false;

    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        struct ps_err e = {0, ""};
        int rc;
        r->pr.bytes_done += (long long)len;
        if (draining) {
            draining = !whole;
            continue;
        }
        n++;
        progress(r);
        if (!whole && len == sizeof(line) - 1) {
            bad(r, n, line, len, "line over 4096 bytes");
            draining = true;
            continue;
        }
        rc = ps_catimport_line(line, len, name, &e);
        if (rc < 0)
            bad(r, n, line, len, e.msg);
        else if (rc == 1 && names_push(&r->names, name) < 0)
            return ps_err_set(err, PS_ENOMEM, "%s: out of memory at line %lld", r->l.path, n);
    }
    if (ferror(f))
        return ps_err_set(err, PS_EIO, "%s: read error", r->l.path);
    return 0;
}

/* Write the collected names in key order. A name the schema refuses is reported against the
 * list (its line is no longer known: 0). */
static int
write_list(struct run *r, struct ps_err *err)
{
    struct names *v = &r->names;
    const char *prev = NULL;
    size_t i;

    sort_base = v->buf;
    if (v->n > 1) /* v->off is NULL with no name: qsort(NULL, 0) is undefined */
        qsort(v->off, v->n, sizeof(*v->off), by_bytes);
    for (i = 0; i < v->n; i++) {
        const char *name = v->buf + v->off[i];
        struct ps_err e = {0, ""};
        int rc;
        progress(r);
        r->pr.names++;
        if (prev != NULL && strcmp(prev, name) == 0) {
            r->l.duplicates++;
            continue;
        }
        prev = name;
        rc = ps_admin_list_add(r->a, name, &e);
        if (rc == PS_EINVAL)
            bad(r, 0, name, strlen(name), e.msg);
        else if (rc < 0)
            return ps_err_set(err, rc, "%s: %s", r->l.path, e.msg);
        else if (rc == 1)
            r->l.duplicates++;
        else
            r->l.added++;
    }
    return 0;
}

static int
import_list(struct run *r, const struct ps_catscan_list *li, const char *category,
            struct ps_err *err)
{
    char *buf = NULL;
    FILE *f = NULL;
    int rc;

    memset(&r->l, 0, sizeof(r->l));
    r->l.list = li->name;
    r->l.category = category;
    r->l.path = li->path;
    r->pr.list = li->name;
    r->names.len = r->names.n = 0;
    if ((f = fopen(li->path, "r")) == NULL)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", li->path,
                          strerror(errno));
    if ((buf = malloc(READ_BUF)) != NULL) /* fewer read calls; not needed to work */
        setvbuf(f, buf, _IOFBF, READ_BUF);
    rc = read_list(r, f, err);
    fclose(f);
    free(buf);
    if (rc == 0 &&
        (rc = ps_admin_list_begin(r->a, li->name, category, &r->l.removed, &r->l.created, err)) ==
            0 &&
        (rc = write_list(r, err)) == 0)
        rc = ps_admin_list_end(r->a, r->l.added, err);
    if (rc < 0)
        return rc;
    r->st->lists++;
    r->st->names += r->l.added;
    r->st->duplicates += r->l.duplicates;
    r->st->invalid += r->l.invalid;
    r->st->removed += r->l.removed;
    if (r->cb->list != NULL)
        r->cb->list(&r->l, r->cb->ud);
    if (r->cb->progress != NULL)
        r->cb->progress(&r->pr, r->cb->ud);
    return 0;
}

int
ps_catimport_run(struct ps_admin *a, const char *dir, const struct ps_catmap *map,
                 const struct ps_catimport_cb *cb, struct ps_catimport_stats *st,
                 struct ps_err *err)
{
    struct ps_catscan s;
    struct run r;
    size_t i;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&r, 0, sizeof(r));
    memset(st, 0, sizeof(*st));
    r.a = a;
    r.cb = cb;
    r.st = st;
    if ((rc = ps_catscan_dir(&s, dir, err)) < 0)
        goto done;
    st->urls_files = s.urls;
    for (i = 0; i < s.n; i++)
        if (ps_catmap_lookup(map, s.v[i].name) != NULL)
            r.pr.bytes_total += s.v[i].size;
    for (i = 0; i < s.n && rc == 0; i++) {
        const char *cat = ps_catmap_lookup(map, s.v[i].name);
        if (cat != NULL) {
            rc = import_list(&r, &s.v[i], cat, err);
            continue;
        }
        st->unmapped++;
        if (cb->list != NULL) {
            struct ps_catimport_list l = {s.v[i].name, NULL, s.v[i].path, 0, 0, 0, 0, false};
            cb->list(&l, cb->ud);
        }
    }
done:
    names_free(&r.names);
    ps_catscan_free(&s);
    return rc;
}

int
ps_catimport_db(const char *path, int busy_ms, const char *who, const char *dir,
                const struct ps_catmap *map, const struct ps_catimport_cb *cb,
                struct ps_catimport_stats *st, struct ps_err *err)
{
    struct ps_admin *a = NULL;
    int rc;

    memset(st, 0, sizeof(*st));
    if ((rc = ps_admin_open(path, busy_ms, who, &a, err)) < 0)
        return rc;
    if ((rc = ps_catimport_run(a, dir, map, cb, st, err)) < 0 || st->lists == 0) {
        ps_admin_free(a);
        return rc;
    }
    return ps_admin_commit(a, err);
}
