/*
 * `pinsplice db publish SRC DST`: a consistent copy of the rules database for distribution to a
 * fleet. The copy, check, fsync and rename are lib/admin/admin_publish.c's
 * (ps_admin_publish).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "pinsplice_admin.h"
#include "cli.h"
#include "commands.h"
#include "operands.h"

#define BUSY_MS 10000

int
ps_cmd_db_publish(int argc, char **argv)
{
    char *ops[2], **rest = NULL;
    size_t n_ops = 0;
    int n_rest = 0, rc = PS_EXIT_ERROR;
    long long bytes = 0;
    struct ps_err err = {0, ""};

    if ((rest = calloc((size_t)argc + 1, sizeof(*rest))) == NULL)
        return PS_EXIT_ERROR;
    if (ps_cli_operands(argc, argv, NULL, 0, ops, 2, &n_ops, rest, &n_rest) < 0)
        goto done;
    rc = ps_cli_parse(n_rest, rest, NULL, 0);
    if (rc == PS_CLI_HELP) {
        rc = ps_cli_help(argv[0], stdout);
        goto done;
    }
    if (rc != 0)
        goto done;
    rc = PS_EXIT_ERROR;
    if (n_ops != 2) {
        ps_cli_error(argv[0], "needs SRC and DST (pinsplice db publish SRC DST)");
        goto done;
    }
    if (ps_admin_publish(ops[0], ops[1], BUSY_MS, &bytes, &err) < 0) {
        ps_cli_error(argv[0], "%s (%s unchanged)", err.msg, ops[1]);
        goto done;
    }
    printf("%s: published from %s (%lld bytes)\n", ops[1], ops[0], bytes);
    rc = PS_EXIT_OK;
done:
    free(rest);
    return rc;
}
