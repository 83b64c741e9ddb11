/*
 * `pinsplice feed import FILE --format m365|json`: a vendor's endpoint list into catalogue apps.
 * Parsing and mapping are lib/admin/feed*.c's, the merge lib/admin/admin_feed.c's; this file
 * prints the diff and the summary and maps the result to an exit status.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#define BUSY_MS 10000

static const char *
kind_word(const char *kind)
{
    return strcmp(kind, "app_domain") == 0        ? "domain"
           : strcmp(kind, "app_program") == 0     ? "program"
           : strcmp(kind, "app_destination") == 0 ? "destination"
                                                  : kind;
}

static const char *
nul(const char *s)
{
    return s != NULL ? s : "NULL";
}

static void
on_change(const struct ps_admin_change *c, void *ud)
{
    bool whole = strcmp(c->item, "exists") == 0, keep = strcmp(c->op, "keep") == 0;
    bool field = !whole && strcmp(c->kind, "app") == 0;

    (void)ud;
    if (strcmp(c->op, "stale") == 0) {
        printf("note     rule '");
        ps_cli_text_str(stdout, c->owner);
        printf("' was made from this feed's app by enable_app and keeps its old entries "
               "(DELETE it and enable_app again to follow the feed)\n");
        return;
    }
    printf("%-8s app '", c->op);
    ps_cli_text_str(stdout, c->owner);
    putchar('\'');
    if (strcmp(c->op, "conflict") == 0) {
        printf(": another app (vendor, local or another feed) has this name; the feed's is "
               "not written\n");
        return;
    }
    if (whole) {
        if (keep && !c->has_local)
            printf(": you deleted it; it stays deleted\n");
        else if (keep)
            printf(": the feed no longer lists it; kept because you changed it\n");
        else
            putchar('\n');
        return;
    }
    if (field && strcmp(c->item, "note") == 0) {
        /* the note ends with the provenance, so it changes at every import: not worth a page */
        printf(keep ? ": note: yours is kept (the feed's changed)\n" : ": note updated\n");
        return;
    }
    if (field)
        printf(": %s", c->item);
    else {
        printf(": %s ", kind_word(c->kind));
        ps_cli_text_str(stdout, c->item);
    }
    if (keep && !c->has_local)
        printf(": you removed it; it stays removed");
    else if (keep && !c->has_vendor)
        printf(": not in the feed; yours is kept");
    else if (keep) {
        printf(" (yours, kept: ");
        ps_cli_text_str(stdout, nul(c->local));
        printf("; feed: ");
        ps_cli_text_str(stdout, nul(c->vendor));
        putchar(')');
    } else if (strcmp(c->op, "update") == 0) {
        printf(" = ");
        ps_cli_text_str(stdout, nul(c->vendor));
        printf(" (was ");
        ps_cli_text_str(stdout, nul(c->local));
        putchar(')');
    } else if (strcmp(c->kind, "app_domain") == 0 && c->vendor != NULL &&
               strstr(c->vendor, "\"exact\":1") != NULL)
        printf(" (exact)");
    putchar('\n');
}

static void
print_skips(const char *cmd, const char *file, const struct ps_feed *f)
{
    size_t i;

    for (i = 0; i < f->n_skips; i++) {
        fprintf(stderr, "pinsplice %s: %s: %s: skipped '", cmd, file, f->skips[i].where);
        ps_cli_text_str(stderr, f->skips[i].value);
        fprintf(stderr, "': %s\n", f->skips[i].why);
    }
}

static void
usage(FILE *out)
{
    fputs("Usage: pinsplice feed import FILE --format m365|json [--name NAME]\n"
          "           [--source URL] [--version V] [--dry-run] [--db PATH]\n\n"
          "Turn a vendor's endpoint list into catalogue apps (apps, app_domains,\n"
          "app_destinations, app_programs), which `INSERT INTO enable_app` makes rules of.\n"
          "  m365  Microsoft's endpoints web service JSON: one app per service area and\n"
          "        category for Optimize and Allow (\"NAME: Exchange Online (Optimize)\");\n"
          "        Default sets are counted and not imported (they may be inspected).\n"
          "  json  pinsplice's own format: {\"pinsplice_feed\": 1, \"name\", \"source\",\n"
          "        \"version\", \"apps\": [{\"name\", \"note\", \"reason\", \"domains\",\n"
          "        \"destinations\", \"programs\"}]} (see pinsplice(1), FEED FORMATS).\n"
          "\"host\" is an exact entry, \"*.zone\" a subtree entry; any other wildcard is\n"
          "skipped and reported, never widened. A subtree on a public suffix, malformed\n"
          "JSON or a wrong type is an error naming the file and the entry: nothing is\n"
          "imported. A re-import replaces what the last import of the same feed wrote, in\n"
          "one transaction, and keeps your edits to those apps (as db update does).\n\n"
          "Options:\n"
          "  --format F     m365 or json (required)\n"
          "  --name NAME    the feed's name (m365 default \"Microsoft 365\"; json: the\n"
          "                 file's \"name\"); apps.feed and feeds.name\n"
          "  --source URL   where the file came from, for the provenance note\n"
          "                 (default: the file's \"source\", else FILE)\n"
          "  --version V    the feed's version (default: the file's \"version\"; m365:\n"
          "                 the file's modification date)\n"
          "  --dry-run      print what would change, change nothing\n"
          "  --db PATH      the rules database (default: $PINSPLICE_DB, else\n"
          "                 " PS_LOCALSTATEDIR "/lib/pinsplice/rules.db)\n\n"
          "Exit status: 0 imported (or would be), 2 error (nothing imported).\n",
          out);
}

