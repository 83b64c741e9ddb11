/*
 * pinsplice: the admin's command. This file only dispatches: each subcommand is a function in its
 * own file (tools/commands.h) and one entry of the table below, which also carries its help.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "pinsplice.h"

#ifndef PS_DATADIR
#define PS_DATADIR "/usr/share/pinsplice"
#endif
#ifndef PS_LOCALSTATEDIR
#define PS_LOCALSTATEDIR "/var"
#endif

struct command {
    const char *group; /* "db" for `pinsplice db init`; NULL for a one-word command */
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;    /* synopsis after the name */
    const char *summary; /* one line for the command list */
    const char *help;    /* the rest of the help text; NULL: the command answers --help itself */
};

#define DB_OPT                                                                                     \
    "  --db PATH      the rules database (default: $PINSPLICE_DB, else\n"                          \
    "                 " PS_LOCALSTATEDIR "/lib/pinsplice/rules.db)\n"

static const struct command commands[] = {
    {"db", "init", ps_cmd_db_init, "[--db PATH] [--force]",
     "create the rules database from the installed SQL",
     "Create the rules database from schema.sql, vendor.sql and defaults.sql (in\n"
     "$PINSPLICE_SQLDIR, default " PS_DATADIR "), in one transaction, in a temporary\n"
     "file renamed into place. The parent directory is created (mode 0755) if missing;\n"
     "the database gets mode 0644 so Squid's helper user can read it.\n\n"
     "Options:\n" DB_OPT "  --force        replace an existing database (its rules are lost)\n"},
    {"db", "check", ps_cmd_db_check, "[--db PATH] [--json | --as USER]",
     "report broken, dangerous, duplicate and shadowed rule entries",
     "Check the rules database: names the matcher cannot use, entries on a public suffix,\n"
     "duplicate and shadowed entries, rules with no entries, bad sources, unknown\n"
     "categories, expired rules. One line per finding:\n"
     "  PATH: rule 'NAME': SEVERITY: MESSAGE [CHECK]\n"
     "With --as USER (as root), first check as USER (Squid's helper user, c-icap's\n"
     "User) that every directory up to the DB can be entered, that the DB, its journal,\n"
     "-wal and -shm can be read, and that the rules load:\n"
     "  PATH: as USER: FILE: ok (read) | absent | error: ...\n"
     "Exit status: 0 no findings, 1 findings (or USER cannot load the rules), 2 error.\n\n"
     "Options:\n" DB_OPT "  --json         print one JSON object instead of text\n"
     "  --as USER      report whether USER can read and load the DB\n"},
    {NULL, "check", ps_cmd_check,
     "[--db PATH] [--sni NAME] [--host NAME[:PORT]] [--src IP] [--user USER] [--program P] "
     "[--verify] [--json]",
     "show the decision for one connection and why",
     "Load the rules as the helper does and decide one connection: the action, the rule\n"
     "(name and id) or the default, the entry that matched in each dimension, the reason\n"
     "code, the server name as normalised, and the rule's expiry. Unicode names are\n"
     "converted to A-labels as for a real connection. A splice of an IP-literal --host by\n"
     "a name rule needs a server check first (settings splice_verify): it is shown, and\n"
     "--verify runs it (one TLS handshake to that address) and prints the certificate.\n\n"
     "Options:\n" DB_OPT "  --sni NAME     TLS server name indication\n"
     "  --host NAME    CONNECT host, optionally with :PORT ([v6]:PORT for IPv6)\n"
     "  --src IP       client address\n"
     "  --user USER    proxy user name\n"
     "  --program P    client program name or path (believed only from\n"
     "                 settings.program_trusted_sources)\n"
     "  --verify       run the server check the decision needs, if any\n"
     "  --json         print one JSON object instead of text\n"},
    {NULL, "logscan", ps_cmd_logscan, "[OPTIONS] FILE...",
     "report what was spliced and find apps that break under bumping (access.log)", NULL},
    {"db", "update", ps_cmd_db_update, "[--from DIR] [--db PATH] [--dry-run]",
     "apply a newer vendor catalogue and default rules, keeping local changes",
     "Apply the vendor catalogue and default rules of the installed SQL (schema.sql,\n"
     "vendor.sql, defaults.sql, and manage.sql when present) to an existing database,\n"
     "in one transaction: the schema is migrated (PRAGMA user_version), new apps and\n"
     "rules are added, vendor entries refreshed, and every local decision kept: a\n"
     "default rule you disabled stays disabled, a field or entry you changed or\n"
     "deleted stays as you left it, rules and apps of origin 'local' are never\n"
     "touched. One line per change, kept value and conflict; then a summary.\n"
     "What the vendor shipped is recorded in the table vendor_base for the next\n"
     "update. Without it (the first update) nothing the vendor dropped is removed,\n"
     "and a value is refreshed only when the audit trail shows nobody changed it.\n\n"
     "Options:\n" DB_OPT
     "  --from DIR     the new SQL (default: $PINSPLICE_SQLDIR, else\n"
     "                 " PS_DATADIR ")\n"
     "  --dry-run      report what would change, change nothing\n"},
    {"db", "publish", ps_cmd_db_publish, "SRC DST",
     "write a consistent copy of the database for a fleet of proxies",
     "Write a consistent copy of the rules database SRC to DST: VACUUM INTO a\n"
     "temporary file beside DST (one read transaction: an edit in progress is in it\n"
     "whole or not at all), checked by loading it as the helper does, fsync'd, mode\n"
     "0644, then renamed over DST. Helpers and services reading DST see a new file\n"
     "and reload it within their reload interval. Distribute DST the same way\n"
     "(copy beside, then rename). SRC is only read; DST is untouched on error.\n"},
    {"categories", "import", ps_cmd_categories_import, "DIR [--map FILE] [--db PATH]",
     "import squidGuard / UT1 category lists into category_domains", NULL},
    {NULL, "sql", ps_cmd_sql, "[--db PATH] [SQL...]",
     "open the sqlite3 CLI on the database, your OS user recorded in the audit",
     "Run sqlite3 on the rules database with the management views of \"Managing rules\"\n"
     "(README) and the audit trail, and with your OS user (\"root (sudo by alice)\" under\n"
     "sudo) written into audit.who for every change of this session, and of this\n"
     "session only: the name is kept in TEMP objects of sqlite3's connection, never in\n"
     "the database, so another session (at the same time or later) records its own user,\n"
     "and a plain sqlite3 session records none. SQL operands are run in order instead of\n"
     "the interactive shell; a script on stdin, or operands, stop at the first error.\n"
     "The exit status is sqlite3's (2 when it cannot be started). The database must\n"
     "exist (pinsplice db init). PINSPLICE_SQLITE3 names another sqlite3 binary.\n\n"
     "Options:\n" DB_OPT},
    {"feed", "import", ps_cmd_feed_import, "FILE --format m365|json [--dry-run] [--db PATH]",
     "turn a vendor's endpoint list (JSON) into catalogue apps", NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
full_name(const struct command *c, char *buf, size_t size)
{
    if (c->group != NULL)
        snprintf(buf, size, "%s %s", c->group, c->name);
    else
        snprintf(buf, size, "%s", c->name);
}

static void
usage(FILE *out)
{
    char name[64];
    size_t i;

    fputs("Usage: pinsplice COMMAND [OPTIONS]\n"
          "       pinsplice help [COMMAND]\n"
          "       pinsplice --help | --version\n\n"
          "Tell Squid, per TLS connection, whether to splice, bump or terminate it, from the\n"
          "rules in a SQLite database.\n\n"
          "Commands:\n",
          out);
    for (i = 0; i < N_COMMANDS; i++) {
        full_name(&commands[i], name, sizeof(name));
        fprintf(out, "  %-18s %s\n", name, commands[i].summary);
    }
    fputs("\nEnvironment:\n"
          "  PINSPLICE_DB      the rules database when --db is not given (default\n"
          "                    " PS_LOCALSTATEDIR "/lib/pinsplice/rules.db)\n"
          "  PINSPLICE_SQLDIR  where db init and db update find the SQL (default " PS_DATADIR ")\n\n"
          "See pinsplice(1).\n",
          out);
}

/* The command named by args[0] (and args[1] for a group), or NULL; *words: how many it used. */
static const struct command *
lookup(int nargs, char **args, int *words)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        const struct command *c = &commands[i];
        if (c->group == NULL && nargs >= 1 && strcmp(args[0], c->name) == 0) {
            *words = 1;
            return c;
        }
        if (c->group != NULL && nargs >= 2 && strcmp(args[0], c->group) == 0 &&
            strcmp(args[1], c->name) == 0) {
            *words = 2;
            return c;
        }
    }
    return NULL;
}

