#ifndef PS_TESTS_UNIT_FIXTURE_H
#define PS_TESTS_UNIT_FIXTURE_H

struct ps_snapshot;

/* Create a temporary rules DB: schema.sql (and, with defaults, audit.sql + manage.sql + vendor.sql
 * + defaults.sql) from $PS_SQLDIR (set by make check), then extra_sql. Returns a malloc'd path; aborts the test on
 * error. fx_remove() deletes it and frees the path. */
char *fx_db(const char *extra_sql, int with_defaults);
void fx_remove(char *path);

/* Run SQL on an existing DB (aborts on error unless may_fail; returns 0 or -1). */
int fx_exec(const char *path, const char *sql, int may_fail);

/* Load a snapshot from a fresh DB built as fx_db() does (the DB is removed again). */
struct ps_snapshot *fx_snapshot(const char *extra_sql, int with_defaults);

#endif