static void
summary(const char *path, const struct ps_feed *f, const struct ps_admin_feed_stats *st,
        bool dry_run)
{
    printf("%s: %s feed '", path, dry_run ? "would import" : "imported");
    ps_cli_text_str(stdout, f->name);
    printf("' (%s, version ", ps_feed_format_str(f->format));
    ps_cli_text_str(stdout, f->version);
    printf("): %zu apps from %zu entries; %lld added, %lld removed, %lld updated, %lld local "
           "values kept, %lld conflicts%s\n",
           f->n_apps, f->n_entries, st->added, st->removed, st->updated, st->kept,
           st->conflicts, st->first ? " (first import)" : "");
    if (f->format == PS_FEED_M365)
        printf("%s: not imported: %zu Default sets (Microsoft: may be inspected), %zu UDP-only "
               "sets\n",
               path, f->n_default, f->n_udp_only);
    if (f->n_skips > 0)
        printf("%s: %zu entries skipped (see above)\n", path, f->n_skips);
    if (st->dests_unstored > 0)
        printf("%s: %zu destination ranges not stored: this database has no app_destinations\n",
               path, st->dests_unstored);
}

int
ps_cmd_feed_import(int argc, char **argv)
{
    const char *db = NULL, *format = NULL, *name = NULL, *source = NULL, *version = NULL, *path;
    bool dry_run = false;
    const struct ps_cli_opt opts[] = {{"db", &db, NULL},         {"format", &format, NULL},
                                      {"name", &name, NULL},     {"source", &source, NULL},
                                      {"version", &version, NULL}, {"dry-run", NULL, &dry_run}};
    const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
    char *ops[1], who[256], now[32];
    size_t n_ops = 0;
    int rc;
    struct ps_feed_opts fo = {0, NULL, NULL, NULL};
    struct ps_admin_feed_stats st;
    struct ps_feed *feed = NULL;
    struct ps_err err = {0, ""};
    time_t t = time(NULL);

    rc = ps_cli_args(argc, argv, opts, n_opts, ops, 1, &n_ops);
    if (rc == PS_CLI_HELP) {
        usage(stdout);
        return PS_EXIT_OK;
    }
    if (rc != 0)
        return rc;
    rc = PS_EXIT_ERROR;
    if (n_ops != 1) {
        ps_cli_error(argv[0], "which file? (pinsplice feed import FILE --format m365|json)");
        goto done;
    }
    if ((fo.format = ps_feed_format_parse(format)) == 0) {
        ps_cli_error(argv[0], "--format %s: use m365 or json", format != NULL ? format : "missing");
        goto done;
    }
    fo.name = name;
    fo.source = source;
    fo.version = version;
    ps_utc_format((int64_t)t, "%Y-%m-%dT%H:%M:%SZ", now, sizeof(now));
    path = ps_cli_db_path(db);
    if (ps_feed_load(ops[0], &fo, &feed, &err) < 0) {
        ps_cli_error(argv[0], "%s (nothing imported)", err.msg);
        goto done;
    }
    print_skips(argv[0], ops[0], feed);
    ps_admin_os_user(who, sizeof(who));
    memset(&st, 0, sizeof(st));
    if (ps_admin_feed_import_db(path, BUSY_MS, who, feed, now, dry_run, on_change, NULL, &st,
                                &err) < 0) {
        ps_cli_error(argv[0], "%s (nothing imported)", err.msg);
        goto done;
    }
    summary(path, feed, &st, dry_run);
    rc = PS_EXIT_OK;
done:
    ps_feed_free(feed);
    return rc;
}