static bool
is_group(const char *word)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++)
        if (commands[i].group != NULL && strcmp(commands[i].group, word) == 0)
            return true;
    return false;
}

/* The commands of a group, one per line. */
static void
group_list(FILE *out, const char *group)
{
    char name[64];
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        if (commands[i].group == NULL || strcmp(commands[i].group, group) != 0)
            continue;
        full_name(&commands[i], name, sizeof(name));
        fprintf(out, "  pinsplice %-11s %s\n", name, commands[i].summary);
    }
}

/* "pinsplice db" alone or with an unknown word. */
static int
group_error(const char *group, const char *word)
{
    if (word != NULL)
        fprintf(stderr, "pinsplice %s: unknown command '%s'\n", group, word);
    else
        fprintf(stderr, "pinsplice %s: which command?\n", group);
    group_list(stderr, group);
    return PS_EXIT_ERROR;
}

static int
unknown(const char *word)
{
    fprintf(stderr, "pinsplice: unknown command '%s'\nTry 'pinsplice --help'.\n", word);
    return PS_EXIT_ERROR;
}

/* Run c with argv[0] replaced by its full name. */
static int
run(const struct command *c, int argc, char **argv)
{
    char name[64];
    char **av = NULL;
    int i, rc;

    full_name(c, name, sizeof(name));
    if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL) {
        fprintf(stderr, "pinsplice %s: out of memory\n", name);
        return PS_EXIT_ERROR;
    }
    av[0] = name;
    for (i = 1; i < argc; i++)
        av[i] = argv[i];
    rc = c->run(argc, av);
    free(av);
    return rc;
}

