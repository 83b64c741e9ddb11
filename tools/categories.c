/*
 * `pinsplice categories import DIR`: a squidGuard / UT1 blacklist directory into category_domains.
 * Translates options and results; the map, the walk, the parsing and the writes are in
 * lib/admin/catmap.c, catscan.c, catimport.c and admin.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#define BUSY_MS 10000
#define SHOW_INVALID 5
#define PROGRESS_MS 200

struct out {
    const char *cmd;
    bool tty;        /* stderr is a terminal: draw the progress line */
    bool drawn;      /* a progress line is on screen */
    double last;     /* when it was drawn */
    long long shown; /* invalid lines shown */
    char *unmapped;  /* "a, b, c" */
    size_t unmapped_len;
};

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
clear_line(struct out *o)
{
    if (o->drawn) {
        fputs("\r\033[K", stderr);
        o->drawn = false;
    }
}

static void
on_progress(const struct ps_catimport_progress *p, void *ud)
{
    struct out *o = ud;
    double t = now();

    if (!o->tty || t - o->last < PROGRESS_MS / 1000.0)
        return;
    o->last = t;
    fprintf(stderr, "\r\033[Kimporting %s: %lld names written, %.0f%% read", p->list, p->names,
            p->bytes_total > 0 ? 100.0 * (double)p->bytes_done / (double)p->bytes_total : 100.0);
    o->drawn = true;
}

static void
on_invalid(const char *path, long long line, const char *text, const char *why, void *ud)
{
    struct out *o = ud;

    if (o->shown++ >= SHOW_INVALID)
        return;
    clear_line(o);
    fprintf(stderr, "pinsplice %s: %s:%lld: '%s': %s\n", o->cmd, path, line, text, why);
}

static void
on_list(const struct ps_catimport_list *l, void *ud)
{
    struct out *o = ud;
    size_t len = strlen(l->list);
    char *p;

    clear_line(o);
    if (l->category == NULL) {
        if ((p = realloc(o->unmapped, o->unmapped_len + len + 3)) == NULL)
            return;
        o->unmapped = p;
        if (o->unmapped_len > 0) {
            memcpy(p + o->unmapped_len, ", ", 2);
            o->unmapped_len += 2;
        }
        memcpy(p + o->unmapped_len, l->list, len + 1);
        o->unmapped_len += len;
        return;
    }
    printf("%s -> %s: %lld name%s", l->list, l->category, l->added, l->added == 1 ? "" : "s");
    if (l->removed > 0)
        printf(" (replacing %lld)", l->removed);
    if (l->duplicates > 0)
        printf(", %lld already in the category", l->duplicates);
    if (l->invalid > 0)
        printf(", %lld invalid lines", l->invalid);
    if (l->created)
        printf(" [new category]");
    putchar('\n');
}

static void
usage(FILE *f)
{
    struct ps_catmap *m = NULL;
    const char *list, *cat;
    size_t i;

    fputs("Usage: pinsplice categories import DIR [--map FILE] [--db PATH]\n\n"
          "Import a squidGuard / UT1-style blacklist directory into category_domains:\n"
          "DIR/LIST/domains (or DIR/GROUP/LIST/domains), one host name per line; '#'\n"
          "comments and blank lines are allowed, `urls` files are skipped and counted.\n"
          "Names are normalised as the matcher does (lower case, trailing dot dropped,\n"
          "IDN to punycode). Invalid lines (IP addresses, spaces, single labels, public\n"
          "suffixes such as co.uk) are counted and the first few shown; they never stop\n"
          "the import. Each list replaces what an earlier import of the same list wrote;\n"
          "the whole import is one transaction. A category the map names that does not\n"
          "exist yet is created.\n\n"
          "Options:\n"
          "  --map FILE     map list names to categories with 'LIST = Category' lines\n"
          "                 instead of the built-in map; lists it does not name are skipped\n"
          "  --db PATH      the rules database (default: $PINSPLICE_DB, else\n"
          "                 " PS_LOCALSTATEDIR "/lib/pinsplice/rules.db)\n\n"
          "Built-in map:\n",
          f);
    if (ps_catmap_builtin(&m, NULL) == 0)
        for (i = 0; i < ps_catmap_size(m); i++) {
            ps_catmap_entry(m, i, &list, &cat);
            fprintf(f, "  %-22s = %s\n", list, cat);
        }
    ps_catmap_free(m);
    fputs("\nExit status: 0 imported, 2 error (nothing imported).\n", f);
}

static int
load_map(const char *cmd, const char *file, struct ps_catmap **m)
{
    struct ps_err err = {0, ""};
    int rc = file != NULL ? ps_catmap_load(file, m, &err) : ps_catmap_builtin(m, &err);

    if (rc < 0)
        ps_cli_error(cmd, "%s", err.msg);
    return rc;
}

static void
summary(const struct out *o, const struct ps_catimport_stats *st, const char *path, double secs)
{
    if (o->unmapped != NULL)
        printf("skipped (not in the map): %s\n", o->unmapped);
    if (st->urls_files > 0)
        printf("skipped %zu urls files (pinsplice matches host names only)\n", st->urls_files);
    printf("%s: imported %lld names from %zu lists in %.1f s", path, st->names, st->lists, secs);
    if (st->invalid > 0)
        printf(", %lld invalid lines", st->invalid);
    printf("\n");
    if (o->shown > SHOW_INVALID)
        fprintf(stderr, "pinsplice %s: ... and %lld more invalid lines\n", o->cmd,
                o->shown - SHOW_INVALID);
}

int
ps_cmd_categories_import(int argc, char **argv)
{
    const char *db = NULL, *map_file = NULL, *path;
    const struct ps_cli_opt opts[] = {{"db", &db, NULL}, {"map", &map_file, NULL}};
    char *ops[1], who[256];
    size_t n_ops = 0;
    int rc;
    struct ps_catmap *map = NULL;
    struct ps_catimport_stats st;
    struct ps_err err = {0, ""};
    struct out o;
    struct ps_catimport_cb cb = {on_progress, on_invalid, on_list, &o};
    double t0 = now();

    memset(&o, 0, sizeof(o));
    o.cmd = argv[0];
    o.tty = isatty(STDERR_FILENO) == 1;
    rc = ps_cli_args(argc, argv, opts, 2, ops, 1, &n_ops);
    if (rc == PS_CLI_HELP) {
        usage(stdout);
        return PS_EXIT_OK;
    }
    if (rc != 0)
        return rc;
    rc = PS_EXIT_ERROR;
    if (n_ops != 1) {
        ps_cli_error(argv[0], "which directory? (pinsplice categories import DIR)");
        goto done;
    }
    path = ps_cli_db_path(db);
    if (load_map(argv[0], map_file, &map) < 0)
        goto done;
    ps_admin_os_user(who, sizeof(who));
    if (ps_catimport_db(path, BUSY_MS, who, ops[0], map, &cb, &st, &err) < 0) {
        clear_line(&o);
        ps_cli_error(argv[0], "%s (nothing imported)", err.msg);
        goto done;
    }
    clear_line(&o);
    if (st.lists == 0) {
        ps_cli_error(argv[0], "%s: no list is in the map (%s); nothing imported", ops[0],
                     o.unmapped != NULL ? o.unmapped : "no DIR/LIST/domains files found");
        goto done;
    }
    summary(&o, &st, path, now() - t0);
    rc = PS_EXIT_OK;
done:
    ps_catmap_free(map);
    free(o.unmapped);
    return rc;
}
