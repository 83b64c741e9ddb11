/* catmap.c: the map from a blacklist's list names to categories (lib/admin/catmap.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_int.h"
#include "catmap.h"
#include "err.h"

#define MAP_MAX 10000     /* lines of a map file */
#define MAP_LINE_MAX 1024 /* bytes of one map line, with its newline */
#define LIST_NAME_MAX 255
#define CATEGORY_MAX 100 /* schema: categories.name */

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
    ps_cat_trim(&s, &len);
    if (len == 0)
        return 0;
    if ((eq = memchr(s, '=', len)) == NULL)
        return ps_err_set(err, PS_EINVAL, "%s:%ld: expected 'LIST = Category'", path, n);
    llen = (size_t)(eq - s);
    ps_cat_trim(&s, &llen);
    cat = eq + 1;
    clen = len - (size_t)(cat - s);
    ps_cat_trim(&cat, &clen);
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
