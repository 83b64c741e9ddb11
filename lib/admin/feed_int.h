/*
 * feed_int.h: what the files of the feed parser share (feed.c: entry points and helpers,
 * feed_app.c: the apps and their entries, feed_format.c: the m365 and json documents). Not
 * installed; see feed.h for the interface.
 */
#ifndef PS_LIB_FEED_INT_H
#define PS_LIB_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "feed.h"
#include "keytab.h"

#define APPS_MAX 10000     /* apps in one feed */
#define ENTRIES_MAX 100000 /* domains + destinations + programs of one app, each */
#define TEXT_MAX 4000      /* a note, a name, a source, a version */
#define WHERE_MAX 96

/* Namespaces of ctx.seen: an app's names and ranges (by app index), the app names. */
#define NS_DOMAIN(i) ((uint64_t)(i)*2)
#define NS_DEST(i) ((uint64_t)(i)*2 + 1)
#define NS_APPS UINT64_MAX

struct ps_feed_ctx {
    const char *label;
    struct ps_feed *f;
    struct ps_keytab *seen; /* what is already in f, for O(1) de-duplication; keys point into f */
    char where[WHERE_MAX];  /* "entry 3 (id 12)" */
    struct ps_err *err;
};

/* ---- helpers (feed.c) ---------------------------------------------------------------------- */

/* A copy of s (NULL for NULL, or when out of memory). */
char *ps_feed_dup(const char *s);

/* Room for one more element in *arr, which holds n (capacity: the next power of two). */
int ps_feed_grow(void **arr, size_t n, size_t size);

/* PS_ENOMEM with "out of memory". */
int ps_feed_oom(struct ps_feed_ctx *c);

/* PS_EINVAL with "FILE: WHERE: MESSAGE". */
int ps_feed_fail(struct ps_feed_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record a value skipped at c->where, and why. */
int ps_feed_skip(struct ps_feed_ctx *c, const char *value, const char *why);

/* An optional string member: 0 and *out (NULL when absent or null), or an error naming it. */
int ps_feed_get_str(struct ps_feed_ctx *c, json_t *obj, const char *key, bool required,
                    const char **out);

/* An optional array of strings (absent or null: 0 items). */
int ps_feed_get_str_array(struct ps_feed_ctx *c, json_t *obj, const char *key, json_t **out);

/* ---- apps and their entries (feed_app.c) --------------------------------------------------- */

/* The app of the feed named name, or NULL. */
struct ps_feed_app *ps_feed_app_find(struct ps_feed_ctx *c, const char *name);

/* A new app named name (checked) in *out. */
int ps_feed_app_new(struct ps_feed_ctx *c, const char *name, struct ps_feed_app **out);

/* Add the program prog of os os_in (from field) to a. */
int ps_feed_app_program(struct ps_feed_ctx *c, struct ps_feed_app *a, const char *os_in,
                        const char *prog, const char *field);

/* Append ", text" (or "text") to *note. */
int ps_feed_app_note(struct ps_feed_ctx *c, char **note, const char *text);

/* Add the names (domain patterns) of the string array arr (member key) to a. */
int ps_feed_app_names(struct ps_feed_ctx *c, struct ps_feed_app *a, json_t *arr, const char *key);

/* Add the destinations (addresses, networks) of the string array arr (member key) to a. */
int ps_feed_app_dests(struct ps_feed_ctx *c, struct ps_feed_app *a, json_t *arr, const char *key);

/* ---- the documents (feed_format.c) --------------------------------------------------------- */

/* Microsoft's endpoints web service list (format m365). */
int ps_feed_parse_m365(struct ps_feed_ctx *c, json_t *root);

/* Our generic format (format json). */
int ps_feed_parse_json(struct ps_feed_ctx *c, json_t *root, const struct ps_feed_opts *o);

#endif /* PS_LIB_FEED_INT_H */
