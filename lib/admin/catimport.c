/*
 * Category list import (lib/admin/catimport.h): the map, the line parser, the directory walk. The
 * writes go through lib/admin/admin.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpsl.h>

#include "admin.h"
#include "catimport.h"
#include "err.h"
#include "name.h"

#define MAP_MAX 10000     /* lines of a map file */
#define MAP_LINE_MAX 1024 /* bytes of one map line, with its newline */
#define LIST_NAME_MAX 255
#define CATEGORY_MAX 100 /* schema: categories.name */
#define LISTS_MAX 4096
#define LINE_MAX_BYTES 4096 /* a domains line longer than this is invalid (the name max is 253) */
#define SHOW_MAX 200        /* bytes of an invalid line passed to the callback */
#define PROGRESS_EVERY 65536
#define READ_BUF (1 << 20)

struct pair {
    char *list, *category;
};

struct ps_catmap {
    struct pair *v;
    size_t n, cap;
};

static const char *const builtin[][2] = {
    {"bank", "Financial Services"},
    {"financial", "Financial Services"},
    {"finance", "Financial Services"},
    {"finance/banking", "Financial Services"},
    {"finance/insurance", "Financial Services"},
    {"finance/moneylending", "Financial Services"},
    {"government", "Government"},
    {"health", "Health and Medicine"},
    {"medical", "Health and Medicine"},
    {"hospitals", "Health and Medicine"},
    {"legal", "Legal"},
};

static int
map_add(struct ps_catmap *m, const char *list, size_t llen, const char *cat, size_t clen)
{
    struct pair *p;

    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        if ((p = realloc(m->v, cap * sizeof(*p))) == NULL)
            return PS_ENOMEM;
        m->v = p;
        m->cap = cap;
    }
    p = &m->v[m->n];
    p->list = strndup(list, llen);
    p->category = strndup(cat, clen);
    if (p->list == NULL || p->category == NULL) {
        free(p->list);
        free(p->category);
        return PS_ENOMEM;
    }
    m->n++;
    return 0;
}

void
ps_catmap_free(struct ps_catmap *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++) {
        free(m->v[i].list);
        free(m->v[i].category);
    }
    free(m->v);
    free(m);
}

int
ps_catmap_builtin(struct ps_catmap **out, struct ps_err *err)
{
    struct ps_catmap *m = calloc(1, sizeof(*m));
    size_t i;

    for (i = 0; m != NULL && i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        if (map_add(m, builtin[i][0], strlen(builtin[i][0]), builtin[i][1], strlen(builtin[i][1])) <
            0) {
            ps_catmap_free(m);
            m = NULL;
        }
    }
    if (m == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    *out = m;
    return 0;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim [*s, *s + *len) in place. */
static void
trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

static bool
list_name_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > LIST_NAME_MAX || s[0] == '/' || s[len - 1] == '/')
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

/* One line of a map file (no newline). */
static int
map_line(struct ps_catmap *m, const char *path, long n, const char *s, size_t len,
         struct ps_err *err)
{
    const char *eq, *hash = memchr(s, '#', len), *cat;
    size_t llen, clen;

    if (hash != NULL)
        len = (size_t)(hash - s);
    trim(&s, &len);
    if (len == 0)
        return 0;
    if ((eq = memchr(s, '=', len)) == NULL)
        return ps_err_set(err, PS_EINVAL, "%s:%ld: expected 'LIST = Category'", path, n);
    llen = (size_t)(eq - s);
    trim(&s, &llen);
    cat = eq + 1;
    clen = len - (size_t)(cat - s);
    trim(&cat, &clen);
    if (!list_name_ok(s, llen))
        return ps_err_set(err, PS_EINVAL, "%s:%ld: bad list name '%.*s' (letters, digits, . _ - /)",
                          path, n, (int)(llen < 80 ? llen : 80), s);
    if (clen == 0 || clen > CATEGORY_MAX)
        return ps_err_set(err, PS_EINVAL, "%s:%ld: category empty or over %d bytes", path, n,
                          CATEGORY_MAX);
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->v[i].list) == llen && memcmp(m->v[i].list, s, llen) == 0)
            return ps_err_set(err, PS_EINVAL, "%s:%ld: list '%.*s' mapped twice", path, n,
                              (int)llen, s);
    if (m->n >= MAP_MAX)
        return ps_err_set(err, PS_ETOOLONG, "%s: over %d entries", path, MAP_MAX);
    return map_add(m, s, llen, cat, clen) < 0 ? ps_err_set(err, PS_ENOMEM, "out of memory") : 0;
}

