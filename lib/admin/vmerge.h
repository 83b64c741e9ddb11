#ifndef PS_LIB_VMERGE_H
#define PS_LIB_VMERGE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The vendor merge of `pinsplice db update`, as SQL text only: lib/admin/admin_update.c runs these
 * statements, in order, inside the update's transaction (this file makes no SQLite call). They
 * expect the target DB as `main` and the new vendor DB (schema.sql + vendor.sql + defaults.sql)
 * attached as `v`, and work in temp tables named vm_*. See ps_admin_update() in
 * lib/admin/admin.h for what the merge promises; the comments in lib/admin/vmerge.c say how each
 * statement keeps it.
 */

struct ps_vmerge_stmt {
    const char *what; /* for error messages: "deleting vendor rules the vendor dropped" */
    bool needs_audit; /* run only when main has sql/audit.sql's audit table */
    const char *sql;  /* one or more statements */
};

/* The statements, in order. *n: how many. */
const struct ps_vmerge_stmt *ps_vmerge_stmts(size_t *n);

/* After the statements: one row per report line, columns kind, owner, item, op, local, vendor,
 * local present, vendor present (see struct ps_admin_change), in a stable order. */
extern const char ps_vmerge_report_sql[];

#endif /* PS_LIB_VMERGE_H */
