/* `pinsplice db init`: create the rules database from the installed SQL (ps_admin_db_init). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#ifndef PS_DATADIR
#define PS_DATADIR "/usr/share/pinsplice"
#endif

int
ps_cmd_db_init(int argc, char **argv)
{
    const char *db = NULL, *dir = getenv("PINSPLICE_SQLDIR");
    bool force = false;
    const struct ps_cli_opt opts[] = {{"db", &db, NULL}, {"force", NULL, &force}};
    struct ps_admin_init in;
    struct ps_admin_init_stats st;
    struct ps_err err = {0, ""};
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    in.path = ps_cli_db_path(db);
    in.sql_dir = dir != NULL && dir[0] != '\0' ? dir : PS_DATADIR;
    in.force = force;
    in.busy_ms = 2000;
    if (ps_admin_db_init(&in, &st, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        return PS_EXIT_ERROR;
    }
    printf("%s: created (schema version %d): %zu enabled rules, %zu domain entries\n", in.path,
           PS_SCHEMA_VERSION, st.rules, st.domains);
    return PS_EXIT_OK;
}