int
ps_catmap_load(const char *path, struct ps_catmap **out, struct ps_err *err)
{
    struct ps_catmap *m = NULL;
    char line[MAP_LINE_MAX];
    FILE *f = NULL;
    long n = 0;
    int rc = 0;

    if ((f = fopen(path, "r")) == NULL)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                          strerror(errno));
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "out of memory");
        goto done;
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        n++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f))
            rc = ps_err_set(err, PS_ETOOLONG, "%s:%ld: line over %d bytes", path, n,
                            MAP_LINE_MAX - 1);
        else if (n > MAP_MAX)
            rc = ps_err_set(err, PS_ETOOLONG, "%s: over %d lines", path, MAP_MAX);
        else
            rc = map_line(m, path, n, line, len, err);
    }
    if (rc == 0 && ferror(f))
        rc = ps_err_set(err, PS_EIO, "%s: read error", path);
done:
    fclose(f);
    if (rc < 0) {
        ps_catmap_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

const char *
ps_catmap_lookup(const struct ps_catmap *m, const char *list)
{
    size_t i;

    for (i = 0; m != NULL && i < m->n; i++)
        if (strcmp(m->v[i].list, list) == 0)
            return m->v[i].category;
    return NULL;
}

size_t
ps_catmap_size(const struct ps_catmap *m)
{
    return m != NULL ? m->n : 0;
}

void
ps_catmap_entry(const struct ps_catmap *m, size_t i, const char **list, const char **category)
{
    *list = i < m->n ? m->v[i].list : NULL;
    *category = i < m->n ? m->v[i].category : NULL;
}

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
    trim(&s, &len);
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

/* ---- the directory ----------------------------------------------------------------------------
 */

struct list {
    char *name;
    char *path; /* DIR/NAME/domains */
    long long size;
};

struct scan {
    struct list *v;
    size_t n, cap;
    size_t urls;
    long long bytes;
};

static void
scan_free(struct scan *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].path);
    }
    free(s->v);
}

static bool
is_file(const char *path, long long *size)
{
    struct stat st;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (size != NULL)
        *size = (long long)st.st_size;
    return true;
}

static int
scan_push(struct scan *s, const char *name, const char *path, long long size, struct ps_err *err)
{
    if (s->n >= LISTS_MAX)
        return ps_err_set(err, PS_ETOOLONG, "over %d lists", LISTS_MAX);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct list *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return ps_err_set(err, PS_ENOMEM, "out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].name = strdup(name);
    s->v[s->n].path = strdup(path);
    s->v[s->n].size = size;
    if (s->v[s->n].name == NULL || s->v[s->n].path == NULL) {
        free(s->v[s->n].name);
        free(s->v[s->n].path);
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    }
    s->n++;
    s->bytes += size;
    return 0;
}

/* dir/name: a list (has domains and/or urls) or, at depth 0, a group of lists. */
static int
scan_dir(struct scan *s, const char *root, const char *name, int depth, struct ps_err *err)
{
    char path[PATH_MAX], file[PATH_MAX], sub[PATH_MAX];
    DIR *d = NULL;
    struct dirent *e;
    long long size = 0;
    bool has_domains, has_urls;
    int rc = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s%s%s", root, name[0] ? "/" : "", name) >=
        sizeof(path))
        return ps_err_set(err, PS_ETOOLONG, "%s/%s: path too long", root, name);
    has_urls = name[0] != '\0' &&
               (size_t)snprintf(file, sizeof(file), "%s/urls", path) < sizeof(file) &&
               is_file(file, NULL);
    if (has_urls)
        s->urls++;
    if ((size_t)snprintf(file, sizeof(file), "%s/domains", path) >= sizeof(file))
        return ps_err_set(err, PS_ETOOLONG, "%s: path too long", path);
    has_domains = name[0] != '\0' && is_file(file, &size);
    if (has_domains)
        return scan_push(s, name, file, size, err);
    if (has_urls || depth > 1)
        return 0;
    if ((d = opendir(path)) == NULL)
        return depth == 0 ? ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                                       strerror(errno))
                          : 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", name, name[0] ? "/" : "", e->d_name) >=
                sizeof(sub) ||
            (size_t)snprintf(file, sizeof(file), "%s/%s", path, e->d_name) >= sizeof(file))
            continue;
        if (stat(file, &st) == 0 && S_ISDIR(st.st_mode))
            rc = scan_dir(s, root, sub, depth + 1, err);
    }
    closedir(d);
    return rc;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct list *)a)->name, ((const struct list *)b)->name);
}

/* ---- the import -------------------------------------------------------------------------------
 */

/* The valid names of one list, collected before they are written: sorted, they go into the
 * B-trees in key order (appends instead of random inserts: about 3x faster for 1M names), and
 * duplicates inside the list are dropped on the way. */
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
import_list(struct run *r, const struct list *li, const char *category, struct ps_err *err)
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
    struct scan s;
    struct run r;
    size_t i;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&r, 0, sizeof(r));
    memset(st, 0, sizeof(*st));
    r.a = a;
    r.cb = cb;
    r.st = st;
    if ((rc = scan_dir(&s, dir, "", 0, err)) < 0)
        goto done;
    if (s.n > 1) /* s.v is NULL for an empty directory */
        qsort(s.v, s.n, sizeof(*s.v), by_name);
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
    scan_free(&s);
    return rc;
}
