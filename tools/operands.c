/* Operands of subcommands (tools/operands.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "operands.h"

/* Does "--name" (without "=value") name an option that takes a value? */
static int
takes_value(const char *arg, const struct ps_cli_opt *opts, size_t n)
{
    size_t i;

    if (strchr(arg, '=') != NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(arg + 2, opts[i].name) == 0)
            return opts[i].value != NULL;
    return 0;
}

int
ps_cli_operands(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts, char **ops,
                size_t max_ops, size_t *n_ops, char **rest, int *n_rest)
{
    int i, nr = 0;
    size_t no = 0;
    int only_operands = 0;

    rest[nr++] = argv[0];
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_operands && strcmp(a, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (!only_operands && strncmp(a, "--", 2) == 0) {
            rest[nr++] = argv[i];
            if (takes_value(a, opts, n_opts) && i + 1 < argc)
                rest[nr++] = argv[++i];
            continue;
        }
        if (!only_operands && strcmp(a, "-h") == 0) {
            rest[nr++] = argv[i];
            continue;
        }
        if (no == max_ops) {
            fprintf(stderr, "pinsplice %s: unexpected argument '%s'\nTry 'pinsplice help %s'.\n",
                    argv[0], a, argv[0]);
            return -1;
        }
        ops[no++] = argv[i];
    }
    rest[nr] = NULL;
    *n_ops = no;
    *n_rest = nr;
    return 0;
}
