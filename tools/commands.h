#ifndef PS_TOOLS_COMMANDS_H
#define PS_TOOLS_COMMANDS_H

/*
 * Subcommands of the pinsplice command, one file each under tools/. Each takes the arguments after
 * its name (argv[0] is the subcommand name) and returns the process exit status:
 * 0 ok, 1 "problems found" where the command defines it, 2 usage or runtime error.
 * argv[0] is the full name ("db init"), for messages. A new subcommand = a function here, its
 * file in tools_pinsplice_SOURCES, and one entry in the table of tools/pinsplice.c.
 */
int ps_cmd_db_init(int argc, char **argv);  /* tools/db_init.c */
int ps_cmd_db_check(int argc, char **argv); /* tools/db_check.c */
int ps_cmd_check(int argc, char **argv);    /* tools/check.c */
int ps_cmd_logscan(int argc, char **argv); /* tools/logscan.c */
int ps_cmd_categories_import(int argc, char **argv); /* tools/categories.c */
int ps_cmd_db_update(int argc, char **argv);         /* tools/db_update.c */
int ps_cmd_db_publish(int argc, char **argv);        /* tools/db_publish.c */
int ps_cmd_sql(int argc, char **argv);               /* tools/sql.c */
int ps_cmd_feed_import(int argc, char **argv);       /* tools/feed.c */

#endif /* PS_TOOLS_COMMANDS_H */
