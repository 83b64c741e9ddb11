/*
 * `pinsplice db publish SRC DST`: a consistent copy of the rules database for distribution to a
 * fleet. The copy, check, fsync and rename are lib/admin/admin_publish.c's
 * (ps_admin_publish).
 */
#include "config.h"

#include <stdio.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"

#define BUSY_MS 10000

int
ps_cmd_db_publish(int argc, char **argv)
{
    char *ops[2];
    size_t n_ops = 0;
    long long bytes = 0;
    struct ps_err err = {0, ""};
    int rc = ps_cli_args(argc, argv, NULL, 0, ops, 2, &n_ops);

    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    if (n_ops != 2) {
        ps_cli_error(argv[0], "needs SRC and DST (pinsplice db publish SRC DST)");
        return PS_EXIT_ERROR;
    }
    if (ps_admin_publish(ops[0], ops[1], BUSY_MS, &bytes, &err) < 0) {
        ps_cli_error(argv[0], "%s (%s unchanged)", err.msg, ops[1]);
        return PS_EXIT_ERROR;
    }
    printf("%s: published from %s (%lld bytes)\n", ops[1], ops[0], bytes);
    return PS_EXIT_OK;
}
