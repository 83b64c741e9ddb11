#ifndef PS_TOOLS_CLI_H
#define PS_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ps_err;

/* Exit status of every pinsplice subcommand (documented in pinsplice(1), EXIT STATUS). */
#define PS_EXIT_OK 0       /* done; `db check`: no findings */
#define PS_EXIT_PROBLEMS 1 /* `db check`: findings were reported */
#define PS_EXIT_ERROR 2    /* usage error, or the command could not do its job */
#define PS_EXIT_UNJUDGED 3 /* `logscan`: the records could not be judged (no pinsplice format) */

/* One option of a subcommand: --NAME VALUE / --NAME=VALUE when value is set, --NAME when flag is.
 */
struct ps_cli_opt {
    const char *name; /* without the leading "--" */
    const char **value;
    bool *flag;
};

/* ps_cli_parse's answer when the user asked for --help / -h. */
#define PS_CLI_HELP 1

/*
 * Parse the options of a subcommand. argv[0] is the subcommand's full name ("db init"), used in
 * messages. Every argument must be an option of opts ("--" ends the options; nothing may follow
 * it, as no subcommand of this file takes operands); an option given twice is an error.
 * Returns 0 (the value/flag pointers are set), PS_CLI_HELP, or PS_EXIT_ERROR after printing
 * "pinsplice CMD: unknown option '--x'" (or similar) and a usage hint to stderr.
 */
int ps_cli_parse(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts);

/*
 * ps_cli_operands (tools/operands.h) then ps_cli_parse, for a subcommand that takes operands: up
 * to max_ops of them into ops (*n_ops: how many), the options as ps_cli_parse sets them. Returns
 * 0, PS_CLI_HELP, or PS_EXIT_ERROR (the message printed, or out of memory).
 */
int ps_cli_args(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts, char **ops,
                size_t max_ops, size_t *n_ops);

/* Print the help of subcommand cmd ("db init") to out from the command table (tools/pinsplice.c).
 * Returns PS_EXIT_OK, or PS_EXIT_ERROR for an unknown command. */
int ps_cli_help(const char *cmd, FILE *out);

/* The rules DB path: opt (from --db) when not NULL, else $PINSPLICE_DB when set and not empty, else
 * the compiled-in default PS_LOCALSTATEDIR "/lib/pinsplice/rules.db". Never NULL. */
const char *ps_cli_db_path(const char *opt);

/* Print "pinsplice CMD: MESSAGE\n" to stderr. */
void ps_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write s for a terminal, without quotes: control bytes (C0, DEL, C1) and invalid UTF-8 as \xNN,
 * '\' as "\\", valid UTF-8 copied, so a rule name from the database cannot drive the terminal. */
void ps_cli_text_str(FILE *out, const char *s);

/* Write s as a JSON string with its quotes ("null" when s is NULL): '"', '\\' and control
 * characters escaped, valid UTF-8 copied, each byte of invalid UTF-8 written as \ufffd, so the
 * output is valid JSON whatever the database holds. */
void ps_cli_json_str(FILE *out, const char *s);

/* Format a Unix time as "YYYY-MM-DD HH:MM:SS UTC" into out. */
void ps_cli_utc(long long t, char out[32]);

#endif /* PS_TOOLS_CLI_H */
