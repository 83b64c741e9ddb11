#ifndef PS_LIB_LOGMODEL_H
#define PS_LIB_LOGMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ps_logfind_opts;
struct ps_logtab;

/*
 * The report model every renderer reads: the report options, a table's rows in report order,
 * and the display forms of times, keys and log bytes. The renderers (logtext.c, logcsv.c,
 * logjson.c, and logfind.c's SQL) include this header and never logreport.h, so the dependency
 * runs one way: logreport.c -> the renderers -> logmodel.c.
 */

enum ps_logreport_format {
    PS_LOGREPORT_TEXT = 0,
    PS_LOGREPORT_JSON,
    PS_LOGREPORT_CSV,
};

enum ps_logreport_table {
    PS_LOGREPORT_NAMES = 0, /* every server name with its counters */
    PS_LOGREPORT_CLIENTS,
    PS_LOGREPORT_RULES,
    PS_LOGREPORT_FINDINGS, /* names with abandoned bumped connections */
};

struct ps_logreport_opts {
    enum ps_logreport_format format;
    enum ps_logreport_table table;      /* for CSV */
    size_t top;                         /* rows per top list (0: all) */
    bool all;                           /* findings: list names below the thresholds too */
    const struct ps_logfind_opts *find; /* the thresholds used, shown in the report */
    const char *db;                     /* rules DB the findings were compared with, or NULL */
    const char *db_note;                /* when db is NULL: why ("not given", a load error) */
};

/* One row of a table, for sorting. */
struct ps_logmodel_row {
    const char *key;
    size_t len;
    const void *value;
};
enum ps_logmodel_order {
    PS_ORDER_SPLICED, /* names: spliced connections */
    PS_ORDER_BUMPED,  /* names: bumped connections */
    PS_ORDER_CONNS,   /* names or clients: all connections, then requests */
    PS_ORDER_RULE,    /* rules: all connections */
    PS_ORDER_MONITOR, /* monitor rules: connections they matched */
};
/*
 * The rows of table t sorted by order (descending, then by key), keeping only rows with a
 * non-zero sort value (all rows for PS_ORDER_CONNS). *rows is a new array (caller frees; NULL
 * when *n is 0). Returns 0 or PS_ENOMEM.
 */
int ps_logmodel_rows(const struct ps_logtab *t, enum ps_logmodel_order order,
                     struct ps_logmodel_row **rows, size_t *n);

/* "2026-11-26 22:27:46" (UTC; iso: "2026-11-26T22:27:46.123Z"), "-" for 0. Returns buf. */
const char *ps_logmodel_time(int64_t ms, bool iso, char buf[32]);

/* Write s[0..n) with bytes outside printable ASCII as \xHH (and '\' as \\). */
void ps_logmodel_text(FILE *out, const char *s, size_t n);

/* Display form of a name or rule key: special keys ("\001noname") become "(no name)" etc. */
const char *ps_logmodel_key(const char *key, size_t *len);

/* Sum of an action-indexed array. */
uint64_t ps_logmodel_sum(const uint64_t *v, size_t n);

#endif /* PS_LIB_LOGMODEL_H */