int
ps_cli_help(const char *cmd, FILE *out)
{
    char name[64];
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        full_name(&commands[i], name, sizeof(name));
        if (strcmp(name, cmd) != 0 || commands[i].help == NULL)
            continue;
        fprintf(out, "Usage: pinsplice %s %s\n\n%s", name, commands[i].args, commands[i].help);
        return PS_EXIT_OK;
    }
    return PS_EXIT_ERROR;
}

/* `pinsplice help [COMMAND...]` */
static int
help(int nargs, char **args)
{
    static char help_arg[] = "--help";
    const struct command *c;
    char name[64], *av[2];
    int words;

    if (nargs == 0) {
        usage(stdout);
        return PS_EXIT_OK;
    }
    c = lookup(nargs, args, &words);
    if (c == NULL && nargs == 1 && is_group(args[0])) {
        group_list(stdout, args[0]);
        return PS_EXIT_OK;
    }
    if (c == NULL)
        return is_group(args[0]) ? group_error(args[0], args[1]) : unknown(args[0]);
    if (words < nargs) {
        fprintf(stderr, "pinsplice help: unexpected argument '%s'\n", args[words]);
        return PS_EXIT_ERROR;
    }
    if (c->help == NULL) {
        av[0] = args[words - 1];
        av[1] = help_arg;
        return run(c, 2, av);
    }
    full_name(c, name, sizeof(name));
    return ps_cli_help(name, stdout);
}

static void
log_stderr(int level, const char *msg, void *ud)
{
    fprintf(stderr, "pinsplice: %s%s\n", level <= PS_LOG_ERROR ? "error: " : "", msg);
}

int
main(int argc, char **argv)
{
    const struct command *c;
    int words;

    ps_log_set(log_stderr, NULL, PS_LOG_WARN);
    if (argc < 2) {
        usage(stderr);
        return PS_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return PS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pinsplice %s\n", PACKAGE_VERSION);
        return PS_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0)
        return help(argc - 2, argv + 2);
    c = lookup(argc - 1, argv + 1, &words);
    if (c == NULL)
        return is_group(argv[1]) ? group_error(argv[1], argc > 2 ? argv[2] : NULL)
                                 : unknown(argv[1]);
    return run(c, argc - words, argv + words);
}
