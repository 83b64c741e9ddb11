/*
 * `pinsplice sql [--db PATH] [SQL...]`: the sqlite3 CLI on the rules database, with the session's
 * OS user recorded in audit.who. The SQL that records it is lib/admin/admin.c's
 * (ps_admin_session_sql): TEMP objects that sqlite3 creates from -cmd on its own connection, so the name is this
 * session's alone and is gone when sqlite3 exits. sqlite3 then replaces this process.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#define BUSY_MS_TEXT "10000" /* as the other commands' BUSY_MS */

/* What an admin types most, shown when the session is interactive. */
static const char banner[] =
    "Views: rule_overview, rule_entries, app_overview (read); add_domain, add_program,\n"
    "add_source, add_category, enable_app, edit_rule, remove_entry, remove_rule,\n"
    "set_setting (INSERT INTO ...); audit. See \"Managing rules\" in the README. .quit ends.\n";

int
ps_cmd_sql(int argc, char **argv)
{
    const char *db_opt = NULL, *path, *sqlite3 = getenv("PINSPLICE_SQLITE3");
    struct ps_cli_opt opts[] = {{"db", &db_opt, NULL}};
    char **ops = NULL, **args = NULL, *session = NULL, who[256];
    size_t n_ops = 0, i, n = 0;
    int rc = PS_EXIT_ERROR;
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    struct ps_err err = {0, ""};

    if ((ops = calloc((size_t)argc + 1, sizeof(*ops))) == NULL ||
        (args = calloc((size_t)argc + 8, sizeof(*args))) == NULL)
        goto done;
    rc = ps_cli_args(argc, argv, opts, 1, ops, (size_t)argc, &n_ops);
    if (rc == PS_CLI_HELP) {
        rc = ps_cli_help(argv[0], stdout);
        goto done;
    }
    if (rc != 0)
        goto done;
    rc = PS_EXIT_ERROR;
    path = ps_cli_db_path(db_opt);
    /* sqlite3 would create a missing file, and the session SQL needs the audit trail. */
    if (ps_admin_session_check(path, &err) < 0) {
        if (err.code == PS_ENOENT)
            ps_cli_error(argv[0], "%s (create it with 'pinsplice db init')", err.msg);
        else
            ps_cli_error(argv[0], "%s", err.msg);
        goto done;
    }
    ps_admin_os_user(who, sizeof(who));
    if (ps_admin_session_sql(who, &session, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        goto done;
    }
    if (sqlite3 == NULL || sqlite3[0] == '\0')
        sqlite3 = "sqlite3";
    args[n++] = (char *)sqlite3;
    /* A script (stdin not a terminal, or SQL operands) stops at its first error: an open
     * transaction is then rolled back, as the README's "Several changes as one" relies on. */
    args[n++] = (char *)(tty && n_ops == 0 ? "-interactive" : "-bail");
    /* Wait for a lock as pinsplice's own writers do (a helper's reload holds a read lock for a
     * moment) instead of failing at once with "database is locked". */
    args[n++] = (char *)"-cmd";
    args[n++] = (char *)".timeout " BUSY_MS_TEXT;
    args[n++] = (char *)"-cmd";
    args[n++] = session;
    args[n++] = (char *)path;
    for (i = 0; i < n_ops; i++)
        args[n++] = ops[i];
    args[n] = NULL;
    if (tty && n_ops == 0)
        fprintf(stderr, "pinsplice sql: %s as %s (recorded in audit.who)\n%s", path, who, banner);
    fflush(NULL);
    execvp(sqlite3, args);
    ps_cli_error(argv[0], "%s: %s%s", sqlite3, strerror(errno),
                 errno == ENOENT ? " (install the sqlite3 package, or set PINSPLICE_SQLITE3)" : "");
done:
    free(session);
    free(args);
    free(ops);
    return rc;
}
