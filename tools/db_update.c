/*
 * `pinsplice db update`: apply a newer vendor catalogue and default rules to an existing database,
 * keeping every local decision. The merge is lib/admin/admin_update.c's (ps_admin_update); this
 * file finds the SQL, prints the report and maps the result to an exit status.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#ifndef PS_DATADIR
#define PS_DATADIR "/usr/share/pinsplice"
#endif

#define BUSY_MS 10000

struct paths {
    char schema[PATH_MAX], vendor[PATH_MAX], defaults[PATH_MAX], manage[PATH_MAX], audit[PATH_MAX];
};

/* DIR/name into out; must be readable unless optional (then "" when missing). */
static int
sql_path(const char *cmd, const char *dir, const char *name, bool optional, char out[PATH_MAX])
{
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
        ps_cli_error(cmd, "%s: path too long", dir);
        return -1;
    }
    if (access(out, R_OK) == 0)
        return 0;
    if (optional && errno == ENOENT) {
        out[0] = '\0';
        return 0;
    }
    ps_cli_error(cmd, "%s: %s (--from or PINSPLICE_SQLDIR names the SQL directory)", out,
                 strerror(errno));
    return -1;
}

static const char *
kind_word(const char *kind)
{
    static const char *const words[][2] = {
        {"rule_domain", "domain"}, {"rule_program", "program"}, {"rule_category", "category"},
        {"rule_source", "source"}, {"app_domain", "domain"},    {"app_program", "program"},
    };
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(kind, words[i][0]) == 0)
            return words[i][1];
    return kind;
}

/* "rule 'X'", "app 'Y'", "category 'Z'", "setting 'k'". */
static void
owner(FILE *f, const struct ps_admin_change *c)
{
    const char *o = strncmp(c->kind, "rule", 4) == 0  ? "rule"
                    : strncmp(c->kind, "app", 3) == 0 ? "app"
                                                      : c->kind;

    fprintf(f, "%s '%s'", o, c->owner);
}

static void
on_change(const struct ps_admin_change *c, void *ud)
{
    bool whole = strcmp(c->item, "exists") == 0;
    bool field = !whole && (strcmp(c->kind, "rule") == 0 || strcmp(c->kind, "app") == 0 ||
                            strcmp(c->kind, "category") == 0);

    (void)ud;
    printf("%-8s ", c->op);
    owner(stdout, c);
    if (strcmp(c->op, "conflict") == 0) {
        printf(": a local %s has this name; the vendor's is not applied\n",
               strncmp(c->kind, "app", 3) == 0 ? "app" : "rule");
        return;
    }
    if (whole) {
        if (strcmp(c->op, "keep") == 0)
            printf(": the vendor no longer ships it; kept because you changed it\n");
        else
            putchar('\n');
        return;
    }
    if (field)
        printf(": %s", c->item);
    else
        printf(": %s %s", kind_word(c->kind), c->item);
    if (strcmp(c->op, "keep") == 0 && !c->has_local)
        printf(": you removed it; it stays removed");
    else if (strcmp(c->op, "keep") == 0 && !c->has_vendor)
        printf(": the vendor no longer ships it; yours is kept");
    else if (strcmp(c->op, "keep") == 0 && field)
        printf(" = %s (yours, kept; vendor: %s)", c->local ? c->local : "NULL",
               c->vendor ? c->vendor : "NULL");
    else if (strcmp(c->op, "keep") == 0)
        printf(" (yours, kept: %s; vendor: %s)", c->local ? c->local : "NULL",
               c->vendor ? c->vendor : "NULL");
    else if (field && strcmp(c->op, "update") == 0)
        printf(" = %s (was %s)", c->vendor ? c->vendor : "NULL", c->local ? c->local : "NULL");
    putchar('\n');
}

static int
report(const char *cmd, const char *path, const char *dir, bool dry_run,
       const struct ps_admin_update_stats *st)
{
    struct ps_snapshot *snap = NULL;
    struct ps_snapshot_stats ss;
    struct ps_err err = {0, ""};

    if (st->from_version != st->to_version)
        printf("%s: schema migrated from version %d to %d\n", path, st->from_version,
               st->to_version);
    if (st->manage_applied)
        printf("%s: applied %s/manage.sql (views, triggers, audit)\n", path, dir);
    printf("%s: %s %s: %lld added, %lld removed, %lld updated, %lld local values kept, "
           "%lld conflicts%s\n",
           path, dry_run ? "would update from" : "updated from", dir, st->added, st->removed,
           st->updated, st->kept, st->conflicts,
           st->had_base ? ""
                        : " (first update: no record of the earlier vendor data, so nothing "
                          "the vendor dropped was removed)");
    if (dry_run)
        return PS_EXIT_OK;
    if (ps_store_load(path, BUSY_MS, &snap, &err) < 0) {
        ps_cli_error(cmd, "updated %s, but it does not load: %s", path, err.msg);
        return PS_EXIT_ERROR;
    }
    ps_snapshot_stats(snap, &ss);
    printf("%s: %zu enabled rules, %zu domain entries\n", path, ss.rules, ss.domains);
    ps_snapshot_release(snap);
    return PS_EXIT_OK;
}

int
ps_cmd_db_update(int argc, char **argv)
{
    const char *db = NULL, *from = NULL, *path, *dir;
    bool dry_run = false;
    const struct ps_cli_opt opts[] = {
        {"db", &db, NULL}, {"from", &from, NULL}, {"dry-run", NULL, &dry_run}};
    struct ps_admin_update_stats st;
    struct ps_admin_sql sql;
    struct ps_err err = {0, ""};
    struct paths p;
    char who[256];
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    path = ps_cli_db_path(db);
    dir = from != NULL ? from : getenv("PINSPLICE_SQLDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = PS_DATADIR;
    if (sql_path(argv[0], dir, "schema.sql", false, p.schema) < 0 ||
        sql_path(argv[0], dir, "vendor.sql", false, p.vendor) < 0 ||
        sql_path(argv[0], dir, "defaults.sql", false, p.defaults) < 0 ||
        sql_path(argv[0], dir, "audit.sql", true, p.audit) < 0 ||
        sql_path(argv[0], dir, "manage.sql", true, p.manage) < 0)
        return PS_EXIT_ERROR;
    sql.schema = p.schema;
    sql.vendor = p.vendor;
    sql.defaults = p.defaults;
    sql.manage = p.manage[0] != '\0' ? p.manage : NULL;
    sql.audit = p.audit[0] != '\0' ? p.audit : NULL;
    ps_admin_os_user(who, sizeof(who));
    if (ps_admin_update(path, BUSY_MS, &sql, who, dry_run, on_change, NULL, &st, &err) < 0) {
        ps_cli_error(argv[0], "%s (nothing changed)", err.msg);
        return PS_EXIT_ERROR;
    }
    return report(argv[0], path, dir, dry_run, &st);
}
