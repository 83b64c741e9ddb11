#ifndef PS_TOOLS_OPERANDS_H
#define PS_TOOLS_OPERANDS_H

#include <stddef.h>

struct ps_cli_opt;

/*
 * Split a subcommand's arguments into operands (DIR, SRC DST) and options, so that
 * ps_cli_parse (tools/cli.h), which takes options only, sees the options. Options may come before,
 * between or after the operands; the value of an option that takes one (--map FILE) is not an
 * operand; everything after "--" is an operand. argv[0] is kept as rest[0]. rest must have room for
 * argc + 1 pointers; ops for max_ops. Returns 0 (*n_ops, *n_rest set; rest is NULL-terminated),
 * or -1 after printing "pinsplice CMD: unexpected argument 'X'" when there are more than max_ops.
 */
int ps_cli_operands(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts, char **ops,
                    size_t max_ops, size_t *n_ops, char **rest, int *n_rest);

#endif /* PS_TOOLS_OPERANDS_H */
