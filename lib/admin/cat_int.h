/*
 * cat_int.h: what the files of the category import share (catmap.c: the list -> category
 * map, catscan.c: the directory walk, catimport.c: the line parser and the import). Not installed;
 * see catimport.h for the interface.
 */
#ifndef PS_LIB_CAT_INT_H
#define PS_LIB_CAT_INT_H

#include <stdbool.h>
#include <stddef.h>

struct ps_err;

#define PS_CAT_LISTS_MAX 4096 /* lists of one directory */

static inline bool
ps_cat_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim [*s, *s + *len) in place. */
static inline void
ps_cat_trim(const char **s, size_t *len)
{
    while (*len > 0 && ps_cat_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ps_cat_blank((*s)[*len - 1]))
        (*len)--;
}

/* One list of the directory. */
struct ps_catscan_list {
    char *name;
    char *path; /* DIR/NAME/domains */
    long long size;
};

/* The lists of a directory (zero it before ps_catscan_dir). */
struct ps_catscan {
    struct ps_catscan_list *v;
    size_t n, cap;
    size_t urls;     /* urls files seen (skipped) */
    long long bytes; /* of all the domains files */
};

/* Walk dir (see catimport.h, "Layout") into s, lists sorted by name. Returns 0, PS_ENOENT /
 * PS_EIO (dir itself), PS_ETOOLONG (over PS_CAT_LISTS_MAX lists, a path too long), PS_ENOMEM.
 * s must be freed with ps_catscan_free also on error. */
int ps_catscan_dir(struct ps_catscan *s, const char *dir, struct ps_err *err);
void ps_catscan_free(struct ps_catscan *s);

#endif /* PS_LIB_CAT_INT_H */
