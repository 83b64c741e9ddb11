/* catscan.c: the category import's walk of a blacklist directory (cat_int.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cat_int.h"
#include "err.h"

void
ps_catscan_free(struct ps_catscan *s)
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
scan_push(struct ps_catscan *s, const char *name, const char *path, long long size,
          struct ps_err *err)
{
    if (s->n >= PS_CAT_LISTS_MAX)
        return ps_err_set(err, PS_ETOOLONG, "over %d lists", PS_CAT_LISTS_MAX);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct ps_catscan_list *v = realloc(s->v, cap * sizeof(*v));
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
scan_dir(struct ps_catscan *s, const char *root, const char *name, int depth, struct ps_err *err)
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
    return strcmp(((const struct ps_catscan_list *)a)->name,
                  ((const struct ps_catscan_list *)b)->name);
}

int
ps_catscan_dir(struct ps_catscan *s, const char *dir, struct ps_err *err)
{
    int rc = scan_dir(s, dir, "", 0, err);

    if (rc == 0 && s->n > 1) /* s->v is NULL for an empty directory */
        qsort(s->v, s->n, sizeof(*s->v), by_name);
    return rc;
}
